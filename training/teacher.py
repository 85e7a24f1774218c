"""Teacher stage: fine-tune the large encoder on the training split, then record its logits on the
distillation set and the held-out test set (computed once, cached by config hash)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.base_models import load_classifier, resolve_base
from training.config import BuildConfig
from training.dataset import Splits
from training.trainer import predict_logits, train_classifier

__all__ = ["TeacherResult", "run_teacher"]


@dataclass(frozen=True)
class TeacherResult:
    name: str
    directory: Path
    distill_logits: npt.NDArray[np.float32]
    test_logits: npt.NDArray[np.float32]
    train_seconds: float
    cached: bool


def run_teacher(config: BuildConfig, splits: Splits) -> TeacherResult:
    """Fine-tune (or reuse the cached) teacher and return its logits on train[:distill_size] and test."""
    from transformers import AutoTokenizer

    tc = config.teacher
    work = Path(config.work_dir)
    base_dir, base_name = resolve_base(tc.base, work)
    key = config.stage_key(config.data, tc, splits.source)
    cache = work / "cache" / f"teacher-{key}"
    meta_path = cache / "meta.json"
    distill = splits.train.take(tc.distill_size)
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        logits = np.load(cache / "logits.npz")
        return TeacherResult(
            meta["name"], cache / "model", logits["distill"], logits["test"], meta["train_seconds"], True
        )

    tokenizer = AutoTokenizer.from_pretrained(base_dir)  # type: ignore[no-untyped-call]
    model = load_classifier(base_dir, tc.layers)
    if tc.freeze_layers:
        frozen = [model.base_model.embeddings, *model.base_model.encoder.layer[: tc.freeze_layers]]
        for module in frozen:
            module.requires_grad_(False)
    result = train_classifier(
        model, tokenizer, splits.train, max_len=tc.max_len, batch_size=tc.batch_size, steps=tc.steps,
        lr=tc.lr, seed=config.seed, warmup_ratio=tc.warmup_ratio, desc="teacher fine-tune",
    )  # fmt: skip
    start = time.perf_counter()
    distill_logits = predict_logits(
        model, tokenizer, distill.texts, max_len=tc.max_len, desc="teacher logits (train)"
    )
    test_logits = predict_logits(
        model, tokenizer, splits.test.texts, max_len=tc.max_len, desc="teacher logits (test)"
    )
    cache.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(cache / "model")
    tokenizer.save_pretrained(cache / "model")
    np.savez(cache / "logits.npz", distill=distill_logits, test=test_logits)
    name = f"{base_name} fine-tuned ({tc.steps} steps x {tc.batch_size}, max_len {tc.max_len})"
    meta = {"name": name, "train_seconds": result.seconds, "logit_seconds": time.perf_counter() - start,
            "final_loss": result.final_loss}  # fmt: skip
    meta_path.write_text(json.dumps(meta, indent=2))
    return TeacherResult(name, cache / "model", distill_logits, test_logits, result.seconds, False)
