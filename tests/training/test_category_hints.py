"""Category words as gazetteer keys: votes, the filters, umlaut spellings, and the knowledge they join."""

from __future__ import annotations

import pytest

from training.data.category_hints import HINTED_LABELS, category_entries
from training.labels import LABELS


def test_each_source_votes_and_a_two_thirds_majority_keeps_a_key() -> None:
    own = {"MEDICAL": ["PHARMACY", "CHEMIST"], "FOOD_AND_DRINK": ["BAKERY", "MARKET"]}
    presets = [
        {"MEDICAL": ["Farmacia"], "GENERAL_MERCHANDISE": ["Market", "Chemist"]},
        {"MEDICAL": ["Apotheke"], "GENERAL_MERCHANDISE": ["Market", "Chemist"]},
        {"GENERAL_MERCHANDISE": ["Market", "Chemist"]},
    ]
    entries = category_entries(own, presets)
    # "chemist": 3 own votes for MEDICAL against 3 preset languages for GENERAL_MERCHANDISE: no majority
    assert "chemist" not in entries
    assert "market" not in entries
    assert entries == {
        "apotheke": "MEDICAL",
        "bakery": "FOOD_AND_DRINK",
        "farmacia": "MEDICAL",
        "pharmacy": "MEDICAL",
    }
    assert list(entries) == sorted(entries)


def test_one_own_word_outvotes_two_languages() -> None:
    presets = [{"GENERAL_MERCHANDISE": ["Chemist"]}, {"GENERAL_MERCHANDISE": ["Chemist"]}]
    assert category_entries({"MEDICAL": ["CHEMIST"]}, presets) == {}  # 3 of 5 votes: under 2/3
    assert category_entries({"MEDICAL": ["CHEMIST"]}, presets[:1]) == {"chemist": "MEDICAL"}  # 3 of 4


@pytest.mark.parametrize(
    ("label", "word"),
    [
        ("INCOME", "PAYROLL OFFICE"),  # no shop is filed under income, transfers, loans or bank fees
        ("BANK_FEES", "CURRENCY EXCHANGE"),
        ("TRANSFER_OUT", "MONEY TRANSFER"),
        ("GENERAL_SERVICES", "CARD SHOP"),  # a narration word: "card" says how it paid
        ("FOOD_AND_DRINK", "BB"),  # fewer than 3 letters
    ],
)
def test_filtered_words_are_no_keys(label: str, word: str) -> None:
    assert category_entries({label: [word]}) == {}


def test_a_one_word_name_or_city_is_no_key_but_a_phrase_with_it_is() -> None:
    own = {"FOOD_AND_DRINK": ["BAKER", "BAKER STREET DELI"], "TRAVEL": ["FLORENCE"]}
    entries = category_entries(own, name_words=["Tom Baker", "FLORENCE"])
    assert entries == {"baker street deli": "FOOD_AND_DRINK"}


def test_german_words_are_keyed_as_folded_and_as_statements_spell_umlauts() -> None:
    entries = category_entries({}, [{"FOOD_AND_DRINK": ["Bäckerei"], "GENERAL_SERVICES": ["Kfz-Werkstatt"]}])
    assert entries == {
        "backerei": "FOOD_AND_DRINK",
        "baeckerei": "FOOD_AND_DRINK",
        "kfz werkstatt": "GENERAL_SERVICES",
    }


def test_a_label_that_is_no_label_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'food and drink' is not a label name"):
        category_entries({"food and drink": ["CAFE"]})


def test_hinted_labels_are_product_labels() -> None:
    assert set(LABELS) > HINTED_LABELS
    assert not HINTED_LABELS & {"INCOME", "TRANSFER_IN", "TRANSFER_OUT", "LOAN_PAYMENTS", "BANK_FEES"}
