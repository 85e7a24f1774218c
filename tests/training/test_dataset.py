"""Preparing labelled rows: the serving function builds every model input; dropouts are deterministic and
withhold what they say; CSVs with directions are read and bad rows named."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from service.gazetteer import Gazetteer
from service.normalize import model_input
from training.config import BuildConfig, DataConfig
from training.dataset import LabelledRow, build_splits, generated_train, prepare, read_csv, write_csv
from training.labels import label_id

GAZETTEER = Gazetteer({"tesco": "FOOD_AND_DRINK", "home depot": "HOME_IMPROVEMENT"}, "test")
ROWS = [
    LabelledRow("TESCO STORES 3297", "FOOD_AND_DRINK", "debit", "brand"),
    LabelledRow("JOES CORNER CAFE", "FOOD_AND_DRINK", "debit", "brand"),
    LabelledRow("NIP TRF FROM ADEBAYO O", "TRANSFER_IN", "credit", "person"),
    LabelledRow("   ", "TRANSFER_IN", "credit", "person"),
]


def test_prepare_builds_the_inputs_serving_builds_and_drops_empty_texts() -> None:
    split = prepare(ROWS, GAZETTEER)
    assert split.texts == (
        model_input("TESCO STORES 3297", direction="debit", hint="FOOD_AND_DRINK"),
        model_input("JOES CORNER CAFE", direction="debit"),
        model_input("NIP TRF FROM ADEBAYO O", direction="credit"),
    )
    assert split.labels == (label_id("FOOD_AND_DRINK"), label_id("FOOD_AND_DRINK"), label_id("TRANSFER_IN"))


def test_prepare_splits_brands_by_whether_the_gazetteer_knows_them() -> None:
    split = prepare(ROWS, GAZETTEER, brand_kind_by_hint=True)
    assert split.kinds == ("brand (in index)", "brand (not in index)", "person")


def test_prepare_records_the_hint_each_input_carries() -> None:
    assert prepare(ROWS, GAZETTEER).hints == ("FOOD_AND_DRINK", "", "")
    assert prepare(ROWS, GAZETTEER).take(1).hints == ("FOOD_AND_DRINK",)
    assert prepare(ROWS, None).hints == ("", "", "")


def test_full_dropout_withholds_every_direction_and_hint() -> None:
    split = prepare(ROWS, GAZETTEER, direction_dropout=1.0, hint_dropout=1.0)
    assert split.texts == tuple(model_input(r.text) for r in ROWS[:3])
    assert split.hints == ("", "", "")


def test_dropout_is_deterministic_by_seed_and_partial() -> None:
    rows = [LabelledRow(f"TESCO {i}", "FOOD_AND_DRINK", "debit") for i in range(400)]
    first = prepare(rows, GAZETTEER, direction_dropout=0.25, hint_dropout=0.3, seed=3)
    again = prepare(rows, GAZETTEER, direction_dropout=0.25, hint_dropout=0.3, seed=3)
    other = prepare(rows, GAZETTEER, direction_dropout=0.25, hint_dropout=0.3, seed=4)
    assert first == again
    assert first != other
    without_direction = sum(not t.startswith("debit | ") for t in first.texts) / len(rows)
    without_hint = sum("food and drink | " not in t for t in first.texts) / len(rows)
    assert 0.15 < without_direction < 0.35
    assert 0.2 < without_hint < 0.4


def test_read_csv_takes_an_optional_direction_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    write_csv(path, [ROWS[0], LabelledRow("NETFLIX.COM", "ENTERTAINMENT")])
    assert read_csv(path) == [
        LabelledRow("TESCO STORES 3297", "FOOD_AND_DRINK", "debit"),
        LabelledRow("NETFLIX.COM", "ENTERTAINMENT", None),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("text,label,direction\nX,FOOD_AND_DRINK,sideways\n", r"rows.csv:2: direction must be one of"),
        ("text,label\nX,FOOD_AND_DRINK\nY,SNACKS\n", r"rows.csv:3: unknown label 'SNACKS'"),
        ("narration,category\nX,FOOD_AND_DRINK\n", r"expected a header with 'text' and 'label'"),
    ],
)
def test_read_csv_names_the_file_and_row_of_a_bad_value(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        read_csv(path)


SMALL = BuildConfig(
    data=DataConfig(train_size=120, val_size=40, test_size=40, direction_dropout=0.25, hint_dropout=0.3)
)


def test_generated_train_draws_the_training_split_as_build_splits_does() -> None:
    splits = build_splits(SMALL.data, SMALL.seed)
    again = generated_train(SMALL.data, SMALL.seed, SMALL.data.train_size)
    assert (again.texts, again.labels) == (splits.train.texts, splits.train.labels)


def test_generated_train_draws_more_rows_of_the_training_merchants_only() -> None:
    # A merchant-disjoint split: the training merchants never appear among validation or test rows.
    more = generated_train(SMALL.data, SMALL.seed, 600)
    assert len(more) == 600
    big = replace(SMALL, data=replace(SMALL.data, train_size=600, val_size=600, test_size=600))
    splits = build_splits(big.data, big.seed)
    held_out = set(splits.val.texts) | set(splits.test.texts)
    brands = [t for t, k in zip(more.texts, more.kinds, strict=True) if k.startswith("brand")]
    assert brands
    assert not held_out & set(brands)


def test_validation_as_training_sees_it_drops_hints_and_nothing_else() -> None:
    # The same validation rows, directions and labels; only a share of the gazetteer's hints withheld.
    gazetteer = Gazetteer({"tesco": "FOOD_AND_DRINK"}, "test")
    rows = [LabelledRow(f"TESCO {i}", "FOOD_AND_DRINK", "debit") for i in range(400)]
    hinted = prepare(rows, gazetteer, direction_dropout=0.25, seed=1)
    as_train = prepare(rows, gazetteer, direction_dropout=0.25, hint_dropout=0.3, seed=1)
    assert as_train.labels == hinted.labels
    assert [t.startswith("debit | ") for t in as_train.texts] == [
        t.startswith("debit | ") for t in hinted.texts
    ]
    dropped = sum("food and drink | " not in t for t in as_train.texts)
    assert all("food and drink | " in t for t in hinted.texts)
    assert 0.2 * len(rows) < dropped < 0.4 * len(rows)
    splits = build_splits(SMALL.data, SMALL.seed, gazetteer=gazetteer)
    assert splits.val_as_train is not None
    assert splits.val_as_train.labels == splits.val.labels
    assert len(splits.val_as_train) == len(splits.val)
