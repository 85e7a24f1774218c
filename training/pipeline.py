"""The build: data -> teacher -> student -> ONNX -> int8 -> gate -> bundle, and the bring-your-own-model
import (ONNX -> int8 -> gate -> bundle). Stages are cached under ``work_dir`` by config hash."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.gazetteer import Gazetteer
from service.lexical import LexicalModel
from service.normalize import model_input, normalize_text
from training.bundle import write_bundle
from training.calibration import apply_temperature, fit_temperature
from training.candidate import evaluate_candidate
from training.config import BuildConfig, LexicalConfig
from training.dataset import Split, Splits, build_splits, generated_train, prepare, read_csv
from training.export import export_onnx
from training.gate import Check, GateReport, check
from training.labels import LABELS
from training.quantize import quantize_int8

if TYPE_CHECKING:
    from training.data.catalogue import Catalogue

__all__ = ["build", "import_hf", "keep_student_weights", "student_weights_dir"]

_LIBRARIES = (
    "torch",
    "transformers",
    "optimum",
    "optimum-onnx",
    "onnx",
    "onnxruntime",
    "tokenizers",
    "numpy",
)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def _calibration_rows(tokenizer_path: Path, texts: tuple[str, ...], max_len: int) -> list[list[int]]:
    """Token ids exactly as the service makes them (its ``TextTokenizer``: truncation, no padding)."""
    from service.tokenization import TextTokenizer

    return [row.tolist() for row in TextTokenizer.from_file(tokenizer_path, max_len).encode(texts)]


def _write_report(work: Path, name: str, metrics: dict[str, Any], summary: str) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{name}-gate.json").write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    (work / f"{name}-gate.txt").write_text(summary + "\n")


def _quantize_and_gate(
    config: BuildConfig,
    *,
    checkpoint: Path,
    fp32_path: Path,
    splits: Splits,
    teacher_logits: Any,
    card: dict[str, Any],
    gazetteer: Gazetteer | None = None,
    direction: bool = False,
    labels: Sequence[str] = LABELS,
    extra_metrics: Mapping[str, Any] | None = None,
    extra_checks: Callable[[dict[str, Any]], Sequence[Check]] | None = None,
    calibration_texts: Sequence[str] | None = None,
    make_default: bool = True,
    lexical_train: Split | None = None,
) -> Path:
    """Shared tail of ``build``, ``import_hf`` and ``adapt``: quantise, calibrate, evaluate, gate, write the
    bundle. ``labels``: the model's outputs in order; ``extra_metrics`` join the measured ones before the
    gate, whose checks ``extra_checks(metrics)`` extends; ``calibration_texts`` (default: the validation
    texts) feed the int8 calibration; ``make_default``: the bundle becomes the index's default;
    ``lexical_train`` (default: the training split) is what the lexical model is fitted on."""
    from transformers import AutoConfig

    work = Path(config.work_dir)
    model_config = AutoConfig.from_pretrained(checkpoint)
    pad_id = int(model_config.pad_token_id or 0)
    max_len = config.student.max_len
    tokenizer_path = checkpoint / "tokenizer.json"
    staging = work / "staging" / f"{config.name}-{config.version}"
    staging.mkdir(parents=True, exist_ok=True)
    int8_path = staging / "model.onnx"
    texts = tuple(calibration_texts) if calibration_texts is not None else splits.val.texts
    rows = _calibration_rows(tokenizer_path, texts[: config.quant.calibration_size], max_len)
    start = time.perf_counter()
    quant_info = quantize_int8(fp32_path, int8_path, rows, config.quant, pad_id=pad_id)
    quant_info["seconds"] = round(time.perf_counter() - start, 1)
    if config.quant.temperature_scaling:
        quant_info["temperature"] = _calibrate(
            int8_path, tokenizer_path, max_len, pad_id, splits.val, config.threads
        )
    lexical = None
    if config.lexical.enabled and len(splits.train):
        lexical = _fit_lexical(
            int8_path, tokenizer_path, max_len, pad_id, splits, config.lexical, config.threads, len(labels),
            staging, lexical_train if lexical_train is not None else splits.train,
        )  # fmt: skip

    def prepare_text(text: str) -> str:
        hint = gazetteer.lookup(normalize_text(text)) if gazetteer is not None else None
        return model_input(text, hint=hint)

    metrics = evaluate_candidate(
        fp32_path=fp32_path, int8_path=int8_path, tokenizer_path=tokenizer_path, max_len=max_len,
        pad_id=pad_id, splits=splits, threads=config.threads, seed=config.seed, gate=config.gate,
        plots_dir=staging,
        teacher_test_logits=teacher_logits, prepare_text=prepare_text, labels=labels, lexical=lexical,
    )  # fmt: skip
    reference = metrics.pop("reference")  # the card's drift reference: the test split's answers
    metrics["bundle_bytes"] = _bundle_bytes(staging, int8_path, tokenizer_path, gazetteer)
    metrics.update(extra_metrics or {})
    report = check(metrics, config.gate)
    if extra_checks is not None:
        report = GateReport(report.checks + tuple(extra_checks(metrics)))
    _write_report(
        work,
        f"{config.name}-{config.version}",
        {"metrics": metrics, "gate": report.as_dict()},
        report.summary(),
    )
    print(report.summary(), flush=True)
    full_card = {
        "reference": reference,
        **card,
        "max_seq_len": max_len,
        "pad_token_id": pad_id,
        "abstain_threshold": metrics["abstain"]["threshold"],
        "metrics": metrics,
        "quantization": quant_info,
        "sizes": {"onnx_int8_bytes": int8_path.stat().st_size, "onnx_fp32_bytes": fp32_path.stat().st_size},
        "libraries": _versions(),
        "build_config": asdict(config),
    }
    return write_bundle(
        Path(config.output_dir), name=config.name, version=config.version, model_path=int8_path,
        tokenizer_path=tokenizer_path, card=full_card, report=report,
        extra_files={name: staging / name for name in _PLOTS if (staging / name).is_file()},
        direction=direction, gazetteer=gazetteer, lexical=lexical, labels=labels, make_default=make_default,
    )  # fmt: skip


#: The gate's plots, shipped in the bundle beside the model.
_PLOTS = ("confusion_int8.png", "confusion_dev.png", "reliability.png")


def _bundle_bytes(staging: Path, int8_path: Path, tokenizer_path: Path, gazetteer: Gazetteer | None) -> int:
    """Bytes of the files the bundle will hold, as far as they exist before the gate: the model, the
    staged lexical model and plots, and the tokenizer and gazetteer as the bundle writer writes them."""
    from service.bundle import bundle_tokenizer

    staged = [int8_path, *(staging / name for name in ("lexical.npz", *_PLOTS))]
    total = sum(path.stat().st_size for path in staged if path.is_file())
    total += len(bundle_tokenizer(tokenizer_path).encode("utf-8"))
    if gazetteer is not None:
        total += len(gazetteer.render().encode("utf-8"))
    return total


def _calibrate(
    int8_path: Path, tokenizer_path: Path, max_len: int, pad_id: int, val: Split, threads: int
) -> dict[str, Any]:
    """Temperature scaling on the validation merchants' int8 logits, baked into ``int8_path``."""
    from training.evaluate import expected_calibration_error
    from training.runtime import OnnxClassifier, softmax

    model = OnnxClassifier(int8_path, tokenizer_path, max_len=max_len, pad_id=pad_id, threads=threads)
    logits = model.logits(val.texts)
    temperature = fit_temperature(logits, val.labels)
    apply_temperature(int8_path, temperature)
    return {
        "temperature": round(temperature, 4),
        "fitted_on": f"validation merchants ({len(val)} rows), negative log-likelihood",
        "val_ece_before": round(expected_calibration_error(val.labels, softmax(logits)), 4),
        "val_ece_after": round(expected_calibration_error(val.labels, softmax(logits / temperature)), 4),
    }


