"""Model bundles: the one definition of the format; find one, read it, refuse it loudly if inconsistent.

A bundle is a directory with ``model.onnx``, ``tokenizer.json``, ``labels.json`` (the one list of the
model's labels, in output order: any taxonomy) and ``model_card.json``, and optionally ``gazetteer.tsv`` and
``lexical.npz`` (docs/architecture.md). This module reads it (``ModelBundle.load``), writes it
(``write_bundle``, which publishes only what ``ModelBundle.load`` accepts) and keeps the directory's
``index.json`` (``default``, ``previous``, ``bundles``; ``promote``/``rollback``). ``ModelBundle.load``
checks everything that can be checked before serving: files present, card keys, the model's sha256, the
normalisation version, the card's ``inputs`` and ``lexical`` against the files, that the tokenizer loads,
and that the graph's output width equals the number of labels (on the caller's own ONNX Runtime session when
it passes ``open_model=False`` and then calls ``check_session``: one session per start). Every failure is a
``BundleError`` whose message is one line naming the file and the problem, so a pod that cannot serve says
why in its first log line.

The card's optional ``inputs`` says what the model reads besides the narration::

    "inputs": {"direction": true,
               "gazetteer": {"source": "name-suggestion-index 8.0.20260918", "entries": 20000}}

``direction``: the model was trained with a ``"debit | "``/``"credit | "`` prefix; ``gazetteer``: with
a brand-hint prefix from ``gazetteer.tsv`` (``null`` when the bundle has none). A card without
``inputs`` (every bundle before ``txc-norm-2``) reads as ``{"direction": false, "gazetteer": null}``.
The gazetteer's labels are hint words the model reads, not necessarily its output labels: a bundle adapted
to a customer's own taxonomy keeps its parent's gazetteer and hints.

The card's optional ``lexical`` describes ``lexical.npz``, a character-n-gram model whose log-probabilities
are mixed with the ONNX model's (``service/lexical.py``)::

    "lexical": {"features": 180000, "sha256": "...", "student_weight": 0.9, "lexical_weight": 0.7}

Absent or ``null``: the bundle serves the ONNX model's output alone (every bundle before 2.0.0).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.errors import BundleError
from service.gazetteer import EXACT, MATCHINGS, PASS, Gazetteer
from service.normalize import (
    NORMALIZATION_VERSION,
    SUPPORTED_NORMALIZATIONS,
    hint_words,
    model_input,
    normalize_text,
)

if TYPE_CHECKING:
    from service.lexical import LexicalModel

__all__ = [
    "BUNDLE_FILES",
    "CARD_FILE",
    "GAZETTEER_FILE",
    "INDEX_FILE",
    "LABELS_FILE",
    "LEXICAL_FILE",
    "MODEL_FILE",
    "TOKENIZER_FILE",
    "BundleIndex",
    "BundleInputs",
    "GazetteerInfo",
    "ModelBundle",
    "bundle_tokenizer",
    "card_inputs",
    "check_card",
    "default_model_dir",
    "default_models_dir",
    "file_sha256",
    "lexical_card",
    "output_width",
    "promote",
    "read_index",
    "rollback",
    "update_index",
    "write_bundle",
    "write_reference",
]

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
LABELS_FILE = "labels.json"
CARD_FILE = "model_card.json"
GAZETTEER_FILE = "gazetteer.tsv"
LEXICAL_FILE = "lexical.npz"
INDEX_FILE = "index.json"
#: Files every bundle has; ``GAZETTEER_FILE`` and ``LEXICAL_FILE`` are the optional files the loader reads.
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
    #: The lookup rule (``service.gazetteer.MATCHINGS``); cards written before it existed mean ``exact``.
    matching: str = EXACT

    @classmethod
    def of(cls, gazetteer: Gazetteer) -> GazetteerInfo:
        """What a card says about ``gazetteer``."""
        return cls(gazetteer.source, len(gazetteer), gazetteer.matching)


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
            else {"source": gazetteer.source, "entries": gazetteer.entries, "matching": gazetteer.matching},
        }


@dataclass(frozen=True)
class ModelBundle:
    """A verified bundle on disk. Build it with ``ModelBundle.load``.

    ``normalization`` is one of ``SUPPORTED_NORMALIZATIONS``; ``gazetteer`` is loaded from
    ``gazetteer.tsv`` exactly when ``inputs.gazetteer`` is set, ``lexical`` from ``lexical.npz`` exactly
    when the card's ``lexical`` is.
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
    lexical: LexicalModel | None = field(default=None, repr=False, compare=False)

    @property
    def model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer_path(self) -> Path:
        return self.path / TOKENIZER_FILE

    def model_input(self, text: str, direction: str | None = None) -> str:
        """The exact string this bundle's model reads for ``text``, as ``Classifier`` prepares it: the
        bundle's normalisation, its gazetteer's hint, and ``direction`` only if the model reads one."""
        normalized = normalize_text(text)
        hint = self.gazetteer.lookup(normalized) if self.gazetteer is not None and normalized else None
        return model_input(
            normalized,
            direction=direction if self.inputs.direction else None,
            hint=hint,
            version=self.normalization,
        )

    @classmethod
    def load(cls, path: Path | str, *, open_model: bool = True) -> ModelBundle:
        """Read and verify the bundle at ``path``; raises ``BundleError`` (one line) on any problem.

        ``open_model=False`` leaves the ONNX checks (loads, inputs, output width) to the caller, who must
        run ``check_session`` on the session it opens to serve: one session per start, not two."""
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
        gazetteer = _read_gazetteer(directory, inputs)
        lexical = _read_lexical(directory, card, len(labels))
        digest = file_sha256(directory / MODEL_FILE)
        if digest != card["model_sha256"].lower():
            raise BundleError(
                f"{directory / MODEL_FILE}: sha256 {digest} does not match the card's {card['model_sha256']}"
                " (corrupt or replaced file)"
            )
        card_labels = card.get("labels")
        if card_labels is not None and tuple(card_labels) != labels:
            # Cards before 2.0.0 repeated labels.json; a copy that disagrees is a hand-edited bundle.
            raise BundleError(f"{directory / CARD_FILE}: 'labels' disagrees with {LABELS_FILE}")
        _check_tokenizer(directory / TOKENIZER_FILE)
        bundle = cls(
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
            lexical=lexical,
        )
        if open_model:
            bundle.check_session(_open_session(bundle.model_path))
        return bundle

    def check_session(self, session: Any) -> None:
        """Refuse (``BundleError``) an ONNX Runtime session of this bundle's model whose interface does not
        serve it: ``input_ids``/``attention_mask`` in, ``logits`` of width ``len(labels)`` out."""
        width = output_width(session, self.model_path)
        if width != len(self.labels):
            labels_path = self.path / LABELS_FILE
            raise BundleError(
                f"{labels_path}: {len(self.labels)} labels but {MODEL_FILE} outputs {width} logits"
            )


