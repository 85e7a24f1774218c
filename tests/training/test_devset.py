from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from service.normalize import normalize_text
from training.eval import DEVSET_PATH, DevRow, DevsetError, load_devset
from training.eval.devset import COLUMNS, COUNTRIES, KINDS
from training.labels import LABELS

#: Labels whose direction the guide fixes (docs/taxonomy.md, "Direction").
CREDIT_ONLY = frozenset({"INCOME", "TRANSFER_IN"})
DEBIT_ONLY = frozenset({"TRANSFER_OUT", "LOAN_PAYMENTS"})
#: Kinds that imply a label (or one of a few).
KIND_LABELS = {
    "person": frozenset({"TRANSFER_IN", "TRANSFER_OUT"}),
    "transfer": frozenset({"TRANSFER_IN", "TRANSFER_OUT"}),
    "income": frozenset({"INCOME"}),
    "fee": frozenset({"BANK_FEES"}),
}


HOLDOUT_PATH = DEVSET_PATH.with_name("holdout.csv")
#: (rows, per country, per label) minimums: the dev set's from issue 11; the held-out set B, written after
#: generator v9 was tuned while its authors read dev-set errors, is smaller.
MINIMUMS = {DEVSET_PATH.name: (800, 40, 30), HOLDOUT_PATH.name: (480, 20, 20)}


@pytest.fixture(scope="module", params=[DEVSET_PATH, HOLDOUT_PATH], ids=["devset", "holdout"])
def rows(request: pytest.FixtureRequest) -> list[DevRow]:
    loaded: list[DevRow] = load_devset(request.param)
    return loaded


def test_size_and_coverage(rows: list[DevRow], request: pytest.FixtureRequest) -> None:
    least_rows, per_country_min, per_label_min = MINIMUMS[request.node.callspec.params["rows"].name]
    assert len(rows) >= least_rows
    per_country = Counter(r.country for r in rows)
    assert set(per_country) <= set(COUNTRIES)
    assert len(per_country) >= 15
    assert min(per_country.values()) >= per_country_min, per_country
    per_label = Counter(r.label for r in rows)
    assert set(per_label) == set(LABELS)
    assert min(per_label.values()) >= per_label_min, per_label
    assert set(Counter(r.kind for r in rows)) == KINDS


def test_the_held_out_set_shares_no_text_with_the_dev_set() -> None:
    seen = {normalize_text(r.text) for r in load_devset()}
    assert [r.text for r in load_devset(HOLDOUT_PATH) if normalize_text(r.text) in seen] == []


def test_fields_are_in_their_sets(rows: list[DevRow]) -> None:
    assert {r.label for r in rows} <= set(LABELS)
    assert {r.direction for r in rows} <= {"debit", "credit"}
    assert {r.kind for r in rows} <= KINDS


def test_no_duplicate_texts_as_the_model_sees_them(rows: list[DevRow]) -> None:
    counts = Counter(normalize_text(r.text) for r in rows)
    assert [text for text, n in counts.items() if n > 1] == []


def test_direction_agrees_with_the_guide(rows: list[DevRow]) -> None:
    wrong = [r for r in rows if (r.label in CREDIT_ONLY and r.direction != "credit")]
    wrong += [r for r in rows if (r.label in DEBIT_ONLY and r.direction != "debit")]
    assert wrong == []


def test_kind_agrees_with_label(rows: list[DevRow]) -> None:
    wrong = [r for r in rows if r.kind in KIND_LABELS and r.label not in KIND_LABELS[r.kind]]
    assert wrong == []
    # Income and fees are told apart by kind as well as by label.
    assert all(r.kind == "income" for r in rows if r.label == "INCOME")
    assert all(r.kind != "person" for r in rows if r.label == "BANK_FEES")


def test_merchant_labels_have_local_businesses(rows: list[DevRow]) -> None:
    # A dev set of chains only would score memorised brands; every label a shop or service can carry
    # needs independent local businesses too (utilities are billed, so they are exempt).
    shop_labels = set(LABELS) - {
        "INCOME",
        "TRANSFER_IN",
        "TRANSFER_OUT",
        "BANK_FEES",
        "LOAN_PAYMENTS",
        "RENT_AND_UTILITIES",
    }
    for label in shop_labels:
        kinds = Counter(r.kind for r in rows if r.label == label)
        assert kinds["brand"] >= 10, (label, kinds)
        assert kinds["local"] >= 10, (label, kinds)


def test_data_card_states_the_counts() -> None:
    rows = load_devset()
    card = (DEVSET_PATH.parent / "README.md").read_text(encoding="utf-8")
    assert f"**{len(rows):,}**" in card
    for label in LABELS:
        n = sum(r.label == label for r in rows)
        assert f"| {label} | {n} |" in card, label


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loader_reads_a_file_in_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "d.csv",
        [
            ",".join(COLUMNS),
            '"TESCO STORES 1234, LEEDS",FOOD_AND_DRINK,debit,GB,brand',
            "RENTE,INCOME,credit,NL,income",
        ],
    )
    assert load_devset(path) == [
        DevRow("TESCO STORES 1234, LEEDS", "FOOD_AND_DRINK", "debit", "GB", "brand"),
        DevRow("RENTE", "INCOME", "credit", "NL", "income"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("X,FOOD,debit,GB,brand", "unknown label"),
        ("X,INCOME,in,GB,income", "direction"),
        ("X,INCOME,credit,GB,salary", "unknown kind"),
        ("X,INCOME,credit,UK,income", "country"),
        (" ,INCOME,credit,GB,income", "empty text"),
    ],
)
def test_loader_names_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path / "d.csv", [",".join(COLUMNS), "OK,INCOME,credit,GB,income", line])
    with pytest.raises(DevsetError, match=f"line 3: {message}"):
        load_devset(path)


def test_loader_refuses_a_wrong_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", ["text,label,country", "X,INCOME,GB"])
    with pytest.raises(DevsetError, match="header"):
        load_devset(path)
