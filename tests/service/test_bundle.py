"""Bundle verification: every inconsistency is refused with one line naming the file."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from service.bundle import (
    LEXICAL_FILE,
    BundleInputs,
    GazetteerInfo,
    ModelBundle,
    default_model_dir,
    file_sha256,
    lexical_card,
)
from service.errors import BundleError
from service.gazetteer import PASS, Gazetteer
from service.lexical import LexicalModel
from service.normalize import model_input
from tests.fixtures.tiny_bundle import DEFAULT_LABELS
from tests.service.conftest import HINTED_ENTRIES, add_gazetteer, edit_card

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture
def bundle_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))


def test_a_valid_bundle_loads(tiny_bundle: Path) -> None:
    bundle = ModelBundle.load(tiny_bundle)
    assert bundle.labels == DEFAULT_LABELS
    assert bundle.max_seq_len == 32
    assert bundle.model_path == tiny_bundle / "model.onnx"


@pytest.mark.parametrize("missing", ["model.onnx", "tokenizer.json", "labels.json", "model_card.json"])
def test_a_missing_file_is_named(bundle_copy: Path, missing: str) -> None:
    (bundle_copy / missing).unlink()
    with pytest.raises(BundleError, match=missing):
        ModelBundle.load(bundle_copy)


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="directory not found"):
        ModelBundle.load(tmp_path / "nowhere")


def test_checksum_mismatch_is_refused(bundle_copy: Path) -> None:
    with (bundle_copy / "model.onnx").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"model\.onnx: sha256 .* does not match"):
        ModelBundle.load(bundle_copy)


def test_truncated_model_is_refused(bundle_copy: Path) -> None:
    model = bundle_copy / "model.onnx"
    model.write_bytes(model.read_bytes()[:1000])
    edit_card(bundle_copy, model_sha256=__import__("hashlib").sha256(model.read_bytes()).hexdigest())
    with pytest.raises(BundleError, match=r"model\.onnx: ONNX Runtime cannot load it"):
        ModelBundle.load(bundle_copy)


def test_labels_must_match_the_output_width(bundle_copy: Path) -> None:
    (bundle_copy / "labels.json").write_text(json.dumps(list(DEFAULT_LABELS[:15])))
    with pytest.raises(BundleError, match=r"labels\.json: 15 labels but model\.onnx outputs 16"):
        ModelBundle.load(bundle_copy)


def test_other_normalization_is_refused(bundle_copy: Path) -> None:
    edit_card(bundle_copy, normalization="txc-norm-0")
    with pytest.raises(BundleError, match="normalization 'txc-norm-0' differs"):
        ModelBundle.load(bundle_copy)


@pytest.mark.parametrize("version", ["txc-norm-1", "txc-norm-2"])
def test_both_supported_normalizations_load(bundle_copy: Path, version: str) -> None:
    edit_card(bundle_copy, normalization=version)
    bundle = ModelBundle.load(bundle_copy)
    assert bundle.normalization == version
    assert bundle.inputs == BundleInputs(direction=False, gazetteer=None)
    assert bundle.gazetteer is None


@pytest.mark.parametrize("path", ["txclassify-1.0.0", "txclassify-1.1.0", "txclassify-1.2.0"])
def test_shipped_bundles_read_the_narration_only(path: str) -> None:
    bundle = ModelBundle.load(MODELS / path)
    assert "inputs" not in bundle.card
    assert bundle.normalization == "txc-norm-1"
    assert bundle.inputs.as_card() == {"direction": False, "gazetteer": None}


def test_a_gazetteer_bundle_loads_its_table(hinted_bundle: Path) -> None:
    bundle = ModelBundle.load(hinted_bundle)
    assert bundle.inputs == BundleInputs(direction=True, gazetteer=GazetteerInfo("tests 1", 4))
    assert bundle.gazetteer is not None
    assert dict(bundle.gazetteer) == HINTED_ENTRIES
    assert bundle.inputs.as_card() == {
        "direction": True,
        "gazetteer": {"source": "tests 1", "entries": 4, "matching": "exact"},
    }


def test_a_card_without_matching_means_exact(bundle_copy: Path) -> None:
    # Cards written before the compact rule existed name no matching: their table keeps the exact rule.
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    edit_card(bundle_copy, inputs={"direction": True, "gazetteer": {"source": "tests 1", "entries": 4}})
    bundle = ModelBundle.load(bundle_copy)
    assert bundle.inputs.gazetteer == GazetteerInfo("tests 1", 4, "exact")
    assert bundle.gazetteer is not None
    assert bundle.gazetteer.matching == "exact"


def test_a_compact_gazetteer_bundle_loads_and_matches_compactly(bundle_copy: Path) -> None:
    add_gazetteer(
        bundle_copy,
        Gazetteer({"media markt": "GENERAL_MERCHANDISE"}, "tests 1", matching="compact"),
        direction=True,
    )
    bundle = ModelBundle.load(bundle_copy)
    assert bundle.inputs.gazetteer == GazetteerInfo("tests 1", 1, "compact")
    assert bundle.gazetteer is not None
    assert bundle.gazetteer.lookup("mediamarkt alcorcon") == "GENERAL_MERCHANDISE"


def test_the_card_must_name_the_tables_matching(bundle_copy: Path) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1", matching="compact"), direction=True)
    edit_card(bundle_copy, inputs={"direction": True, "gazetteer": {"source": "tests 1", "entries": 4}})
    with pytest.raises(
        BundleError, match=r"matching compact; the card says 4 from 'tests 1', matching exact"
    ):
        ModelBundle.load(bundle_copy)


@pytest.mark.parametrize(
    "inputs",
    [
        [],
        {"direction": True},
        {"direction": "yes", "gazetteer": None},
        {"direction": True, "gazetteer": None, "hint": True},
        {"direction": True, "gazetteer": {"source": "x"}},
        {"direction": True, "gazetteer": {"source": "", "entries": 1}},
        {"direction": True, "gazetteer": {"source": "x", "entries": True}},
        {"direction": True, "gazetteer": {"source": "x", "entries": -1}},
        {"direction": True, "gazetteer": {"source": "x", "entries": 1, "matching": "fuzzy"}},
        {"direction": True, "gazetteer": {"source": "x", "entries": 1, "order": "leftmost"}},
    ],
)
def test_malformed_inputs_are_refused(bundle_copy: Path, inputs: object) -> None:
    edit_card(bundle_copy, inputs=inputs)
    with pytest.raises(BundleError, match=r"model_card\.json: 'inputs"):
        ModelBundle.load(bundle_copy)


def test_a_norm_1_card_cannot_claim_direction(bundle_copy: Path) -> None:
    edit_card(bundle_copy, normalization="txc-norm-1", inputs={"direction": True, "gazetteer": None})
    with pytest.raises(BundleError, match="txc-norm-1 model reads neither"):
        ModelBundle.load(bundle_copy)


def test_a_norm_1_card_cannot_ship_a_gazetteer(bundle_copy: Path) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=False)
    edit_card(bundle_copy, normalization="txc-norm-1")
    with pytest.raises(BundleError, match="txc-norm-1 model reads neither"):
        ModelBundle.load(bundle_copy)


def test_the_card_must_name_a_present_gazetteer(bundle_copy: Path) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    edit_card(bundle_copy, inputs={"direction": True, "gazetteer": None})
    with pytest.raises(
        BundleError, match=r"gazetteer\.tsv: present, but the card's 'inputs.gazetteer' is null"
    ):
        ModelBundle.load(bundle_copy)


def test_a_named_gazetteer_must_be_present(bundle_copy: Path) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    (bundle_copy / "gazetteer.tsv").unlink()
    with pytest.raises(BundleError, match=r"gazetteer\.tsv: missing from the bundle"):
        ModelBundle.load(bundle_copy)


@pytest.mark.parametrize(("source", "entries"), [("tests 2", 4), ("tests 1", 5)])
def test_the_card_must_describe_the_gazetteer(bundle_copy: Path, source: str, entries: int) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    edit_card(bundle_copy, inputs={"direction": True, "gazetteer": {"source": source, "entries": entries}})
    with pytest.raises(
        BundleError, match=r"gazetteer\.tsv: holds 4 entries from 'tests 1', matching exact; the card says"
    ):
        ModelBundle.load(bundle_copy)


def test_gazetteer_labels_are_hint_words_not_output_labels(bundle_copy: Path) -> None:
    # An adapted bundle with its customer's own taxonomy keeps its parent's gazetteer and hints.
    add_gazetteer(bundle_copy, Gazetteer({"tesco": "GROCERIES"}, "tests 1"), direction=True)
    loaded = ModelBundle.load(bundle_copy).gazetteer
    assert loaded is not None
    assert dict(loaded) == {"tesco": "GROCERIES"}
    add_gazetteer(bundle_copy, Gazetteer({"tesco": "FOOD-AND-DRINK"}, "tests 1"), direction=True)
    with pytest.raises(BundleError, match=r"gazetteer\.tsv: hint 'FOOD-AND-DRINK' is not a label name"):
        ModelBundle.load(bundle_copy)


def test_a_gazetteer_with_payment_method_phrases_loads(bundle_copy: Path) -> None:
    # PASS entries ("apple pay") are never hints: the loader does not ask them to be label names.
    table = Gazetteer({"tesco": "GROCERIES", "apple pay": PASS}, "tests 1")
    add_gazetteer(bundle_copy, table, direction=True)
    loaded = ModelBundle.load(bundle_copy).gazetteer
    assert loaded is not None
    assert loaded.lookup("apple pay tesco") == "GROCERIES"


def test_a_corrupt_gazetteer_names_the_line(bundle_copy: Path) -> None:
    add_gazetteer(bundle_copy, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=True)
    path = bundle_copy / "gazetteer.tsv"
    path.write_text(path.read_text().replace("shell\t", "Shell Oil\t"))
    with pytest.raises(BundleError, match=r"gazetteer\.tsv:5: key 'Shell Oil' is not in match_key form"):
        ModelBundle.load(bundle_copy)


@pytest.mark.parametrize(
    ("key", "value"), [("max_seq_len", "48"), ("abstain_threshold", 2.0), ("name", None)]
)
def test_bad_card_values_are_refused(bundle_copy: Path, key: str, value: object) -> None:
    edit_card(bundle_copy, **{key: value})
    with pytest.raises(BundleError, match=key):
        ModelBundle.load(bundle_copy)


def test_unreadable_json_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "labels.json").write_text("[not json")
    with pytest.raises(BundleError, match=r"labels\.json: unreadable JSON"):
        ModelBundle.load(bundle_copy)


def test_errors_are_one_line(bundle_copy: Path) -> None:
    (bundle_copy / "model.onnx").write_bytes(b"garbage\nwith\nlines")
    edit_card(bundle_copy, model_sha256=__import__("hashlib").sha256(b"garbage\nwith\nlines").hexdigest())
    with pytest.raises(BundleError) as error:
        ModelBundle.load(bundle_copy)
    assert "\n" not in str(error.value)


def test_the_env_var_is_read_at_the_edge_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from service.settings import Settings

    monkeypatch.setenv("TXC_MODEL_DIR", str(tmp_path))
    assert Settings().model_dir == tmp_path
    assert Settings.defaults().model_dir is None
    assert default_model_dir() != tmp_path  # library code reads the index, not the environment


def test_default_model_dir_reads_the_index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TXC_MODEL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "index.json").write_text(
        json.dumps({"default": "txclassify-9.9.9", "bundles": []})
    )
    repo_index = Path(__file__).resolve().parents[2] / "models" / "index.json"
    expected = (
        repo_index.parent / json.loads(repo_index.read_text())["default"] if repo_index.exists() else None
    )
    assert default_model_dir() == (expected or tmp_path / "models" / "txclassify-9.9.9")


def test_no_index_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TXC_MODEL_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    if (Path(__file__).resolve().parents[2] / "models" / "index.json").exists():
        pytest.skip("the repository ships a model index")
    with pytest.raises(BundleError, match="TXC_MODEL_DIR"):
        default_model_dir()


def test_an_unreadable_tokenizer_is_named(bundle_copy: Path) -> None:
    (bundle_copy / "tokenizer.json").write_text('{"version": "1.0", "truncation"')
    with pytest.raises(BundleError, match=r"tokenizer\.json: not a usable tokenizer"):
        ModelBundle.load(bundle_copy)


def test_write_reference_checks_labels_and_keeps_the_model(bundle_copy: Path) -> None:
    from service.bundle import file_sha256, write_reference

    digest = file_sha256(bundle_copy / "model.onnx")
    with pytest.raises(BundleError, match="names labels the bundle lacks: SHOPPING"):
        write_reference(bundle_copy, {"label_distribution": {"SHOPPING": 1.0}})
    assert "reference" not in json.loads((bundle_copy / "model_card.json").read_text())
    write_reference(bundle_copy, {"label_distribution": {DEFAULT_LABELS[0]: 1.0}, "rows": 3})
    loaded = ModelBundle.load(bundle_copy)
    assert loaded.card["reference"]["rows"] == 3
    assert file_sha256(bundle_copy / "model.onnx") == digest
    assert not list(bundle_copy.glob("*.tmp"))


def _lexical_model(num_labels: int) -> LexicalModel:
    rng = np.random.default_rng(0)
    grams = [" s", "st", "ta", "ar", " n", "ne", "et", "tf"]
    return LexicalModel(
        {gram: i for i, gram in enumerate(grams)},
        np.ones(len(grams), dtype=np.float32),
        rng.normal(size=(len(grams), num_labels)).astype(np.float32),
        np.zeros(num_labels, dtype=np.float32),
        2,
        4,
        student_weight=0.75,
        lexical_weight=0.5,
    )


def add_lexical(bundle: Path) -> LexicalModel:
    model = _lexical_model(len(DEFAULT_LABELS))
    model.save(bundle / LEXICAL_FILE)
    edit_card(bundle, lexical=lexical_card(model, file_sha256(bundle / LEXICAL_FILE)))
    return LexicalModel.load(bundle / LEXICAL_FILE, len(DEFAULT_LABELS))


def test_a_lexical_bundle_loads_the_model_its_card_describes(bundle_copy: Path) -> None:
    expected = add_lexical(bundle_copy)
    bundle = ModelBundle.load(bundle_copy)
    assert bundle.lexical is not None
    assert bundle.lexical.vocabulary == expected.vocabulary
    assert (bundle.lexical.student_weight, bundle.lexical.lexical_weight) == (0.75, 0.5)


def test_a_lexical_file_the_card_does_not_name_is_refused(bundle_copy: Path) -> None:
    _lexical_model(len(DEFAULT_LABELS)).save(bundle_copy / LEXICAL_FILE)
    with pytest.raises(BundleError, match=r"lexical\.npz: present, but the card has no 'lexical'"):
        ModelBundle.load(bundle_copy)


def test_a_named_lexical_file_must_be_present(bundle_copy: Path) -> None:
    add_lexical(bundle_copy)
    (bundle_copy / LEXICAL_FILE).unlink()
    with pytest.raises(BundleError, match=r"lexical\.npz: missing from the bundle"):
        ModelBundle.load(bundle_copy)


def test_a_replaced_lexical_file_is_refused(bundle_copy: Path) -> None:
    add_lexical(bundle_copy)
    replace(_lexical_model(len(DEFAULT_LABELS)), lexical_weight=0.9).save(bundle_copy / LEXICAL_FILE)
    with pytest.raises(BundleError, match=r"lexical\.npz: sha256 .* does not match"):
        ModelBundle.load(bundle_copy)


def test_the_card_must_describe_the_lexical_file(bundle_copy: Path) -> None:
    add_lexical(bundle_copy)
    card = json.loads((bundle_copy / "model_card.json").read_text())
    edit_card(bundle_copy, lexical={**card["lexical"], "lexical_weight": 0.25})
    with pytest.raises(BundleError, match=r"lexical\.npz: holds .* the card says"):
        ModelBundle.load(bundle_copy)


def test_a_lexical_model_for_other_labels_is_refused(bundle_copy: Path) -> None:
    model = _lexical_model(len(DEFAULT_LABELS) - 1)
    model.save(bundle_copy / LEXICAL_FILE)
    edit_card(bundle_copy, lexical=lexical_card(model, file_sha256(bundle_copy / LEXICAL_FILE)))
    with pytest.raises(BundleError, match="do not fit"):
        ModelBundle.load(bundle_copy)


def test_the_bundle_builds_its_models_input_with_its_hint_and_only_a_direction_it_reads(
    hinted_bundle: Path, tiny_bundle: Path
) -> None:
    hinted = ModelBundle.load(hinted_bundle, open_model=False)
    assert hinted.model_input("  POS TESCO EXPRESS 4411 ", "credit") == model_input(
        "pos tesco express 4411", direction="credit", hint="GENERAL_MERCHANDISE", version="txc-norm-2"
    )
    assert hinted.model_input("UBER TRIP") == model_input("uber trip", version="txc-norm-2")
    plain = ModelBundle.load(tiny_bundle, open_model=False)
    assert not plain.inputs.direction
    assert plain.model_input("POS TESCO", "debit") == model_input("pos tesco", version=plain.normalization)