def default_model_dir() -> Path:
    """The bundle to serve when none is configured: ``<models>/<index.default>`` with ``<models>`` from
    ``default_models_dir``. ``TXC_MODEL_DIR`` is read once at the edge, by ``Settings().model_dir``."""
    models = default_models_dir()
    index_path = models / INDEX_FILE
    if not index_path.is_file():
        tried = ", ".join(str(m / INDEX_FILE) for m in _models_candidates())
        raise BundleError(f"no model bundle configured: set TXC_MODEL_DIR (none of {tried} exists)")
    default = read_index(models).default
    if not default:
        raise BundleError(f"{index_path}: no 'default' bundle named")
    return models / default


def default_models_dir() -> Path:
    """The models directory (bundles and ``index.json``): ``models/`` next to the ``service`` package (a
    source checkout or editable install) if it holds an index, else ``models/`` in the current directory
    (a plain ``pip install .`` run from the checkout)."""
    candidates = _models_candidates()
    return next((m for m in candidates if (m / INDEX_FILE).is_file()), candidates[-1])


def _models_candidates() -> list[Path]:
    return list(dict.fromkeys([Path(__file__).resolve().parent.parent / "models", Path.cwd() / "models"]))


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
            or not {"source", "entries"} <= set(gazetteer) <= {"source", "entries", "matching"}
            or gazetteer.get("matching", EXACT) not in MATCHINGS
            or not isinstance(gazetteer["source"], str)
            or not gazetteer["source"]
            or not isinstance(gazetteer["entries"], int)
            or isinstance(gazetteer["entries"], bool)
            or gazetteer["entries"] < 0
        ):
            raise BundleError(
                f'{path}: \'inputs.gazetteer\' must be null or {{"source": <text>, "entries": <count>}}'
                f' (and optionally "matching": one of {", ".join(MATCHINGS)})'
            )
        info = GazetteerInfo(gazetteer["source"], gazetteer["entries"], gazetteer.get("matching", EXACT))
    if card["normalization"] == "txc-norm-1" and (direction or info is not None):
        raise BundleError(f"{path}: a txc-norm-1 model reads neither a direction nor a gazetteer hint")
    return BundleInputs(direction=direction, gazetteer=info)


