"""Bundle writer: ``models/<name>-<version>/`` in the format ``service/bundle.py`` defines, and
``models/index.json``. Writes only after the gate passed; never overwrites another version; a bundle the
service's loader refuses is never published."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.bundle import (
    BUNDLE_FILES,
    CARD_FILE,
    GAZETTEER_FILE,
    LABELS_FILE,
    MODEL_FILE,
    TOKENIZER_FILE,
    BundleInputs,
    GazetteerInfo,
    ModelBundle,
    file_sha256,
)
from service.errors import BundleError
from service.gazetteer import Gazetteer
from service.normalize import NORMALIZATION_VERSION
from training.gate import GateFailed, GateReport
from training.labels import LABELS

__all__ = ["file_sha256", "update_index", "write_bundle"]

#: Card keys the writer decides; a caller's ``card`` may not set them.
_WRITER_KEYS = frozenset({"normalization", "model_sha256", "model_bytes", "created", "gate"})


def write_bundle(
    output_dir: Path,
    *,
    name: str,
    version: str,
    model_path: Path,
    tokenizer_path: Path,
    card: dict[str, Any],
    report: GateReport,
    extra_files: dict[str, Path] | None = None,
    direction: bool = False,
    gazetteer: Gazetteer | None = None,
) -> Path:
    """Write the bundle directory and return it; raises :class:`GateFailed` if the gate did not pass.

    ``direction``: the model was trained on ``model_input(..., direction=...)`` inputs; ``gazetteer``: the
    table whose hints it was trained with, shipped as ``gazetteer.tsv``. Both go into the card's
    ``inputs`` (a ``card["inputs"]`` must agree with them), and the card says ``normalization:
    NORMALIZATION_VERSION``. The staged bundle is loaded with the service's ``ModelBundle.load`` before
    it replaces anything, so a bundle the service would refuse is never published (``BundleError``; a
    gazetteer label outside ``LABELS`` is one). Raises ``ValueError`` if ``card`` sets a key the writer
    decides or ``extra_files`` names a bundle file.
    """
    if not report.passed:
        raise GateFailed(report)
    reserved = sorted(_WRITER_KEYS & set(card))
    if reserved:
        raise ValueError(f"card keys {reserved} are set by the writer")
    clashes = sorted(set(extra_files or {}) & {*BUNDLE_FILES, GAZETTEER_FILE})
    if clashes:
        raise ValueError(f"extra_files {clashes} would replace bundle files")
    inputs = BundleInputs(
        direction=direction,
        gazetteer=None if gazetteer is None else GazetteerInfo(gazetteer.source, len(gazetteer)),
    ).as_card()
    if card.get("inputs", inputs) != inputs:
        raise ValueError(
            f"card['inputs'] {card['inputs']} disagrees with direction= and gazetteer= ({inputs})"
        )
    directory = output_dir / f"{name}-{version}"
    staging = output_dir / f".{name}-{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(model_path, staging / MODEL_FILE)
    tokenizer = json.loads(tokenizer_path.read_text())
    # The serving engine truncates at max_seq_len and pads per batch itself: ship no fixed settings.
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    (staging / TOKENIZER_FILE).write_text(json.dumps(tokenizer, ensure_ascii=False))
    (staging / LABELS_FILE).write_text(json.dumps(list(LABELS), indent=2) + "\n")
    if gazetteer is not None:
        gazetteer.write(staging / GAZETTEER_FILE)
    for filename, source in (extra_files or {}).items():
        shutil.copyfile(source, staging / filename)
    full_card = {
        "name": name,
        "version": version,
        **card,
        "normalization": NORMALIZATION_VERSION,
        "inputs": inputs,
        "model_sha256": file_sha256(staging / MODEL_FILE),
        "model_bytes": (staging / MODEL_FILE).stat().st_size,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gate": report.as_dict(),
    }
    (staging / CARD_FILE).write_text(json.dumps(full_card, indent=2) + "\n")
    try:
        ModelBundle.load(staging)  # the reader's rules, on exactly what will be published
    except BundleError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    staging.rename(directory)
    update_index(output_dir, name=name, version=version, created=full_card["created"])
    return directory


def update_index(
    output_dir: Path, *, name: str, version: str, created: str, make_default: bool = True
) -> None:
    """Add (or refresh) one bundle in ``index.json``; older bundles stay listed so rollback is a pin."""
    index_path = output_dir / "index.json"
    index: dict[str, Any] = json.loads(index_path.read_text()) if index_path.exists() else {"bundles": []}
    path = f"{name}-{version}"
    bundles = [b for b in index.get("bundles", []) if b.get("path") != path]
    bundles.append({"name": name, "version": version, "path": path, "created": created, "gate": "passed"})
    index["bundles"] = sorted(bundles, key=lambda b: (b["name"], b["version"]))
    if make_default or "default" not in index:
        index["default"] = path
    index_path.write_text(
        json.dumps({"default": index["default"], "bundles": index["bundles"]}, indent=2) + "\n"
    )
