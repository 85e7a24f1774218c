"""The committed bundles' cards match their files; every indexed bundle stays loadable (rollback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.bundle import ModelBundle
from service.normalize import SUPPORTED_NORMALIZATIONS
from training.bundle import file_sha256
from training.labels import LABELS

MODELS = Path(__file__).resolve().parents[2] / "models"
MAX_BUNDLE_BYTES = 40 * 1024 * 1024


def _default() -> Path:
    index = json.loads((MODELS / "index.json").read_text())
    assert index["default"] in {b["path"] for b in index["bundles"]}
    return MODELS / str(index["default"])


def _indexed() -> list[str]:
    index = json.loads((MODELS / "index.json").read_text())
    return [str(b["path"]) for b in index["bundles"]]


@pytest.mark.parametrize("path", _indexed())
def test_card_matches_files(path: str) -> None:
    directory = MODELS / path
    card = json.loads((directory / "model_card.json").read_text())
    assert card["model_sha256"] == file_sha256(directory / "model.onnx")
    assert json.loads((directory / "labels.json").read_text()) == list(LABELS)
    assert card["normalization"] in SUPPORTED_NORMALIZATIONS
    assert card["gate"]["passed"] is True


def test_card_holds_the_gate_metrics() -> None:
    card = json.loads((_default() / "model_card.json").read_text())
    metrics, gate = card["metrics"], card["build_config"]["gate"]
    for model in ("teacher", "student_fp32", "student_int8"):
        assert 0.0 <= metrics[model]["macro_f1"] <= 1.0
        assert set(metrics[model]["per_label_f1"]) == set(LABELS)
    # Batch invariance is a product guarantee, not a tunable floor.
    assert metrics["batch_invariance_max_delta"] <= 1e-5
    assert metrics["throughput"]["bucketed_texts_per_s"] >= gate["min_throughput"]
    assert metrics["int8_fp32_agreement"] >= gate["min_int8_agreement"]
    assert metrics["student_int8"]["macro_f1"] >= gate["min_macro_f1"]


@pytest.mark.parametrize("path", _indexed())
def test_bundle_loads_and_fits_the_size_budget(path: str) -> None:
    directory = MODELS / path
    ModelBundle.load(directory)
    assert sum(f.stat().st_size for f in directory.iterdir()) <= MAX_BUNDLE_BYTES
