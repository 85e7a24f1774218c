"""Compare student variants quickly: distil each against the cached teacher and print its fp32 macro-F1 on
the held-out test split (PyTorch, no export, quantisation or gate; ``training.tradeoff`` does the full
candidate). One JSON line per variant; variants are ``key=value`` lists separated by ``;``:

    python -m training.students --config training/configs/v1.yaml "layers=2,5;prune=0" \\
        "layers=0,1,2,3,4,5;prune=0;transfer=0" "layers=2,5;epochs=8"

Keys: ``layers`` (comma-separated MiniLM layer ids), ``prune`` (0/1), ``keep`` (keep_first_vocab),
``epochs``, ``alpha``, ``T`` (temperature), ``lr``, ``freeze`` (0/1: fixed word embeddings),
``transfer`` (unlabelled transfer narrations).
Students are cached like the build's, so a variant equal to the build's student costs nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from training.config import BuildConfig, StudentConfig, load_config

__all__ = ["main", "parse_variant"]

_STUDENT_KEYS = {"layers", "prune", "keep", "epochs", "alpha", "T", "lr", "freeze"}


def parse_variant(spec: str, base: BuildConfig) -> BuildConfig:
    """Apply one ``key=value;...`` spec to ``base``; unknown keys are an error."""
    pairs = dict(part.split("=", 1) for part in spec.split(";") if part.strip())
    unknown = set(pairs) - _STUDENT_KEYS - {"transfer"}
    if unknown:
        raise ValueError(f"unknown variant keys {sorted(unknown)} in {spec!r}")
    student: StudentConfig = base.student
    changes: dict[str, Any] = {}
    if "layers" in pairs:
        changes["layers"] = tuple(int(x) for x in pairs["layers"].split(","))
    if "prune" in pairs:
        changes["prune_vocab"] = pairs["prune"] == "1"
    if "keep" in pairs:
        changes["keep_first_vocab"] = int(pairs["keep"])
    if "freeze" in pairs:
        changes["freeze_embeddings"] = pairs["freeze"] == "1"
    if "epochs" in pairs:
        changes["epochs"] = int(pairs["epochs"])
    for key, field in (("alpha", "alpha"), ("T", "temperature"), ("lr", "lr")):
        if key in pairs:
            changes[field] = float(pairs[key])
    data = base.data
    if "transfer" in pairs:
        data = replace(data, transfer_size=int(pairs["transfer"]))
    return replace(base, student=replace(student, **changes), data=data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("variants", nargs="+", help='e.g. "layers=2,5;prune=0"')
    args = parser.parse_args(argv)

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training.dataset import build_splits
    from training.evaluate import score
    from training.runtime import softmax
    from training.student import run_student
    from training.teacher import run_teacher
    from training.trainer import predict_logits

    base = load_config(args.config)
    configs = [(spec, parse_variant(spec, base)) for spec in args.variants]  # fail before any training
    splits = build_splits(base.data, base.seed)
    for spec, config in configs:
        start = time.perf_counter()
        teacher = run_teacher(config.stage, config.data, config.teacher, splits)
        student = run_student(
            config.stage, config.student, splits, teacher, keyed_by=(config.data, config.teacher)
        )
        model = AutoModelForSequenceClassification.from_pretrained(student.directory)
        tokenizer = AutoTokenizer.from_pretrained(student.directory)  # type: ignore[no-untyped-call]
        texts = splits.test.texts
        logits = predict_logits(model, tokenizer, texts, max_len=config.student.max_len, desc=spec)
        scores = score(splits.test.labels, softmax(logits))
        row = {
            "variant": spec, "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"],
            "vocab_size": student.vocab_size, "parameters": student.parameters,
            "train_seconds": round(student.train_seconds), "wall_seconds": round(time.perf_counter() - start),
        }  # fmt: skip
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
