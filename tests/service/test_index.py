"""The one bundle writer and the models index: publish, list, promote, roll back (atomically)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from service.bundle import (
    ModelBundle,
    promote,
    read_index,
    rollback,
    update_index,
    write_bundle,
)
from service.classifier import Classifier
from service.cli import main
from service.errors import BundleError
from tests.fixtures.tiny_bundle import build_tiny_bundle
from tests.service.conftest import edit_card

CUSTOM = ("Groceries", "Eating out", "Salary", "Rent", "Transfers")


@pytest.fixture(scope="module")
def tiny_custom_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random model with a 5-label head named in a customer's own taxonomy."""
    return build_tiny_bundle(tmp_path_factory.mktemp("custom") / "bundle", labels=list(CUSTOM))


def publish(tiny_bundle: Path, models: Path, version: str, **options: Any) -> Path:
    card = json.loads((tiny_bundle / "model_card.json").read_text())
    keys = ("base_model", "teacher", "max_seq_len", "pad_token_id", "abstain_threshold", "metrics")
    labels = json.loads((tiny_bundle / "labels.json").read_text())
    return write_bundle(
        models, name="acme", version=version, model_path=tiny_bundle / "model.onnx",
        tokenizer_path=tiny_bundle / "tokenizer.json", labels=labels, card={k: card[k] for k in keys},
        gate={"passed": True, "checks": []}, **options,
    )  # fmt: skip


@pytest.fixture
def models(tiny_bundle: Path, tmp_path: Path) -> Path:
    directory = tmp_path / "models"
    publish(tiny_bundle, directory, "1.0.0")
    publish(tiny_bundle, directory, "1.1.0", make_default=False)
    return directory


def test_the_writer_keeps_labels_in_labels_json_only(models: Path) -> None:
    bundle = ModelBundle.load(models / "acme-1.0.0")
    assert "labels" not in bundle.card
    assert len(bundle.labels) == 16


def test_a_card_whose_labels_disagree_is_refused(tiny_bundle: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))
    edit_card(copy, labels=["A", "B"])
    with pytest.raises(BundleError, match=r"'labels' disagrees with labels\.json"):
        ModelBundle.load(copy)


def test_the_first_bundle_is_the_default_and_later_ones_wait_for_promotion(models: Path) -> None:
    index = read_index(models)
    assert (index.default, index.previous) == ("acme-1.0.0", None)
    assert index.paths == ("acme-1.0.0", "acme-1.1.0")


def test_promote_then_rollback_then_rollback_again(models: Path) -> None:
    assert (promote(models, "acme-1.1.0").default, read_index(models).previous) == (
        "acme-1.1.0",
        "acme-1.0.0",
    )
    assert (rollback(models).default, read_index(models).previous) == ("acme-1.0.0", "acme-1.1.0")
    assert rollback(models).default == "acme-1.1.0"
    on_disk = json.loads((models / "index.json").read_text())
    assert (on_disk["default"], on_disk["previous"]) == ("acme-1.1.0", "acme-1.0.0")
    assert sorted(p.name for p in models.iterdir() if p.name.startswith(".")) == []


def test_promote_refuses_an_unlisted_or_broken_bundle(models: Path) -> None:
    with pytest.raises(
        BundleError, match=r"no bundle 'acme-9.9.9' is listed \(listed: acme-1.0.0, acme-1.1.0\)"
    ):
        promote(models, "acme-9.9.9")
    (models / "acme-1.1.0" / "model.onnx").write_bytes(b"broken")
    with pytest.raises(BundleError, match="sha256"):
        promote(models, "acme-1.1.0")
    assert read_index(models).default == "acme-1.0.0"


def test_rollback_needs_a_previous_bundle(models: Path) -> None:
    with pytest.raises(BundleError, match="no previous bundle"):
        rollback(models)


def test_refreshing_a_listed_bundle_keeps_one_entry(models: Path) -> None:
    update_index(models, name="acme", version="1.1.0", created="2026-12-01T00:00:00Z")
    index = read_index(models)
    assert index.paths == ("acme-1.0.0", "acme-1.1.0")
    assert (index.default, index.previous) == ("acme-1.1.0", "acme-1.0.0")


def test_a_custom_taxonomy_bundle_loads(tiny_custom_bundle: Path, tmp_path: Path) -> None:
    directory = publish(tiny_custom_bundle, tmp_path / "custom", "1.0.0")
    assert ModelBundle.load(directory).labels == CUSTOM


def test_models_commands(models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--models-dir", str(models), "promote", "acme-1.1.0"]) == 0
    assert "default: acme-1.1.0 (previous: acme-1.0.0)" in capsys.readouterr().out
    assert main(["models", "list", "--models-dir", str(models)]) == 0  # either position
    listing = capsys.readouterr().out.splitlines()
    assert listing[1].startswith("- acme-1.0.0")
    assert listing[2].startswith("* acme-1.1.0")
    assert main(["models", "--models-dir", str(models), "rollback"]) == 0
    assert read_index(models).default == "acme-1.0.0"
    assert main(["models", "--models-dir", str(models), "promote", "nope-1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "nope-1" in error


def test_a_start_opens_one_onnx_session(tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real = ort.InferenceSession

    def counting(path: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", counting)
    Classifier.load(tiny_bundle)
    assert opened == [str(tiny_bundle / "model.onnx")]
