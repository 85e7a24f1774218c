"""Fixtures shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY = Path(__file__).resolve().parents[2] / "training" / "configs" / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_parent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny configuration built end to end (teacher, student, int8, gate), with its fp32 student kept
    under ``<models>/students/``: the parent of the adaptation and recovery tests. Tests may add bundles
    beside it, never change it."""
    from training.config import load_config
    from training.pipeline import build

    root = tmp_path_factory.mktemp("tiny-adapt")
    return build(load_config(TINY, output_dir=str(root / "models"), work_dir=str(root / "work")))
