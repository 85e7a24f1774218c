"""One training loop for both stages: fine-tuning the teacher (hard labels) and distilling the student
(KL to the teacher's temperature-softened logits plus cross-entropy on the hard labels)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from training.dataset import Split, length_batches

__all__ = ["UNLABELLED", "Distillation", "TrainResult", "predict_logits", "train_classifier"]

#: Label id of a distillation-only example (teacher soft targets, no hard label).
UNLABELLED = -100


@dataclass(frozen=True)
class Distillation:
    """Soft targets (teacher logits aligned with the training split) and the loss mix."""

    teacher_logits: npt.NDArray[np.float32]
    temperature: float
    alpha: float


@dataclass(frozen=True)
class TrainResult:
    steps: int
    seconds: float
    final_loss: float


def _encode(tokenizer: Any, texts: Sequence[str], max_len: int) -> list[list[int]]:
    ids: list[list[int]] = tokenizer(list(texts), truncation=True, max_length=max_len)["input_ids"]
    return ids


def _pad(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


def train_classifier(
    model: Any,
    tokenizer: Any,
    split: Split,
    *,
    max_len: int,
    batch_size: int,
    steps: int,
    lr: float,
    seed: int,
    warmup_ratio: float = 0.1,
    distillation: Distillation | None = None,
    bf16: bool = False,
    desc: str = "train",
) -> TrainResult:
    """Train ``model`` in place for ``steps`` optimizer steps over length-bucketed batches.

    Rows labelled :data:`UNLABELLED` contribute only the distillation term (``distillation`` required).

    ``bf16`` runs forward and backward under CPU bfloat16 autocast (weights, optimizer state and losses
    stay fp32): 2.0x faster for the MPNet teacher on this AVX512-BF16 machine (2.46 -> 1.23 s per step).
    """
    import time

    import torch
    import torch.nn.functional as F
    from transformers import get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    rng = random.Random(seed)
    encoded = _encode(tokenizer, split.texts, max_len)
    labels = torch.tensor(split.labels, dtype=torch.long)
    if distillation is None and bool((labels == UNLABELLED).any()):
        raise ValueError("unlabelled rows need a distillation target")
    soft = torch.from_numpy(distillation.teacher_logits) if distillation else None
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    warmup = math.ceil(steps * warmup_ratio)
    schedule = get_linear_schedule_with_warmup(optimizer, warmup, steps)  # type: ignore[no-untyped-call]
    model.train()
    start, step, loss_value = time.perf_counter(), 0, float("nan")
    with tqdm(total=steps, desc=desc, unit="step") as bar:
        while step < steps:
            for batch in length_batches([len(e) for e in encoded], batch_size, rng):
                if step >= steps:
                    break
                ids, mask = _pad([encoded[i] for i in batch], tokenizer.pad_token_id)
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    logits = model(input_ids=ids, attention_mask=mask).logits.float()
                hard = labels[batch]
                known = hard != UNLABELLED
                # Mean over labelled rows only; a batch of transfer narrations has no hard-label term.
                loss = (
                    F.cross_entropy(logits[known], hard[known]) if bool(known.any()) else 0.0 * logits.sum()
                )
                if distillation is not None and soft is not None:
                    t = distillation.temperature
                    kd = F.kl_div(
                        F.log_softmax(logits / t, dim=-1),
                        F.log_softmax(soft[batch] / t, dim=-1),
                        log_target=True,
                        reduction="batchmean",
                    )
                    loss = distillation.alpha * kd * t * t + (1 - distillation.alpha) * loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                step += 1
                loss_value = 0.9 * loss_value + 0.1 * loss.item() if step > 1 else loss.item()
                bar.set_postfix(loss=f"{loss_value:.4f}")
                bar.update(1)
    model.eval()
    return TrainResult(step, time.perf_counter() - start, loss_value)


def predict_logits(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_len: int,
    batch_size: int = 128,
    bf16: bool = False,
    desc: str = "predict",
) -> npt.NDArray[np.float32]:
    """Logits in input order (batches are length-bucketed internally); ``bf16`` as in training."""
    import torch

    model.eval()
    encoded = _encode(tokenizer, texts, max_len)
    out = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    batches = list(length_batches([len(e) for e in encoded], batch_size))
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for batch in tqdm(batches, desc=desc, unit="batch"):
            ids, mask = _pad([encoded[i] for i in batch], tokenizer.pad_token_id)
            out[batch] = model(input_ids=ids, attention_mask=mask).logits.float().numpy()
    return out
