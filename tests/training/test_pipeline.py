"""The whole pipeline end to end on the tiny config (MiniLM slices, a few hundred narrations)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from service.bundle import ModelBundle
from training.bundle import file_sha256
from training.config import BuildConfig, load_config
from training.data import sample_narrations
from training.dataset import LabelledRow, write_csv
from training.gate import GateFailed
from training.labels import LABELS
from training.pipeline import build, import_hf
from training.runtime import OnnxClassifier, softmax

pytestmark = pytest.mark.slow

TINY = Path(__file__).resolve().parents[2] / "training" / "configs" / "tiny.yaml"


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> BuildConfig:
    root = tmp_path_factory.mktemp("tiny-build")
    return load_config(TINY, output_dir=str(root / "models"), work_dir=str(root / "work"))


@pytest.fixture(scope="module")
def tiny_bundle(tiny_config: BuildConfig) -> Path:
    return build(tiny_config)


def test_tiny_build_writes_a_bundle_the_service_loads(tiny_bundle: Path, tiny_config: BuildConfig) -> None:
    bundle = ModelBundle.load(tiny_bundle)
    assert bundle.labels == LABELS
    card = json.loads((tiny_bundle / "model_card.json").read_text())
    assert card["model_sha256"] == file_sha256(tiny_bundle / "model.onnx")
    assert card["gate"]["passed"] is True
    # The drift reference: the int8 model's answers on the test split (service.monitoring reads it).
    reference = card["reference"]
    assert reference["rows"] == tiny_config.data.test_size
    assert set(reference["label_distribution"]) == set(LABELS)
    assert abs(sum(reference["label_distribution"].values()) - 1) < 1e-4
    assert abs(sum(reference["confidence_histogram"]["shares"]) - 1) < 1e-4
    index = json.loads((Path(tiny_config.output_dir) / "index.json").read_text())
    assert index["default"] == tiny_bundle.name
    assert (tiny_bundle / "confusion_int8.png").stat().st_size > 0
    # The dev set's rows by the gazetteer hint they carry: every row counted once, in one of three groups.
    by_hint = card["metrics"]["by_hint"]["dev"]
    assert set(by_hint) <= {"right hint", "wrong hint", "no hint"}
    assert "no hint" in by_hint
    assert sum(group["n"] for group in by_hint.values()) == card["metrics"]["dev"]["n"]


def test_the_tiny_bundle_serves_its_lexical_model_mixed_as_gated(tiny_bundle: Path) -> None:
    from service.classifier import Classifier

    bundle = ModelBundle.load(tiny_bundle)
    card = bundle.card
    assert bundle.lexical is not None
    assert card["lexical"]["features"] == len(bundle.lexical.vocabulary) > 100
    # Fitted on lexical.train_size generated rows, not only the student's training split.
    assert card["data"]["sizes"]["lexical_train"] == 1000 > card["data"]["sizes"]["train"]
    # The gate judges the answers the bundle gives: the mix.
    macro_f1_check = next(c for c in card["gate"]["checks"] if c["name"] == "macro_f1")
    assert macro_f1_check["value"] == card["metrics"]["served"]["macro_f1"]
    assert card["metrics"]["lexical"]["microseconds_per_text"] > 0
    texts = ["sq *joes tacos austin tx", "netflix.com", "zelle payment to john smith", "atm withdrawal"]
    classifier = Classifier.load(tiny_bundle)
    served = np.stack([p.probabilities for p in classifier.classify(texts)])
    model = OnnxClassifier(
        bundle.model_path, bundle.tokenizer_path, max_len=bundle.max_seq_len, pad_id=bundle.pad_token_id
    ).with_lexical(bundle.lexical)
    inputs = classifier._model_inputs(texts, None)
    np.testing.assert_allclose(served, softmax(model.logits(inputs)), atol=1e-6)
    alone = softmax(model.with_lexical(None).logits(inputs))
    assert np.abs(served - alone).max() > 1e-3  # the mix is what is served, not the ONNX output alone


def test_tiny_int8_model_is_batch_invariant(tiny_bundle: Path) -> None:
    bundle = ModelBundle.load(tiny_bundle)
    model = OnnxClassifier(
        bundle.model_path, bundle.tokenizer_path, max_len=bundle.max_seq_len, pad_id=bundle.pad_token_id
    )
    texts = [
        "sq *joes tacos austin tx",
        "netflix.com",
        "zelle payment to john smith conf# #",
        "atm withdrawal",
    ]
    texts += [f"pos purchase store {i} lagos ng" * (1 + i % 3) for i in range(12)]
    rows = model.encode(texts)
    alone = np.concatenate([softmax(model.run_ids([r])) for r in rows])
    rng = random.Random(0)
    for _ in range(5):
        order = list(range(len(rows)))
        rng.shuffle(order)
        batched = softmax(model.run_ids([rows[i] for i in order]))
        assert np.abs(batched - alone[order]).max() <= 1e-5


def test_gate_refuses_a_bundle_below_threshold(tiny_bundle: Path, tiny_config: BuildConfig) -> None:
    strict = replace(tiny_config, version="0.0.2", gate=replace(tiny_config.gate, min_macro_f1=1.01))
    with pytest.raises(GateFailed, match="macro_f1"):
        build(strict)
    assert not (Path(strict.output_dir) / "txclassify-tiny-0.0.2").exists()


def test_import_hf_turns_a_local_checkpoint_into_a_gated_bundle(
    tiny_bundle: Path, tiny_config: BuildConfig, tmp_path: Path
) -> None:
    eval_csv = tmp_path / "eval.csv"
    write_csv(
        eval_csv,
        [LabelledRow(n.text, n.label, n.direction) for n in sample_narrations(150, seed=4, split="test")],
    )
    config = replace(tiny_config, name="byo", version="0.1.0")
    bundle = import_hf(Path(tiny_config.work_dir) / "student-fp32", eval_csv, config)
    loaded = ModelBundle.load(bundle)
    assert loaded.name == "byo"
    assert loaded.card["teacher"] == "none (imported model)"
    assert "teacher_gap" not in {c["name"] for c in loaded.card["gate"]["checks"]}