def _read_gazetteer(directory: Path, inputs: BundleInputs) -> Gazetteer | None:
    path = directory / GAZETTEER_FILE
    if inputs.gazetteer is None:
        if path.exists():
            raise BundleError(f"{path}: present, but the card's 'inputs.gazetteer' is null")
        return None
    if not path.is_file():
        raise BundleError(f"{path}: missing from the bundle (the card's 'inputs.gazetteer' names one)")
    gazetteer = Gazetteer.from_file(path)
    found = GazetteerInfo.of(gazetteer)
    if found != inputs.gazetteer:
        raise BundleError(
            f"{path}: holds {found.entries} entries from {found.source!r}, matching {found.matching}; the "
            f"card says {inputs.gazetteer.entries} from {inputs.gazetteer.source!r}, matching "
            f"{inputs.gazetteer.matching}"
        )
    for label in sorted({gazetteer[key] for key in gazetteer} - {PASS}):  # PASS is never a hint
        try:
            hint_words(label)  # a hint the service could not build would fail its first matching request
        except ValueError as error:
            raise BundleError(f"{path}: {error}") from None
    return gazetteer


def lexical_card(model: LexicalModel, sha256: str) -> dict[str, Any]:
    """The card's ``lexical`` value for ``model``, saved in a file of that ``sha256``."""
    return {
        "features": len(model.vocabulary),
        "sha256": sha256,
        "student_weight": model.student_weight,
        "lexical_weight": model.lexical_weight,
    }


def _read_lexical(directory: Path, card: Mapping[str, Any], num_labels: int) -> LexicalModel | None:
    path = directory / LEXICAL_FILE
    described = card.get("lexical")
    if described is None:
        if path.exists():
            raise BundleError(f"{path}: present, but the card has no 'lexical'")
        return None
    keys = {"features", "sha256", "student_weight", "lexical_weight"}
    if not isinstance(described, dict) or set(described) != keys:
        raise BundleError(f"{directory / CARD_FILE}: 'lexical' must be null or an object with {sorted(keys)}")
    if not path.is_file():
        raise BundleError(f"{path}: missing from the bundle (the card's 'lexical' names one)")
    digest = file_sha256(path)
    if digest != str(described["sha256"]).lower():
        raise BundleError(f"{path}: sha256 {digest} does not match the card's (corrupt or replaced file)")
    from service.lexical import LexicalModel

    model = LexicalModel.load(path, num_labels)
    found = lexical_card(model, digest)
    if found != described:
        raise BundleError(f"{path}: holds {found}; the card says {dict(described)}")
    return model


def _read_labels(path: Path) -> tuple[str, ...]:
    labels = _read_json(path)
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise BundleError(f"{path}: expected a non-empty JSON list of label names")
    if len(set(labels)) != len(labels):
        raise BundleError(f"{path}: label names repeat")
    return tuple(labels)


def bundle_tokenizer(tokenizer_path: Path) -> str:
    """``tokenizer.json`` as a bundle ships it: without fixed truncation or padding (the service truncates
    at ``max_seq_len`` and pads per batch), compact JSON."""
    tokenizer = json.loads(tokenizer_path.read_text(encoding="utf-8"))
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    return json.dumps(tokenizer, ensure_ascii=False)


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


