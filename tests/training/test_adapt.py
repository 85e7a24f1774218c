"""Adaptation: the counterparty hold-out, the new head, and (slow) the tiny bundle adapted end to end, once
to our 16 labels and once to a customer's own 5-label taxonomy, which is then served over HTTP."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import replace
from pathlib import Path

import pytest

from service.bundle import ModelBundle, file_sha256, read_index
from training.adapt import (
    AdaptationError,
    AdaptSettings,
    adapt,
    counterparty_key,
    split_by_counterparty,
)
from training.dataset import LabelledRow

TINY = Path(__file__).resolve().parents[2] / "training" / "configs" / "tiny.yaml"
#: A customer's own taxonomy over our generator's labels (what "their 5 categories" look like).
CUSTOM_OF = {
    "INCOME": "Money in",
    "TRANSFER_IN": "Money in",
    "TRANSFER_OUT": "Money out",
    "LOAN_PAYMENTS": "Money out",
    "BANK_FEES": "Money out",
    "FOOD_AND_DRINK": "Eating & groceries",
    "GENERAL_MERCHANDISE": "Shopping",
    "HOME_IMPROVEMENT": "Shopping",
    "PERSONAL_CARE": "Shopping",
}
OTHER = "Bills & everything else"


def test_the_counterparty_key_drops_digits_and_punctuation() -> None:
    assert counterparty_key("POS 4411 TESCO STORES 3297 LONDON") == "pos tesco stores"
    assert counterparty_key("TESCO-STORES #12, LONDON", words=2) == "tesco stores"
    assert counterparty_key("12/03 **** 9911") == ""


def rows_of(keys: dict[str, int]) -> list[LabelledRow]:
    return [
        LabelledRow(f"{key} {n:04d}", "FOOD_AND_DRINK") for key, count in keys.items() for n in range(count)
    ]


def test_the_hold_out_never_splits_a_counterparty() -> None:
    rows = rows_of({f"shop{chr(97 + i)} store": 3 + i % 5 for i in range(26)})
    kept, held = split_by_counterparty(rows, 0.2)
    assert {counterparty_key(r.text) for r in kept}.isdisjoint({counterparty_key(r.text) for r in held})
    assert len(kept) + len(held) == len(rows)
    assert 0.15 <= len(held) / len(rows) <= 0.25
    assert split_by_counterparty(rows, 0.2) == (kept, held)  # deterministic
    assert split_by_counterparty(rows, 0.2, seed=1) != (kept, held)


def test_one_dominant_counterparty_cannot_take_the_hold_out() -> None:
    rows = rows_of({"salary acme": 80, **{f"shop{chr(97 + i)} x": 2 for i in range(10)}})
    _kept, held = split_by_counterparty(rows, 0.2)
    assert "salary acme" not in {counterparty_key(r.text) for r in held}
    assert 0 < len(held) <= 0.25 * len(rows)


# -- end to end (the tiny build's bundle and student) ------------------------------------------------------


def write_rows(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "direction"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def customer_rows() -> list[tuple[str, str, str]]:
    """Generated narrations of the evaluation merchants (never the parent's training ones)."""
    from training.data import sample_narrations

    return [(n.text, n.label, n.direction) for n in sample_narrations(360, seed=21, split="test")]


LOOSE = AdaptSettings(min_steps=60, max_steps=60, replay_per_row=0.1, min_replay=64, max_parent_gap=1.0,
                      max_parent_dev_gap=1.0, min_gain_over_baseline=-1.0)  # fmt: skip


@pytest.mark.slow
def test_adapting_to_our_labels_records_lineage_and_compares_with_the_parent(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    train_csv = write_rows(tmp_path / "ours.csv", customer_rows)
    bundle = adapt(tiny_parent, train_csv, name="acme", version="1.0.0", work_dir=tmp_path / "work",
                   settings=LOOSE)  # fmt: skip
    loaded = ModelBundle.load(bundle)
    parent = ModelBundle.load(tiny_parent)
    assert loaded.labels == parent.labels
    assert loaded.inputs == parent.inputs
    assert loaded.normalization == parent.normalization
    lineage = loaded.card["adaptation"]
    assert lineage["parent"] == {"name": parent.name, "version": parent.version,
                                 "model_sha256": file_sha256(parent.model_path),
                                 "student_weights": "kept"}  # fmt: skip
    assert lineage["train_data"] == {"file": "ours.csv", "sha256": file_sha256(train_csv), "rows": 360}
    assert lineage["taxonomy"] == "parent"
    assert lineage["fine_tune"]["distilled_from_parent"]
    assert lineage["splits"]["replay"] == 64
    assert "counterparty" in lineage["eval_data"]["source"]
    checks = {c["name"] for c in loaded.card["gate"]["checks"]}
    assert {"baseline_gain", "behavioural", "parent_gap_eval_accuracy", "parent_gap_dev_macro_f1"} <= checks
    assert set(loaded.card["metrics"]["parent"]) == {"name", "version", "eval", "dev"}
    # Listed, not promoted: the parent stays the default until `txclassify models promote`.
    index = read_index(bundle.parent)
    assert index.default == tiny_parent.name
    assert bundle.name in index.paths
    assert (bundle.parent / "students" / bundle.name / "config.json").is_file()


@pytest.mark.slow
def test_a_custom_taxonomy_is_adapted_gated_and_served(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    rows = [(text, CUSTOM_OF.get(label, OTHER), direction) for text, label, direction in customer_rows]
    train_csv = write_rows(tmp_path / "theirs.csv", rows)
    output = tmp_path / "customer-models"
    bundle = adapt(tiny_parent, train_csv, name="acme-own", version="1.0.0", output_dir=output,
                   work_dir=tmp_path / "work", settings=LOOSE)  # fmt: skip
    loaded = ModelBundle.load(bundle)
    assert loaded.labels == tuple(sorted(set(CUSTOM_OF.values()) | {OTHER}))
    assert loaded.gazetteer is not None  # the parent's hints, kept as an input
    lineage = loaded.card["adaptation"]
    assert lineage["taxonomy"] == "custom"
    assert lineage["fine_tune"]["new_head"]
    assert lineage["label_set"]["count"] == 5
    assert lineage["splits"]["replay"] == 0
    checks = {c["name"] for c in loaded.card["gate"]["checks"]}
    assert "baseline_gain" in checks
    assert "behavioural" not in checks
    assert not any(name.startswith("parent_gap") for name in checks)
    assert set(loaded.card["metrics"]["student_int8"]["per_label_f1"]) == set(loaded.labels)
    assert read_index(output).default == bundle.name  # a new models directory: its first bundle

    asyncio.run(_serve_custom(bundle, loaded.labels))


async def _serve_custom(bundle: Path, labels: tuple[str, ...]) -> None:
    import httpx

    from service.api import create_app
    from service.settings import Settings

    app = create_app(Settings(model_dir=bundle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            body = {
                "transactions": [{"id": "1", "text": "TESCO STORES 3297", "direction": "debit"}],
                "top_k": 5,
            }
            answer = await client.post("/v1/classify", json=body)
            assert answer.status_code == 200
            assert {s["label"] for s in answer.json()["results"][0]["top_k"]} == set(labels)
            assert (await client.post("/v1/classify", json={**body, "top_k": 6})).status_code == 422
            schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["ClassifyRequest"]
            assert schema["properties"]["top_k"]["maximum"] == 5
            assert (await client.get("/v1/models")).json()["models"][0]["labels"] == list(labels)


@pytest.mark.slow
def test_a_refused_adaptation_writes_nothing_and_says_why_in_one_line(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from training.cli import main

    train_csv = write_rows(tmp_path / "ours.csv", customer_rows[:200])
    strict = replace(LOOSE, min_gain_over_baseline=1.0)
    with pytest.raises(Exception, match="baseline_gain"):
        adapt(tiny_parent, train_csv, name="acme", version="9.0.0", work_dir=tmp_path / "w", settings=strict)
    assert not (tiny_parent.parent / "acme-9.0.0").exists()
    assert "gate: FAIL" in capsys.readouterr().out

    one_label = write_rows(
        tmp_path / "one.csv", [(text, "Only", "debit") for text, _, _ in customer_rows[:50]]
    )
    code = main(["adapt", "--from", str(tiny_parent), "--train-csv", str(one_label), "--name", "x",
                 "--version", "1", "--work-dir", str(tmp_path / "w")])  # fmt: skip
    assert code == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "1 labels; a custom taxonomy has 2 to 200" in error


@pytest.mark.slow
def test_a_parent_without_kept_weights_is_adapted_from_its_recovered_student(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A bundle whose fp32 student was never kept (the released 1.x bundles, any fresh clone)."""
    import shutil

    orphan = Path(shutil.copytree(tiny_parent, tmp_path / "models" / "orphan-1.0.0"))
    train_csv = write_rows(tmp_path / "ours.csv", customer_rows)
    bundle = adapt(orphan, train_csv, name="acme", version="2.0.0", work_dir=tmp_path / "work",
                   settings=LOOSE)  # fmt: skip
    lineage = ModelBundle.load(bundle).card["adaptation"]
    assert lineage["parent"]["student_weights"] == "recovered from model.onnx"
    said = capsys.readouterr()
    assert "no kept fp32 student, recovered it from model.onnx" in said.out + said.err
    # The adapted bundle's own student is kept, so it can be adapted again without recovery.
    assert (bundle.parent / "students" / bundle.name / "config.json").is_file()


@pytest.mark.slow
def test_a_parent_whose_graph_gives_no_student_back_is_refused_in_one_line(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path
) -> None:
    import shutil

    orphan = Path(shutil.copytree(tiny_parent, tmp_path / "models" / "orphan-1.0.0"))
    rows = write_rows(tmp_path / "r.csv", customer_rows)
    # Recovery must agree with the graph on every check row, and more: no student can.
    impossible = replace(LOOSE, recovery_min_agreement=1.01)
    with pytest.raises(
        AdaptationError, match=r"no kept fp32 student and its graph cannot give one back: .*agrees"
    ):
        adapt(orphan, rows, name="x", version="1", work_dir=tmp_path / "w", settings=impossible)
    assert not (tmp_path / "models" / "x-1").exists()


@pytest.mark.slow
def test_import_hf_takes_the_models_own_labels(
    tiny_parent: Path, customer_rows: list[tuple[str, str, str]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """The issue's new user: a fine-tuned 4-label MiniLM, imported as it is (its id2label, its order)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from training.cli import main

    four = ("spend", "income", "transfer", "bills")
    students = tiny_parent.parent / "students" / tiny_parent.name
    model = AutoModelForSequenceClassification.from_pretrained(students, dtype=torch.float32)
    model.classifier = torch.nn.Linear(model.classifier.in_features, len(four))
    model.config.num_labels = len(four)
    model.config.id2label = dict(enumerate(four))
    model.config.label2id = {label: i for i, label in enumerate(four)}
    checkpoint = tmp_path / "four-labels"
    model.save_pretrained(checkpoint)
    AutoTokenizer.from_pretrained(students).save_pretrained(checkpoint)
    group = {"INCOME": "income", "TRANSFER_IN": "transfer", "TRANSFER_OUT": "transfer",
             "RENT_AND_UTILITIES": "bills", "LOAN_PAYMENTS": "bills"}  # fmt: skip
    eval_csv = write_rows(tmp_path / "eval.csv", [(t, group.get(y, "spend"), d) for t, y, d in customer_rows])
    common = ["--eval-csv", str(eval_csv), "--config", str(TINY), "--output-dir", str(tmp_path / "models"),
              "--work-dir", str(tmp_path / "work")]  # fmt: skip
    assert main(["import-hf", str(checkpoint), "--name", "byo", "--version", "4.0.0", *common]) == 0
    assert ModelBundle.load(tmp_path / "models" / "byo-4.0.0").labels == four

    model.config.id2label = {i: f"LABEL_{i}" for i in range(len(four))}
    model.save_pretrained(checkpoint)
    assert main(["import-hf", str(checkpoint), "--name", "byo", "--version", "4.0.1", *common]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "id2label must name the head's 4 labels" in error
