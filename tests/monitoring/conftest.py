"""Variants of the tiny bundle: one whose card has a drift reference, one that answers differently."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.fixtures.tiny_bundle import DEFAULT_LABELS


def _copy(tiny_bundle: Path, factory: pytest.TempPathFactory, name: str) -> Path:
    bundle = factory.mktemp(name)
    shutil.copytree(tiny_bundle, bundle, dirs_exist_ok=True)
    return bundle


@pytest.fixture(scope="session")
def reference_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle whose card says its reference traffic was all FOOD_AND_DRINK and TRAVEL."""
    bundle = _copy(tiny_bundle, tmp_path_factory, "reference-bundle")
    card = json.loads((bundle / "model_card.json").read_text())
    card["reference"] = {"label_distribution": {"FOOD_AND_DRINK": 0.5, "TRAVEL": 0.5}, "rows": 1000}
    (bundle / "model_card.json").write_text(json.dumps(card))
    return bundle


@pytest.fixture(scope="session")
def shadow_bundle(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bundle with its labels in reverse order: same model, mostly different answers."""
    bundle = _copy(tiny_bundle, tmp_path_factory, "shadow-bundle")
    (bundle / "labels.json").write_text(json.dumps(list(reversed(DEFAULT_LABELS))))
    card = json.loads((bundle / "model_card.json").read_text())
    card["version"] = "0.0.0-shadow"
    (bundle / "model_card.json").write_text(json.dumps(card))
    return bundle
