"""The bundle writer: what it publishes is what the service loads, inputs and gazetteer included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.bundle import ModelBundle
from service.errors import BundleError
from service.gazetteer import Gazetteer
from training.bundle import write_bundle
from training.gate import GateReport

PASSED = GateReport(checks=())
TABLE = Gazetteer({"tesco": "FOOD_AND_DRINK", "shell": "TRANSPORTATION"}, "name-suggestion-index 0.0.1")


def card_for(tiny_bundle: Path, **changes: Any) -> dict[str, Any]:
    tiny = json.loads((tiny_bundle / "model_card.json").read_text())
    keys = ("base_model", "teacher", "max_seq_len", "pad_token_id", "abstain_threshold", "metrics")
    return {**{key: tiny[key] for key in keys}, **changes}


def write(tiny_bundle: Path, output: Path, card: dict[str, Any] | None = None, **options: Any) -> Path:
    return write_bundle(
        output, name="txclassify", version="2.0.0", model_path=tiny_bundle / "model.onnx",
        tokenizer_path=tiny_bundle / "tokenizer.json", card=card or card_for(tiny_bundle), report=PASSED,
        **options,
    )  # fmt: skip


def test_a_gazetteer_and_direction_bundle_loads(tiny_bundle: Path, tmp_path: Path) -> None:
    directory = write(tiny_bundle, tmp_path / "models", direction=True, gazetteer=TABLE)
    bundle = ModelBundle.load(directory)
    assert bundle.card["normalization"] == "txc-norm-2"
    assert bundle.card["inputs"] == {
        "direction": True,
        "gazetteer": {"source": "name-suggestion-index 0.0.1", "entries": 2, "matching": "exact"},
    }
    assert bundle.gazetteer is not None
    assert dict(bundle.gazetteer) == dict(TABLE)
    index = json.loads((tmp_path / "models" / "index.json").read_text())
    assert index["default"] == "txclassify-2.0.0"


def test_a_plain_bundle_says_it_reads_the_narration_only(tiny_bundle: Path, tmp_path: Path) -> None:
    directory = write(tiny_bundle, tmp_path / "models")
    assert not (directory / "gazetteer.tsv").exists()
    assert ModelBundle.load(directory).card["inputs"] == {"direction": False, "gazetteer": None}


def test_card_inputs_must_agree(tiny_bundle: Path, tmp_path: Path) -> None:
    agreeing = card_for(tiny_bundle, inputs={"direction": True, "gazetteer": None})
    assert ModelBundle.load(write(tiny_bundle, tmp_path / "a", agreeing, direction=True)).inputs.direction
    with pytest.raises(ValueError, match="disagrees"):
        write(tiny_bundle, tmp_path / "b", agreeing, direction=False)


@pytest.mark.parametrize("key", ["normalization", "model_sha256", "gate"])
def test_writer_keys_cannot_come_from_the_card(tiny_bundle: Path, tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        write(tiny_bundle, tmp_path / "models", card_for(tiny_bundle, **{key: "x"}))


def test_extra_files_cannot_replace_bundle_files(tiny_bundle: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"gazetteer\.tsv"):
        write(tiny_bundle, tmp_path / "models", extra_files={"gazetteer.tsv": tiny_bundle / "labels.json"})


def test_a_bundle_the_service_refuses_is_never_published(tiny_bundle: Path, tmp_path: Path) -> None:
    foreign = Gazetteer({"tesco": "FOOD-AND-DRINK"}, "elsewhere")
    with pytest.raises(BundleError, match=r"gazetteer\.tsv: hint 'FOOD-AND-DRINK' is not a label name"):
        write(tiny_bundle, tmp_path / "models", gazetteer=foreign)
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(BundleError, match="max_seq_len"):
        write(tiny_bundle, tmp_path / "models", card_for(tiny_bundle, max_seq_len=1))
    assert list((tmp_path / "models").iterdir()) == []