def _open_session(path: Path) -> Any:
    """A minimal ONNX Runtime session, only to check the model (which also proves the file loads)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # ORT raises its own exception types for corrupt files
        raise BundleError(f"{path}: ONNX Runtime cannot load it ({_one_line(error)})") from error


def output_width(session: Any, path: Path) -> int:
    """The width of the graph's ``logits`` output, read from the session; a symbolic width is measured
    with a one-token probe."""
    import numpy as np

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


# -- writer -------------------------------------------------------------------------------------------------

#: Card keys the writer decides; a caller's ``card`` may not set them.
WRITER_KEYS = frozenset({"name", "version", "labels", "normalization", "inputs", "model_sha256",
                         "model_bytes", "created", "gate", "lexical"})  # fmt: skip


def write_bundle(
    output_dir: Path,
    *,
    name: str,
    version: str,
    model_path: Path,
    tokenizer_path: Path,
    labels: Sequence[str],
    card: Mapping[str, Any],
    gate: Mapping[str, Any],
    inputs: BundleInputs = BundleInputs(),
    gazetteer: Gazetteer | None = None,
    lexical: LexicalModel | None = None,
    extra_files: Mapping[str, Path] | None = None,
    make_default: bool = True,
) -> Path:
    """Publish ``<output_dir>/<name>-<version>/`` and list it in ``index.json``; returns the directory.

    The card gets the keys in ``WRITER_KEYS`` from here (``ValueError`` if ``card`` sets one), the model's
    tokenizer ships without fixed truncation/padding (the service truncates at ``max_seq_len`` and pads per
    batch), and the staged directory is loaded with ``ModelBundle.load`` before it replaces anything: a
    bundle the service would refuse is never published (``BundleError``). ``inputs`` must name
    ``gazetteer`` exactly when one is given; ``lexical`` ships as ``lexical.npz``. ``make_default``: the
    index's default becomes this bundle (an index without a default always gets one).
    """
    reserved = sorted(WRITER_KEYS & set(card))
    if reserved:
        raise ValueError(f"card keys {reserved} are set by the writer")
    clashes = sorted(set(extra_files or {}) & {*BUNDLE_FILES, GAZETTEER_FILE, LEXICAL_FILE})
    if clashes:
        raise ValueError(f"extra_files {clashes} would replace bundle files")
    if (inputs.gazetteer is None) != (gazetteer is None) or (
        gazetteer is not None and inputs.gazetteer != GazetteerInfo.of(gazetteer)
    ):
        raise ValueError(f"inputs {inputs.as_card()} do not describe the gazetteer given ({gazetteer!r})")
    directory = output_dir / f"{name}-{version}"
    staging = output_dir / f".{name}-{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        shutil.copyfile(model_path, staging / MODEL_FILE)
        (staging / TOKENIZER_FILE).write_text(bundle_tokenizer(tokenizer_path), encoding="utf-8")
        (staging / LABELS_FILE).write_text(json.dumps(list(labels), indent=2, ensure_ascii=False) + "\n")
        if gazetteer is not None:
            gazetteer.write(staging / GAZETTEER_FILE)
        if lexical is not None:
            lexical.save(staging / LEXICAL_FILE)
        for filename, source in (extra_files or {}).items():
            shutil.copyfile(source, staging / filename)
        full_card = {
            "name": name,
            "version": version,
            **card,
            "normalization": NORMALIZATION_VERSION,
            "inputs": inputs.as_card(),
            **(
                {}
                if lexical is None
                else {"lexical": lexical_card(lexical, file_sha256(staging / LEXICAL_FILE))}
            ),
            "model_sha256": file_sha256(staging / MODEL_FILE),
            "model_bytes": (staging / MODEL_FILE).stat().st_size,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "gate": dict(gate),
        }
        (staging / CARD_FILE).write_text(json.dumps(full_card, indent=2, ensure_ascii=False) + "\n")
        ModelBundle.load(staging)  # the reader's rules, on exactly what will be published
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    update_index(output_dir, name=name, version=version, created=full_card["created"],
                 make_default=make_default)  # fmt: skip
    return directory


# -- index --------------------------------------------------------------------------------------------------


def write_reference(path: Path | str, reference: Mapping[str, Any]) -> Path:
    """Set the drift reference (``service.monitoring``) in the card of the bundle at ``path``: checked
    against the bundle's labels, then written atomically (the model and its sha256 are untouched).
    Raises ``BundleError`` (one line) for a bundle that does not load or a reference it would refuse."""
    from service.monitoring import Reference

    bundle = ModelBundle.load(path, open_model=False)
    card_path = Path(path) / CARD_FILE
    card = dict(bundle.card)
    card["reference"] = dict(reference)
    try:
        Reference.from_card(card, bundle.labels)
    except ValueError as error:
        raise BundleError(f"{card_path}: {error}") from None
    staging = card_path.with_name(card_path.name + ".tmp")
    staging.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    os.replace(staging, card_path)
    return card_path


@dataclass(frozen=True)
class BundleIndex:
    """``index.json``: the bundles of a models directory, the one served by default and the one before it
    (what ``rollback`` returns to). Entries are ``{"name", "version", "path", "created", "gate"}``."""

    default: str | None
    previous: str | None
    bundles: tuple[Mapping[str, Any], ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(entry["path"] for entry in self.bundles)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"default": self.default}
        if self.previous is not None:
            out["previous"] = self.previous
        out["bundles"] = [dict(entry) for entry in self.bundles]
        return out


def read_index(models_dir: Path) -> BundleIndex:
    """The index of ``models_dir`` (empty when there is none); ``BundleError`` if it is malformed."""
    path = models_dir / INDEX_FILE
    if not path.exists():
        return BundleIndex(None, None, ())
    raw = _read_json(path)
    bundles = raw.get("bundles", []) if isinstance(raw, dict) else None
    if not isinstance(bundles, list) or not all(
        isinstance(b, dict) and isinstance(b.get("path"), str) for b in bundles
    ):
        raise BundleError(f"{path}: expected an object whose 'bundles' lists objects with a 'path'")
    default, previous = raw.get("default"), raw.get("previous")
    for key, value in (("default", default), ("previous", previous)):
        if value is not None and not isinstance(value, str):
            raise BundleError(f"{path}: {key!r} must be a bundle path or null")
    return BundleIndex(default, previous, tuple(bundles))


def update_index(
    models_dir: Path, *, name: str, version: str, created: str, make_default: bool = True
) -> BundleIndex:
    """List (or refresh) one bundle in ``index.json``; older bundles stay listed. With ``make_default``
    (or in an index without a default) it becomes the default and the old default the ``previous``."""
    index = read_index(models_dir)
    path = f"{name}-{version}"
    entry = {"name": name, "version": version, "path": path, "created": created, "gate": "passed"}
    bundles = sorted([*(b for b in index.bundles if b["path"] != path), entry],
                     key=lambda b: (str(b.get("name")), str(b.get("version"))))  # fmt: skip
    updated = BundleIndex(index.default, index.previous, tuple(bundles))
    if make_default or index.default is None:
        updated = _moved(updated, path)
    _write_index(models_dir, updated)
    return updated


def promote(models_dir: Path, path: str) -> BundleIndex:
    """Make the listed bundle ``path`` (``NAME-VERSION``) the default, after loading it as the service
    would; the old default becomes ``previous``. ``BundleError`` names what is wrong."""
    index = read_index(models_dir)
    if path not in index.paths:
        listed = ", ".join(index.paths) or "none"
        raise BundleError(f"{models_dir / INDEX_FILE}: no bundle {path!r} is listed (listed: {listed})")
    ModelBundle.load(models_dir / path)
    updated = _moved(index, path)
    _write_index(models_dir, updated)
    return updated


def rollback(models_dir: Path) -> BundleIndex:
    """Serve ``previous`` again (it is loaded first); the default it replaces becomes ``previous``, so a
    second rollback undoes the first."""
    index = read_index(models_dir)
    if index.previous is None:
        raise BundleError(f"{models_dir / INDEX_FILE}: no previous bundle to roll back to")
    ModelBundle.load(models_dir / index.previous)
    updated = _moved(index, index.previous)
    _write_index(models_dir, updated)
    return updated


def _moved(index: BundleIndex, path: str) -> BundleIndex:
    if index.default == path:
        return index
    return BundleIndex(path, index.default, index.bundles)


def _write_index(models_dir: Path, index: BundleIndex) -> None:
    """Write ``index.json`` atomically: a reader sees the old file or the new one, never half of one."""
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / INDEX_FILE
    temporary = models_dir / f".{INDEX_FILE}.{os.getpid()}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(index.as_json(), indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
