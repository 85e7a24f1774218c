"""The model-input contract: txc-norm-1 is the narration alone, txc-norm-2 adds direction and hint."""

from __future__ import annotations

import pytest

from service.normalize import (
    DIRECTIONS,
    NORMALIZATION_VERSION,
    SUPPORTED_NORMALIZATIONS,
    hint_words,
    model_input,
    normalize_text,
)

RAW = "  TESCO STORES 3297\tLONDON  "


def test_versions_and_directions() -> None:
    assert NORMALIZATION_VERSION == "txc-norm-2"
    assert SUPPORTED_NORMALIZATIONS == ("txc-norm-1", "txc-norm-2")
    assert DIRECTIONS == ("debit", "credit")


@pytest.mark.parametrize("direction", [None, "debit", "credit"])
@pytest.mark.parametrize("hint", [None, "FOOD_AND_DRINK"])
def test_norm_1_is_exactly_normalize_text(direction: str | None, hint: str | None) -> None:
    assert model_input(RAW, direction=direction, hint=hint, version="txc-norm-1") == normalize_text(RAW)


@pytest.mark.parametrize(
    ("direction", "hint", "expected"),
    [
        (None, None, "tesco stores 3297 london"),
        ("debit", None, "debit | tesco stores 3297 london"),
        ("credit", None, "credit | tesco stores 3297 london"),
        (None, "FOOD_AND_DRINK", "food and drink | tesco stores 3297 london"),
        ("debit", "FOOD_AND_DRINK", "debit | food and drink | tesco stores 3297 london"),
        ("credit", "TRANSFER_IN", "credit | transfer in | tesco stores 3297 london"),
    ],
)
def test_norm_2_prefixes_direction_then_hint(direction: str | None, hint: str | None, expected: str) -> None:
    assert model_input(RAW, direction=direction, hint=hint) == expected
    assert model_input(RAW, direction=direction, hint=hint, version="txc-norm-2") == expected


@pytest.mark.parametrize("version", SUPPORTED_NORMALIZATIONS)
def test_the_input_is_normalised_and_raw_or_normalised_text_agree(version: str) -> None:
    built = model_input(RAW, direction="debit", hint="GENERAL_MERCHANDISE", version=version)
    assert normalize_text(built) == built
    again = model_input(normalize_text(RAW), direction="debit", hint="GENERAL_MERCHANDISE", version=version)
    assert again == built


def test_normalize_text_stays_idempotent() -> None:
    for text in [RAW, "Ｃａｆé 1234567890 \x00 x", "a | b", "  "]:
        assert normalize_text(normalize_text(text)) == normalize_text(text)


@pytest.mark.parametrize("version", SUPPORTED_NORMALIZATIONS)
def test_empty_text_gives_empty_input(version: str) -> None:
    assert model_input(" \x00 ", direction="debit", hint="INCOME", version=version) == ""


@pytest.mark.parametrize("version", SUPPORTED_NORMALIZATIONS)
@pytest.mark.parametrize("direction", ["DEBIT", "out", "", "debit "])
def test_an_invalid_direction_is_a_value_error(version: str, direction: str) -> None:
    with pytest.raises(ValueError, match="direction"):
        model_input(RAW, direction=direction, version=version)


@pytest.mark.parametrize("hint", ["", "food and drink", "FOOD__DRINK", "_X", "A|B"])
def test_a_hint_must_be_a_label_name(hint: str) -> None:
    with pytest.raises(ValueError, match="not a label name"):
        model_input(RAW, hint=hint)


def test_an_unknown_version_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="txc-norm-0"):
        model_input(RAW, version="txc-norm-0")


def test_hint_words() -> None:
    assert hint_words("FOOD_AND_DRINK") == "food and drink"
    assert hint_words("INCOME") == "income"
