"""Model bundles: the one definition of the format; find one, read it, refuse it loudly if inconsistent.

A bundle is a directory with ``model.onnx``, ``tokenizer.json``, ``labels.json`` and ``model_card.json``,
and optionally ``gazetteer.tsv`` (the format is fixed in docs/architecture.md; the training writer checks
what it wrote with ``ModelBundle.load``). ``ModelBundle.load`` checks everything that can be checked
before serving: files present, card keys, the model's sha256, the normalisation version, the card's
``inputs`` against the files, that the tokenizer loads, and that the graph's output width equals the
number of labels. Every failure is a ``BundleError`` whose message is one line naming the file and the
problem, so a pod that cannot serve says why in its first log line.

The card's optional ``inputs`` says what the model reads besides the narration::

    "inputs": {"direction": true,
               "gazetteer": {"source": "name-suggestion-index 8.0.20260918", "entries": 20000}}

``direction``: the model was trained with a ``"debit | "``/``"credit | "`` prefix; ``gazetteer``: with
a brand-hint prefix from ``gazetteer.tsv`` (``null`` when the bundle has none). A card without
``inputs`` (every bundle before ``txc-norm-2``) reads as ``{"direction": false, "gazetteer": null}``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.errors import BundleError
from service.gazetteer import Gazetteer
from service.normalize import SUPPORTED_NORMALIZATIONS

__all__ = [
    "BUNDLE_FILES",
    "CARD_FILE",
    "GAZETTEER_FILE",
    "LABELS_FILE",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "BundleInputs",
    "GazetteerInfo",
    "ModelBundle",
    "card_inputs",
    "check_card",
    "default_model_dir",
    "file_sha256",
]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CARD_FILE = "model_card.json"
GAZETTEER_FILE = "gazetteer.tsv"
INDEX_FILE = "index.json"
#: Files every bundle has; ``GAZETTEER_FILE`` is the one optional file the loader reads.
BUNDLE_FILES = (MODEL_FILE, TOKENIZER_FILE, LABELS_FILE, CARD_FILE)
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
class GazetteerInfo:
    """What the card says about the bundle's gazetteer; the loader checks it against the file."""

    source: str
    entries: int


@dataclass(frozen=True)
class BundleInputs:
    """What the model reads besides the narration (the card's ``inputs``)."""

    direction: bool = False
    gazetteer: GazetteerInfo | None = None

    def as_card(self) -> dict[str, Any]:
        """The card's ``inputs`` value (also what ``/v1/models`` reports)."""
        gazetteer = self.gazetteer
        return {
            "direction": self.direction,
            "gazetteer": None
            if gazetteer is None
            else {"source": gazetteer.source, "entries": gazetteer.entries},
        }


@dataclass(frozen=True)
class ModelBundle:
    """A verified bundle on disk. Build it with ``ModelBundle.load``.

    ``normalization`` is one of ``SUPPORTED_NORMALIZATIONS``; ``gazetteer`` is loaded from
    ``gazetteer.tsv`` exactly when ``inputs.gazetteer`` is set.
    """

    path: Path
    name: str
    version: str
    labels: tuple[str, ...]
    max_seq_len: int
    pad_token_id: int
    abstain_threshold: float
    card: Mapping[str, Any]
    normalization: str
    inputs: BundleInputs
    gazetteer: Gazetteer | None = field(default=None, repr=False, compare=False)

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
        for name in BUNDLE_FILES:
            if not (directory / name).is_file():
                raise BundleError(f"{directory / name}: missing from the bundle")
        card = _read_json(directory / CARD_FILE)
        if not isinstance(card, dict):
            raise BundleError(f"{directory / CARD_FILE}: expected a JSON object")
        check_card(directory / CARD_FILE, card)
        labels = _read_labels(directory / LABELS_FILE)
        inputs = card_inputs(directory / CARD_FILE, card)
        gazetteer = _read_gazetteer(directory, inputs, labels)
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
            normalization=card["normalization"],
            inputs=inputs,
            gazetteer=gazetteer,
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


def check_card(path: Path, card: Mapping[str, Any]) -> None:
    """Refuse a card (``path`` names it in the error) whose required keys are missing or mistyped, or
    whose normalisation this service cannot build inputs for."""
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
    if card["normalization"] not in SUPPORTED_NORMALIZATIONS:
        raise BundleError(
            f"{path}: normalization {card['normalization']!r} differs from those this service builds "
            f"({', '.join(SUPPORTED_NORMALIZATIONS)}); the model was trained on differently prepared text"
        )


def card_inputs(path: Path, card: Mapping[str, Any]) -> BundleInputs:
    """The card's ``inputs`` (the default when absent); ``BundleError`` naming ``path`` if malformed.

    A ``txc-norm-1`` model reads the narration only, so its card may not claim direction or a gazetteer.
    """
    if "inputs" not in card:
        return BundleInputs()
    value = card["inputs"]
    if not isinstance(value, dict) or set(value) != {"direction", "gazetteer"}:
        raise BundleError(f"{path}: 'inputs' must be an object with exactly 'direction' and 'gazetteer'")
    direction, gazetteer = value["direction"], value["gazetteer"]
    if not isinstance(direction, bool):
        raise BundleError(f"{path}: 'inputs.direction' must be true or false")
    info = None
    if gazetteer is not None:
        if (
            not isinstance(gazetteer, dict)
            or set(gazetteer) != {"source", "entries"}
            or not isinstance(gazetteer["source"], str)
            or not gazetteer["source"]
            or not isinstance(gazetteer["entries"], int)
            or isinstance(gazetteer["entries"], bool)
            or gazetteer["entries"] < 0
        ):
            raise BundleError(
                f'{path}: \'inputs.gazetteer\' must be null or {{"source": <text>, "entries": <count>}}'
            )
        info = GazetteerInfo(gazetteer["source"], gazetteer["entries"])
    if card["normalization"] == "txc-norm-1" and (direction or info is not None):
        raise BundleError(f"{path}: a txc-norm-1 model reads neither a direction nor a gazetteer hint")
    return BundleInputs(direction=direction, gazetteer=info)


def _read_gazetteer(directory: Path, inputs: BundleInputs, labels: tuple[str, ...]) -> Gazetteer | None:
    path = directory / GAZETTEER_FILE
    if inputs.gazetteer is None:
        if path.exists():
            raise BundleError(f"{path}: present, but the card's 'inputs.gazetteer' is null")
        return None
    if not path.is_file():
        raise BundleError(f"{path}: missing from the bundle (the card's 'inputs.gazetteer' names one)")
    gazetteer = Gazetteer.from_file(path, labels=labels)
    found = GazetteerInfo(gazetteer.source, len(gazetteer))
    if found != inputs.gazetteer:
        raise BundleError(
            f"{path}: holds {found.entries} entries from {found.source!r}; the card says "
            f"{inputs.gazetteer.entries} from {inputs.gazetteer.source!r}"
        )
    return gazetteer


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
