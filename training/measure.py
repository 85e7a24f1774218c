"""Runtime measurements of an ONNX model: batch invariance and raw throughput (texts/s)."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.lexical import LexicalModel
from service.tokenization import TokenIds
from training.runtime import OnnxClassifier, softmax

__all__ = ["Throughput", "batch_invariance", "throughput"]


def batch_invariance(model: OnnxClassifier, texts: Sequence[str], seed: int, max_batch: int = 64) -> float:
    """Max |delta probability| of any text scored alone vs inside random batches of mixed lengths."""
    rows = model.encode(texts)
    alone = np.concatenate([softmax(model.run_ids([row])) for row in rows])
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    batched = np.zeros_like(alone)
    start = 0
    while start < len(order):
        size = rng.randint(2, max_batch)
        batch = order[start : start + size]
        batched[batch] = softmax(model.run_ids([rows[i] for i in batch]))
        start += size
    return float(np.abs(alone - batched).max())


@dataclass(frozen=True)
class Throughput:
    bucketed_texts_per_s: float
    unsorted_texts_per_s: float
    single_text_ms: float
    batch_size: int
    mean_tokens: float


def _rate(model: OnnxClassifier, batches: Sequence[Sequence[TokenIds]], repeats: int) -> float:
    best = 0.0
    n = sum(len(b) for b in batches)
    for _ in range(repeats):
        start = time.perf_counter()
        for batch in batches:
            model.run_ids(batch)
        best = max(best, n / (time.perf_counter() - start))
    return best


def throughput(
    model: OnnxClassifier, texts: Sequence[str], batch_size: int = 32, repeats: int = 3
) -> Throughput:
    """Best-of-``repeats`` texts/s on real narrations, tokenizer time excluded (raw ORT).

    ``bucketed``: batches of similar length (what the service's length-bucketing batcher feeds);
    ``unsorted``: batches in arrival order, padded to their longest member.
    """
    rows = model.encode(texts)
    by_length = sorted(rows, key=len)
    bucketed = [by_length[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    unsorted = [rows[i : i + batch_size] for i in range(0, len(rows), batch_size)]
    model.run_ids(bucketed[0])  # warm-up
    singles = rows[:200]
    start = time.perf_counter()
    for row in singles:
        model.run_ids([row])
    single_ms = 1000 * (time.perf_counter() - start) / len(singles)
    return Throughput(
        round(_rate(model, bucketed, repeats), 1),
        round(_rate(model, unsorted, repeats), 1),
        round(single_ms, 3),
        batch_size,
        round(float(np.mean([len(r) for r in rows])), 2),
    )


def lexical_cost(lexical: LexicalModel, texts: Sequence[str], repeats: int = 3) -> dict[str, Any]:
    """What a bundle's lexical model adds per text (best of ``repeats``, one thread, Python), beside
    ``throughput``, which times the ONNX model alone."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        lexical.logits(texts)
        best = min(best, time.perf_counter() - start)
    return {
        "features": len(lexical.vocabulary),
        "microseconds_per_text": round(1e6 * best / len(texts), 1),
        "student_weight": round(lexical.student_weight, 4),
        "lexical_weight": round(lexical.lexical_weight, 4),
    }
