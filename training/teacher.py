"""Teacher stage: fine-tune the large encoder on the training split, then record its logits on the
distillation set and the held-out test set (computed once, cached by config hash)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from service.gazetteer import Gazetteer
from training.base_models import load_classifier, resolve_base
from training.config import DataConfig, StageContext, TeacherConfig
from training.dataset import Splits
from training.labels import LABELS
from training.trainer import predict_logits, train_classifier

if TYPE_CHECKING:
    from training.data.catalogue import Catalogue

__all__ = ["TeacherResult", "run_teacher", "transfer_digest"]


@dataclass(frozen=True)
class TeacherResult:
    name: str
    directory: Path
    distill_logits: npt.NDArray[np.float32]
    test_logits: npt.NDArray[np.float32]
    #: Unlabelled transfer narrations (normalised) and the teacher's logits on them.
    transfer_texts: tuple[str, ...]
    transfer_logits: npt.NDArray[np.float32]
    train_seconds: float
    cached: bool
    #: Seconds the teacher took to score the distillation and test narrations (not the transfer set).
    logit_seconds: float = 0.0


def run_teacher(
    stage: StageContext,
    data_config: DataConfig,
    tc: TeacherConfig,
    splits: Splits,
    *,
    gazetteer: Gazetteer | None = None,
    catalogue: Catalogue | None = None,
) -> TeacherResult:
    """Fine-tune (or reuse the cached) teacher and return its logits on train[:distill_size] and test.

    ``gazetteer`` and ``catalogue`` shape the unlabelled transfer narrations as the labelled ones are shaped
    (hints where the gazetteer matches; no word of a held-out entity of ``catalogue``)."""
    from transformers import AutoTokenizer

    work = stage.work_dir
    base_dir, base_name = resolve_base(tc.base, work)
    # The transfer set is scored by the finished teacher (cached beside it): not part of the teacher's key.
    data = {k: v for k, v in asdict(data_config).items() if k != "transfer_size"}
    key = stage.key(data, tc, splits.source)
    cache = work / "cache" / f"teacher-{key}"
    meta_path = cache / "meta.json"
    distill = splits.train.take(tc.distill_size)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)  # type: ignore[no-untyped-call]
    transfer = _transfer_texts(data_config.transfer_size, stage.seed, tokenizer, gazetteer, catalogue)
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        logits = np.load(cache / "logits.npz")
        transfer_logits = _transfer_logits(tc, cache, transfer)
        return TeacherResult(
            meta["name"], cache / "model", logits["distill"], logits["test"], transfer, transfer_logits,
            meta["train_seconds"], True, round(meta.get("logit_seconds", 0.0), 1),
        )  # fmt: skip

    model = load_classifier(base_dir, tc.layers)
    if tc.freeze_layers:
        frozen = [model.base_model.embeddings, *model.base_model.encoder.layer[: tc.freeze_layers]]
        for module in frozen:
            module.requires_grad_(False)
    result = train_classifier(
        model, tokenizer, splits.train, max_len=tc.max_len, batch_size=tc.batch_size, steps=tc.steps,
        lr=tc.lr, seed=stage.seed, warmup_ratio=tc.warmup_ratio, bf16=tc.bf16, desc="teacher fine-tune",
    )  # fmt: skip
    start = time.perf_counter()
    distill_logits = predict_logits(
        model, tokenizer, distill.texts, max_len=tc.max_len, bf16=tc.bf16, desc="teacher logits (train)"
    )
    test_logits = predict_logits(
        model, tokenizer, splits.test.texts, max_len=tc.max_len, bf16=tc.bf16, desc="teacher logits (test)"
    )
    cache.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(cache / "model")
    tokenizer.save_pretrained(cache / "model")
    np.savez(cache / "logits.npz", distill=distill_logits, test=test_logits)
    transfer_logits = _transfer_logits(tc, cache, transfer, model=model, tokenizer=tokenizer)
    notes = [f"{tc.steps} steps x {tc.batch_size}", f"max_len {tc.max_len}"]
    notes += [f"embeddings + {tc.freeze_layers} layers frozen"] * bool(tc.freeze_layers)
    notes += ["bf16 autocast"] * tc.bf16
    name = f"{base_name} fine-tuned ({', '.join(notes)})"
    meta = {"name": name, "train_seconds": result.seconds, "logit_seconds": time.perf_counter() - start,
            "final_loss": result.final_loss}  # fmt: skip
    meta_path.write_text(json.dumps(meta, indent=2))
    return TeacherResult(
        name, cache / "model", distill_logits, test_logits, transfer, transfer_logits, result.seconds, False,
        round(meta["logit_seconds"], 1),
    )  # fmt: skip


def transfer_digest(texts: tuple[str, ...]) -> str:
    """Short content hash of the transfer narrations (keys the transfer logits and the student cache)."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]


def _transfer_texts(
    size: int, seed: int, tokenizer: Any, gazetteer: Gazetteer | None, catalogue: Catalogue | None
) -> tuple[str, ...]:
    """``size`` unlabelled transfer narrations, prepared as serving prepares them (a random direction or none,
    the gazetteer's hint where it matches); words = the teacher's whole-word vocabulary pieces (ASCII
    letters, 3+ characters) minus every word only held-out entities use, sorted so the draw is
    deterministic."""
    if not size:
        return ()
    import random

    from service.normalize import DIRECTIONS, model_input, normalize_text
    from training.data import sample_transfer_narrations
    from training.data.catalogue import held_out_words

    banned = held_out_words(catalogue)

    def usable(piece: str) -> bool:
        return piece.isascii() and piece.isalpha() and len(piece) >= 3 and piece.lower() not in banned

    words = sorted(filter(usable, tokenizer.get_vocab()))
    raw = sample_transfer_narrations(size, words, seed=seed)
    rng = random.Random(f"txclassify-transfer-direction-{seed}")
    out: list[str] = []
    for text in raw:
        normalized = normalize_text(text)
        if not normalized:
            continue
        direction = rng.choice((None, *DIRECTIONS))
        hint = gazetteer.lookup(normalized) if gazetteer is not None else None
        out.append(model_input(text, direction=direction, hint=hint))
    return tuple(out)


def _transfer_logits(
    tc: TeacherConfig, cache: Path, texts: tuple[str, ...], *, model: Any = None, tokenizer: Any = None
) -> npt.NDArray[np.float32]:
    """Teacher logits on the transfer narrations, cached next to the teacher (keyed by their content)."""
    if not texts:
        return np.zeros((0, len(LABELS)), dtype=np.float32)
    path = cache / f"transfer-{transfer_digest(texts)}.npy"
    if path.exists():
        cached: npt.NDArray[np.float32] = np.load(path)
        return cached
    if model is None or tokenizer is None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model = AutoModelForSequenceClassification.from_pretrained(cache / "model")
        tokenizer = AutoTokenizer.from_pretrained(cache / "model")  # type: ignore[no-untyped-call]
    logits = predict_logits(
        model, tokenizer, texts, max_len=tc.max_len, bf16=tc.bf16, desc="teacher logits (transfer)"
    )
    np.save(path, logits)
    return logits
