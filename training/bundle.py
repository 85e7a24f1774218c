"""Bundle writer: ``models/<name>-<version>/`` (model.onnx, tokenizer.json, labels.json, model_card.json)
and ``models/index.json``. Writes only after the gate passed; never overwrites another version."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.bundle import file_sha256
from service.normalize import NORMALIZATION_VERSION
from training.gate import GateFailed, GateReport
from training.labels import LABELS

__all__ = ["file_sha256", "update_index", "write_bundle"]


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
) -> Path:
    """Write the bundle directory and return it; raises :class:`GateFailed` if the gate did not pass."""
    if not report.passed:
        raise GateFailed(report)
    directory = output_dir / f"{name}-{version}"
    staging = output_dir / f".{name}-{version}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copyfile(model_path, staging / "model.onnx")
    tokenizer = json.loads(tokenizer_path.read_text())
    # The serving engine truncates at max_seq_len and pads per batch itself: ship no fixed settings.
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    (staging / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))
    (staging / "labels.json").write_text(json.dumps(list(LABELS), indent=2) + "\n")
    for filename, source in (extra_files or {}).items():
        shutil.copyfile(source, staging / filename)
    full_card = {
        "name": name,
        "version": version,
        **card,
        "normalization": NORMALIZATION_VERSION,
        "model_sha256": file_sha256(staging / "model.onnx"),
        "model_bytes": (staging / "model.onnx").stat().st_size,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "gate": report.as_dict(),
    }
    (staging / "model_card.json").write_text(json.dumps(full_card, indent=2) + "\n")
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