def _fit_lexical(
    int8_path: Path,
    tokenizer_path: Path,
    max_len: int,
    pad_id: int,
    splits: Splits,
    lexical: LexicalConfig,
    threads: int,
    num_labels: int,
    staging: Path,
    train: Split,
) -> LexicalModel:
    """The bundle's lexical model: fitted on ``train`` (the training split or more rows of its
    merchants, ``lexical.train_size``), mixed with the (calibrated) int8 model by
    weights fitted on validation (with the training split's hint dropout if ``lexical.mix_hint_dropout``),
    then saved and read back, so the gate scores the file that ships."""
    from dataclasses import replace

    from service.lexical import LexicalModel
    from training.lexical import fit_lexical, fit_mix_weights
    from training.runtime import OnnxClassifier

    start = time.perf_counter()
    fitted = fit_lexical(train.texts, train.labels, num_labels, lexical)
    model = OnnxClassifier(int8_path, tokenizer_path, max_len=max_len, pad_id=pad_id, threads=threads)
    mix_val = (
        splits.val_as_train if lexical.mix_hint_dropout and splits.val_as_train is not None else splits.val
    )
    student_weight, lexical_weight = fit_mix_weights(
        model.logits(mix_val.texts), fitted.logits(mix_val.texts), mix_val.labels
    )
    path = staging / "lexical.npz"
    replace(fitted, student_weight=student_weight, lexical_weight=lexical_weight).save(path)
    print(
        f"lexical model: {len(fitted.vocabulary):,} n-grams from {len(train):,} rows, mix "
        f"{student_weight:.3f} x student + {lexical_weight:.3f} x lexical (fitted on validation"
        f"{', hints dropped as in training' if mix_val is not splits.val else ''}), "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return LexicalModel.load(path, num_labels)


def _lexical_train(
    config: BuildConfig, splits: Splits, gazetteer: Gazetteer | None, catalogue: Catalogue | None
) -> Split:
    """The lexical model's training rows: the training split, or ``lexical.train_size`` generated rows
    of the training merchants (drawn afresh with the split's seed and dropouts; only the merchants
    need be the training ones, so validation, test and the dev set stay unseen)."""
    size = config.lexical.train_size
    if not config.lexical.enabled or size is None or size == len(splits.train):
        return splits.train
    return generated_train(config.data, config.seed, size, gazetteer=gazetteer, catalogue=catalogue)


def _preflight(config: BuildConfig) -> None:
    """Fail in a second, not after the training, when the config contradicts itself or a gate check
    cannot run on this machine."""
    if config.lexical.train_size is not None and config.data.train_csv:
        raise ValueError(
            "lexical.train_size draws generated rows; with data.train_csv the lexical model fits on the "
            "CSV's rows: unset one of them"
        )
    if config.gate.isa_cpu:
        from training.isa import require_emulator

        require_emulator()


def build(config: BuildConfig, *, publish_student: bool = True) -> Path:
    """Full reproducible build from ``config``; returns the bundle directory or raises ``GateFailed``.

    With ``publish_student`` the fp32 student is also left in ``<work_dir>/student-fp32/`` (HF) and
    ``<work_dir>/student-fp32.onnx`` for the load tests' "naive fp32" baselines.
    """
    import torch

    from training.knowledge import load_knowledge
    from training.student import run_student
    from training.teacher import run_teacher

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _preflight(config)
    start = time.perf_counter()
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    stage = config.stage
    work = stage.work_dir
    knowledge = load_knowledge(config.data, work)
    splits = build_splits(
        config.data, config.seed, gazetteer=knowledge.gazetteer, catalogue=knowledge.catalogue
    )
    lexical_train = _lexical_train(config, splits, knowledge.gazetteer, knowledge.catalogue)
    teacher = run_teacher(
        stage, config.data, config.teacher, splits,
        gazetteer=knowledge.gazetteer, catalogue=knowledge.catalogue,
    )  # fmt: skip
    published = work / "student-fp32" if publish_student else None
    student = run_student(
        stage, config.student, splits, teacher,
        keyed_by=(config.data, config.teacher), publish_to=published,
    )  # fmt: skip
    onnx_name = "student-fp32.onnx" if publish_student else f"{config.name}-{config.version}-fp32.onnx"
    fp32_path = export_onnx(
        student.directory, work / onnx_name, written_out_softmax=config.quant.written_out_softmax
    )
    teacher_metrics = {"cached": teacher.cached, "train_seconds": round(teacher.train_seconds, 1)}
    card = {
        "base_model": f"{student.base_name} ({len(student.layers)} of 6 layers: {list(student.layers)}, "
        f"vocabulary {student.vocab_size})",
        "teacher": teacher.name,
        "student": {
            "layers": list(student.layers), "hidden_size": student.hidden_size,
            "vocab_size": student.vocab_size, "parameters": student.parameters,
            "distillation_steps": student.steps,
            "temperature": config.student.temperature, "alpha": config.student.alpha,
        },
        "data": {
            "source": splits.source, "seed": config.seed, "generator": "training.data.sample_narrations",
            "brands": {"source": knowledge.source, "count": knowledge.brands},
            "split": "by merchant/counterparty (hash of the entity name); entities named by the "
                     "behavioural cases always train",
            "direction_dropout": config.data.direction_dropout, "hint_dropout": config.data.hint_dropout,
            "sizes": {"train": len(splits.train), "val": len(splits.val), "test": len(splits.test),
                      "distill": len(teacher.distill_logits),
                      "transfer_unlabelled": len(teacher.transfer_texts),
                      "lexical_train": len(lexical_train) if config.lexical.enabled else 0},
            "transfer": "training.data.sample_transfer_narrations over the teacher's whole-word vocabulary; "
                        "teacher soft targets only",
        },
        "training": {"teacher": teacher_metrics, "teacher_logit_seconds": teacher.logit_seconds,
                     "student_seconds": round(student.train_seconds, 1)},
    }  # fmt: skip
    bundle = _quantize_and_gate(
        config, checkpoint=student.directory, fp32_path=fp32_path, splits=splits,
        teacher_logits=teacher.test_logits, card=card, gazetteer=knowledge.gazetteer, direction=True,
        lexical_train=lexical_train,
    )  # fmt: skip
    card_path = bundle / "model_card.json"
    final = json.loads(card_path.read_text())
    final["training"]["build_wall_seconds"] = round(time.perf_counter() - start, 1)
    card_path.write_text(json.dumps(final, indent=2) + "\n")
    keep_student_weights(student.directory, Path(config.output_dir), bundle.name)
    return bundle


def student_weights_dir(output_dir: Path, bundle_name: str) -> Path:
    """Where a released bundle's fp32 student (the starting point of ``adapt``) is kept: beside the
    bundles, not inside one (the serving image never needs it)."""
    return output_dir / "students" / bundle_name


def keep_student_weights(checkpoint: Path, output_dir: Path, bundle_name: str) -> Path:
    """Save the student checkpoint with float16 weights (half the size; loaded back as float32 for
    fine-tuning) and its tokenizer under :func:`student_weights_dir`; replaces an older copy."""
    import shutil

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    target = student_weights_dir(output_dir, bundle_name)
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, torch_dtype=torch.float32)
    model.half().save_pretrained(staging, safe_serialization=True)
    AutoTokenizer.from_pretrained(checkpoint).save_pretrained(staging)  # type: ignore[no-untyped-call]
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def import_hf(checkpoint: Path, eval_csv: Path, config: BuildConfig) -> Path:
    """Bring your own model: export a local HF sequence-classification checkpoint, quantise it with
    calibration on 30% of ``eval_csv`` (which also picks the abstain threshold), gate on the other 70%.

    The bundle's labels are the model's own, from its ``id2label`` (any taxonomy; ``eval_csv`` labels must
    be among them). ``ValueError`` when the head names no labels (transformers' ``LABEL_0`` defaults)."""
    import random

    from transformers import AutoConfig

    _preflight(config)
    model_config = AutoConfig.from_pretrained(checkpoint)
    order = [str(model_config.id2label[i]) for i in range(model_config.num_labels)]
    if order == [f"LABEL_{i}" for i in range(len(order))] or len(set(order)) != len(order):
        raise ValueError(
            f"{checkpoint}/config.json: id2label must name the head's {len(order)} labels, each once "
            f"(got {order[:4]}{' ...' if len(order) > 4 else ''})"
        )
    rows = read_csv(eval_csv, labels=order)
    random.Random(config.seed).shuffle(rows)
    cut = max(1, int(len(rows) * 0.3))
    splits = Splits(
        train=Split((), ()),
        val=prepare(rows[:cut], None, labels=order),
        test=prepare(rows[cut:], None, labels=order),
        source=f"csv:{eval_csv}",
    )
    work = Path(config.work_dir)
    fp32_path = export_onnx(
        checkpoint,
        work / f"{config.name}-{config.version}-fp32.onnx",
        written_out_softmax=config.quant.written_out_softmax,
    )
    card = {
        "base_model": str(getattr(model_config, "_name_or_path", "") or checkpoint),
        "teacher": "none (imported model)",
        "data": {
            "source": f"csv:{eval_csv}",
            "seed": config.seed,
            "sizes": {"calibration": len(splits.val), "test": len(splits.test)},
        },
    }
    return _quantize_and_gate(
        config, checkpoint=checkpoint, fp32_path=fp32_path, splits=splits, teacher_logits=None, card=card,
        labels=order,
    )  # fmt: skip
