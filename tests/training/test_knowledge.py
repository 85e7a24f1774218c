"""training.knowledge: the build's brand knowledge from the index fixture and the hand-kept lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.gazetteer import PASS
from training.config import DataConfig
from training.data.catalogue import GAZETTEER_KINDS, gazetteer_names
from training.knowledge import load_knowledge

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_gazetteer_holds_index_brands_hand_kept_names_and_payment_methods(tmp_path: Path) -> None:
    data = DataConfig(brand_index=str(FIXTURES / "nsi-mini.json"), gazetteer=True)
    knowledge = load_knowledge(data, tmp_path)
    gazetteer = knowledge.gazetteer
    assert gazetteer is not None
    assert gazetteer.lookup("card payment to tesco stores 3297") == "FOOD_AND_DRINK"  # the index
    assert gazetteer.lookup("spotify p1a2b3 stockholm") == "ENTERTAINMENT"  # a hand-kept brand
    assert gazetteer.lookup("oxfam direct debit") == "GOVERNMENT_AND_NON_PROFIT"  # a hand-kept charity
    assert gazetteer.get("apple pay") == PASS  # a payment method: the lookup steps over it
    # A payment-method phrase never names a decoy local business ("APPLE PAY BAKERY").
    assert not any(
        e.kind == "local" and e.name.startswith("APPLE PAY ") for e in knowledge.catalogue.entities
    )


def test_hand_kept_gazetteer_names_are_of_the_kinds_whose_name_says_the_label() -> None:
    names = gazetteer_names()
    assert ("SPOTIFY", "ENTERTAINMENT") in names
    kinds = {
        (e.name, e.label): e.kind
        for e in load_knowledge(DataConfig(), Path("unused")).catalogue.entities
        if e.kind != "shop"
    }
    assert {kinds[pair] for pair in names if pair in kinds} <= GAZETTEER_KINDS
    # employers, lenders and wallets are left out: their label follows the narration, not the name
    assert not {pair for pair, kind in kinds.items() if kind in ("employer", "lender", "wallet")} & set(names)


def test_category_hints_join_the_gazetteer_and_brands_keep_their_keys(tmp_path: Path) -> None:
    index = str(FIXTURES / "nsi-mini.json")
    presets = str(FIXTURES / "presets-mini")
    brands_only = load_knowledge(
        DataConfig(brand_index=index, gazetteer=True, category_words=presets), tmp_path
    )
    data = DataConfig(
        brand_index=index,
        gazetteer=True,
        category_words=presets,
        category_hints=True,
        gazetteer_matching="compact",
    )
    knowledge = load_knowledge(data, tmp_path)
    gazetteer = knowledge.gazetteer
    assert gazetteer is not None
    assert brands_only.gazetteer is not None
    assert gazetteer.matching == "compact"
    assert gazetteer.source.endswith(" + category words")
    assert gazetteer.lookup("sumup *apotheke am markt") == "MEDICAL"  # a preset's German name
    assert gazetteer.lookup("baeckerei mueller") == "FOOD_AND_DRINK"  # as German statements spell it
    assert gazetteer.lookup("joes plumbing llc") == "HOME_IMPROVEMENT"  # a hand-kept category word
    assert brands_only.gazetteer.lookup("sumup *apotheke am markt") is None
    # every brand key keeps its label; the category words only add keys
    assert {key: gazetteer[key] for key in brands_only.gazetteer} == dict(brands_only.gazetteer)
    # a category word is never a decoy brand: decoy local businesses are the same as without the hints
    decoys = {e.name for e in knowledge.catalogue.entities if e.kind == "local"}
    assert decoys == {e.name for e in brands_only.catalogue.entities if e.kind == "local"}


def test_category_hints_need_the_gazetteer() -> None:
    with pytest.raises(ValueError, match="category_hints needs gazetteer: true"):
        DataConfig(category_hints=True)
    with pytest.raises(ValueError, match="gazetteer_matching 'fuzzy' is not one of exact, compact"):
        DataConfig(gazetteer_matching="fuzzy")
