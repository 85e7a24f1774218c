"""Model bundles: find one, read it, and refuse it loudly if anything is inconsistent.

A bundle is a directory with ``model.onnx``, ``tokenizer.json``, ``labels.json`` and ``model_card.json``
(the format is fixed in docs/architecture.md). ``ModelBundle.load`` checks everything that can be checked
before serving: files present, card keys, the model's sha256, the normalisation version, that the
tokenizer loads, and that the graph's output width equals the number of labels. Every failure is a
``BundleError`` whose message is one line naming the file and the problem, so a pod that cannot serve
says why in its first log line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.errors import BundleError
from service.normalize import NORMALIZATION_VERSION

__all__ = ["ModelBundle", "default_model_dir", "file_sha256"]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CARD_FILE = "model_card.json"
INDEX_FILE = "index.json"
_REQUIRED_CARD_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "name": str,
    "version": str,
    "base_model": str,
    "teacher": str,
    "max_seq_len": int,
    "pad_token_id": int,
    "normalization": str,
    "abstain_threshold": (int, float),
    "model_sha256": str,
    "created": str,
    "metrics": dict,
}


@dataclass(frozen=True)
class ModelBundle:
    """A verified bundle on disk. Build it with ``ModelBundle.load``."""

    path: Path
    name: str
    version: str
    labels: tuple[str, ...]
    max_seq_len: int
    pad_token_id: int
    abstain_threshold: float
    card: Mapping[str, Any]

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE

    @classmethod
    def load(cls, path: Path | str) -> ModelBundle:
        """Read and verify the bundle at ``path``; raises ``BundleError`` (one line) on any problem."""
        directory = Path(path)
        if not directory.is_dir():
            raise BundleError(f"{directory}: model bundle directory not found")
        for name in (MODEL_FILE, TOKENIZER_FILE, LABELS_FILE, CARD_FILE):
            if not (directory / name).is_file():
                raise BundleError(f"{directory / name}: missing from the bundle")
        card = _read_json(directory / CARD_FILE)
        if not isinstance(card, dict):
            raise BundleError(f"{directory / CARD_FILE}: expected a JSON object")
        _check_card(directory / CARD_FILE, card)
        labels = _read_labels(directory / LABELS_FILE)
        if card["normalization"] != NORMALIZATION_VERSION:
            raise BundleError(
                f"{directory / CARD_FILE}: normalization {card['normalization']!r} differs from this "
                f"service's {NORMALIZATION_VERSION!r}; the model was trained on differently prepared text"
            )
        digest = file_sha256(directory / MODEL_FILE)
        if digest != card["model_sha256"].lower():
            raise BundleError(
                f"{directory / MODEL_FILE}: sha256 {digest} does not match the card's {card['model_sha256']}"
                " (corrupt or replaced file)"
            )
        _check_tokenizer(directory / TOKENIZER_FILE)
        width = _output_width(directory / MODEL_FILE)
        if width != len(labels):
            raise BundleError(
                f"{directory / LABELS_FILE}: {len(labels)} labels but {MODEL_FILE} outputs {width} logits"
            )
        return cls(
            path=directory,
            name=card["name"],
            version=card["version"],
            labels=labels,
            max_seq_len=card["max_seq_len"],
            pad_token_id=card["pad_token_id"],
            abstain_threshold=float(card["abstain_threshold"]),
            card=card,
        )


def default_model_dir() -> Path:
    """The bundle to serve when none is configured: ``TXC_MODEL_DIR``, else ``models/<index.default>``.

    ``models/`` is looked up next to the ``service`` package (a source checkout or editable install),
    then in the current directory (a plain ``pip install .`` run from the checkout).
    """
    configured = os.environ.get("TXC_MODEL_DIR")
    if configured:
        return Path(configured)
    candidates = list(
        dict.fromkeys([Path(__file__).resolve().parent.parent / "models", Path.cwd() / "models"])
    )
    for models in candidates:
        index_path = models / INDEX_FILE
        if index_path.is_file():
            index = _read_json(index_path)
            default = index.get("default") if isinstance(index, dict) else None
            if not isinstance(default, str) or not default:
                raise BundleError(f"{index_path}: no 'default' bundle named")
            return models / default
    tried = ", ".join(str(models / INDEX_FILE) for models in candidates)
    raise BundleError(f"no model bundle configured: set TXC_MODEL_DIR (none of {tried} exists)")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: unreadable JSON ({_one_line(error)})") from error


def _check_card(path: Path, card: Mapping[str, Any]) -> None:
    for key, expected in _REQUIRED_CARD_KEYS.items():
        if key not in card:
            raise BundleError(f"{path}: required key {key!r} is missing")
        value = card[key]
        if not isinstance(value, expected) or isinstance(value, bool):
            raise BundleError(f"{path}: key {key!r} has the wrong type ({type(value).__name__})")
    if card["max_seq_len"] < 2:
        raise BundleError(f"{path}: max_seq_len must be at least 2, got {card['max_seq_len']}")
    if not 0.0 <= card["abstain_threshold"] <= 1.0:
        raise BundleError(f"{path}: abstain_threshold must be within [0, 1]")


def _read_labels(path: Path) -> tuple[str, ...]:
    labels = _read_json(path)
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise BundleError(f"{path}: expected a non-empty JSON list of label names")
    if len(set(labels)) != len(labels):
        raise BundleError(f"{path}: label names repeat")
    return tuple(labels)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (the bundle writer and this loader share it)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_file(str(path))
    except Exception as error:  # the Rust side raises plain Exception subclasses
        raise BundleError(f"{path}: not a usable tokenizer ({_one_line(error)})") from error


def _output_width(path: Path) -> int:
    """The width of the graph's ``logits`` output, read by ONNX Runtime itself (which also proves the
    file loads). A symbolic width is measured with a one-token probe."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own exception types for corrupt files
        raise BundleError(f"{path}: ONNX Runtime cannot load it ({_one_line(error)})") from error
    outputs = {output.name: output for output in session.get_outputs()}
    inputs = {item.name for item in session.get_inputs()}
    if "logits" not in outputs:
        raise BundleError(f"{path}: no output named 'logits' (found {sorted(outputs)})")
    missing = {"input_ids", "attention_mask"} - inputs
    if missing:
        raise BundleError(f"{path}: missing inputs {sorted(missing)}")
    shape = outputs["logits"].shape
    if len(shape) != 2:
        raise BundleError(f"{path}: 'logits' has rank {len(shape)}, expected [batch, labels]")
    if isinstance(shape[1], int):
        return shape[1]
    probe = {name: np.ones((1, 2), dtype=np.int64) for name in inputs}
    if "token_type_ids" in probe:
        probe["token_type_ids"][:] = 0
    try:
        (logits,) = session.run(["logits"], probe)
    except Exception as error:
        raise BundleError(f"{path}: a one-text probe failed ({_one_line(error)})") from error
    return int(np.asarray(logits).shape[1])


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:300] if text else type(error).__name__
