"""training.knowledge: the build's brand knowledge from the index fixture and the hand-kept lists."""

from __future__ import annotations

from pathlib import Path

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
