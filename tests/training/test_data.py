from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import pytest

from training.data import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    SPLITS,
    Narration,
    build_catalogue,
    catalogue,
    sample_narrations,
    sample_transfer_narrations,
)
from training.data.catalogue import KINDS, held_out_words, pinned_to_train, statement_name
from training.data.formats import (
    FIELD_NAMES,
    FORMATS_DIR,
    Fields,
    _read_templates,
    channels,
    template_fields,
    templates,
)
from training.data.generator import NARRATION_KINDS
from training.data.vocabulary import composition, country_words, field_words, shared_entities
from training.labels import LABELS

_CREDIT_LABELS = {"INCOME", "TRANSFER_IN"}
_DEBIT_LABELS = {"TRANSFER_OUT", "LOAN_PAYMENTS", "BANK_FEES"}


@dataclasses.dataclass(frozen=True)
class _Brand:
    """A row shaped like ``training.data.brands.Brand``."""

    name: str
    label: str
    countries: frozenset[str]
    osm_tag: str = "shop=supermarket"
    match_names: tuple[str, ...] = ()
    wikidata: str | None = None


@pytest.fixture(scope="module")
def narrations() -> list[Narration]:
    return sample_narrations(12000, seed=0)


def test_same_seed_same_narrations() -> None:
    assert sample_narrations(300, seed=7, split="train") == sample_narrations(300, seed=7, split="train")


def test_different_seeds_differ() -> None:
    assert sample_narrations(300, seed=1) != sample_narrations(300, seed=2)


def test_narration_is_frozen() -> None:
    narration = sample_narrations(1)[0]
    assert isinstance(narration, Narration)
    with pytest.raises(dataclasses.FrozenInstanceError):
        narration.text = "changed"  # type: ignore[misc]


def test_twenty_countries_and_weights_sum_to_one() -> None:
    assert len(COUNTRIES) == 20 == len(set(COUNTRIES))
    assert "UK" not in COUNTRIES
    assert "GB" in COUNTRIES
    assert set(COUNTRY_WEIGHTS) == set(COUNTRIES)
    assert sum(COUNTRY_WEIGHTS.values()) == pytest.approx(1.0)


def test_every_label_and_country_is_generated(narrations: list[Narration]) -> None:
    assert {n.label for n in narrations} == set(LABELS)
    assert {n.country for n in narrations} == set(COUNTRIES)


def test_every_label_is_reachable_in_every_country() -> None:
    cat = build_catalogue()
    for country in COUNTRIES:
        for label in LABELS:
            assert cat.entities_for(label, country, "train"), (label, country)


def test_every_country_has_every_channel_and_each_template_renders() -> None:
    import random

    rng = random.Random(0)
    for country in COUNTRIES:
        by_channel = templates(country)
        assert list(by_channel) == list(channels())
        for channel, rows in by_channel.items():
            assert rows, (country, channel)
            for template in rows:
                text = template.format_map(Fields(rng, country, m="ACME", p="JANE DOE"))
                assert text.strip(), (country, channel, template)


def test_country_files_claim_only_known_channels_and_fields() -> None:
    for path in sorted(FORMATS_DIR.glob("*.yaml")):
        if path.name == "_channels.yaml":
            continue
        for channel, rows in _read_templates(path).items():
            assert channel in channels()
            for template in rows:
                assert template_fields(template) <= FIELD_NAMES, (path.name, template)
    own = {c: set(_read_templates(FORMATS_DIR / f"{c}.yaml")) for c in COUNTRIES}
    # Each country writes its own card, direct-debit, P2P, payroll and ATM lines.
    for country, claimed in own.items():
        assert {"card", "bill", "p2p_in", "p2p_out", "payroll", "atm", "refund"} <= claimed, country


def test_unknown_template_field_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "XX.yaml"
    path.write_text('card: ["{m} {nosuchfield}"]\n')
    with pytest.raises(ValueError, match="nosuchfield"):
        _read_templates(path)
    path.write_text('teleport: ["{m}"]\n')
    with pytest.raises(ValueError, match="unknown channel"):
        _read_templates(path)


def test_word_files_parse_and_are_consistent() -> None:
    for country in COUNTRIES:
        words = country_words(country)
        assert all((words.cities, words.banks, words.first_names, words.last_names)), country
        assert set(words.entities) <= set(LABELS)
        for kinds in words.entities.values():
            assert set(kinds) <= set(KINDS), country
    assert {e.kind for e in shared_entities()} <= set(KINDS)
    assert set(composition().category_words) <= set(LABELS)
    assert len(field_words().months) == 12
    with pytest.raises(ValueError, match="country"):
        country_words("UK")


def test_direction_follows_the_channel(narrations: list[Narration]) -> None:
    direction_of = {name: channel.direction for name, channel in channels().items()}
    seen: Counter[tuple[str, str]] = Counter()
    for n in narrations:
        channel = n.format.split(":")[0]
        assert n.direction == direction_of[channel]
        seen[(channel, n.direction)] += 1
        if n.label in _CREDIT_LABELS:
            assert n.direction == "credit", n
        elif n.label in _DEBIT_LABELS:
            assert n.direction == "debit", n
        elif n.direction == "credit":
            assert channel == "refund", n  # a merchant's money comes back only as a refund
    expected = [("refund", "credit"), ("atm", "debit"), ("payroll", "credit"), ("fee", "debit"),
                ("interest_earned", "credit"), ("interest_charged", "debit"), ("own_in", "credit"),
                ("own_out", "debit"), ("p2p_in", "credit"), ("p2p_out", "debit")]  # fmt: skip
    for channel, direction in expected:
        assert seen[(channel, direction)] > 0, channel


def test_kinds_are_documented_and_interest_splits_by_label(narrations: list[Narration]) -> None:
    assert {n.kind for n in narrations} <= set(NARRATION_KINDS)
    for n in narrations:
        if n.format.startswith("interest_earned"):
            assert n.label == "INCOME"
        if n.format.startswith("interest_charged"):
            assert n.label == "BANK_FEES"
        if n.format.startswith(("atm", "own_", "cash_deposit")):
            assert n.kind == "own"
        if n.format.startswith("refund"):
            assert n.label not in _CREDIT_LABELS | _DEBIT_LABELS


def test_catalogue_splits_are_entity_disjoint() -> None:
    by_split: dict[str, set[tuple[str, str]]] = {s: set() for s in SPLITS}
    for entity in catalogue():
        by_split[entity.split].add((entity.label, entity.name))
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["val"]
    assert not by_split["val"] & by_split["test"]
    shares = Counter(e.split for e in catalogue())
    assert 0.7 < shares["train"] / len(catalogue()) < 0.9


def test_sampled_test_merchants_never_appear_in_training() -> None:
    train = {(n.label, n.merchant) for n in sample_narrations(5000, seed=0, split="train")}
    test = {(n.label, n.merchant) for n in sample_narrations(2000, seed=0, split="test")}
    assert test
    assert not train & test


def test_merchant_frequencies_are_zipf_like(narrations: list[Narration]) -> None:
    food = [n.merchant for n in narrations if n.label == "FOOD_AND_DRINK"]
    counts = sorted(Counter(food).values(), reverse=True)
    # Heavy head, long tail: the top merchant is far more frequent than the median one.
    assert counts[0] >= 10 * counts[len(counts) // 2]
    assert len(counts) > 50


def test_texts_are_bounded_and_non_empty(narrations: list[Narration]) -> None:
    for narration in narrations:
        assert 0 < len(narration.text.strip()) <= 160, narration


def test_export_styles_vary_case(narrations: list[Narration]) -> None:
    texts = [n.text for n in narrations]
    assert sum(t.isupper() for t in texts) > len(texts) / 2
    assert any(t.islower() for t in texts)
    assert any(t.istitle() for t in texts)


def test_unknown_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="split"):
        sample_narrations(1, split="holdout")


def test_entities_named_by_behavioural_cases_train_and_are_never_held_out() -> None:
    pinned = {(e.label, e.name): e.split for e in catalogue() if pinned_to_train(e.label, e.name)}
    for key in [("ENTERTAINMENT", "SPOTIFY"), ("TRAVEL", "AIRBNB"), ("TRANSPORTATION", "UBER"),
                ("RENT_AND_UTILITIES", "BRITISH GAS"), ("GENERAL_SERVICES", "JIFFY LUBE")]:  # fmt: skip
        assert pinned[key] == "train"
    assert set(pinned.values()) == {"train"}
    held_out = {n.merchant for n in sample_narrations(3000, seed=0, split="test")}
    assert not held_out & {name for _, name in pinned}


def test_pinning_matches_whole_words_of_the_same_label_only() -> None:
    assert pinned_to_train("TRANSPORTATION", "UBER")  # "UBER *TRIP HELP.UBER.COM"
    assert not pinned_to_train("FOOD_AND_DRINK", "UBER")  # no FOOD_AND_DRINK case names it
    assert not pinned_to_train("GENERAL_MERCHANDISE", "TARGE")  # a prefix of TARGET is not a word


def test_transfer_narrations_are_deterministic_and_avoid_held_out_words() -> None:
    banned = held_out_words()
    assert banned
    assert "pharmacy" not in banned  # generic category words stay usable
    words = ["alpha", "bravo", "charlie"]
    first = sample_transfer_narrations(50, words, seed=3)
    assert first == sample_transfer_narrations(50, words, seed=3)
    assert first != sample_transfer_narrations(50, words, seed=4)
    assert any("ALPHA" in t.upper() or "BRAVO" in t.upper() or "CHARLIE" in t.upper() for t in first)
    with pytest.raises(ValueError, match="words"):
        sample_transfer_narrations(1, [])


def test_statement_names_fold_to_ascii_upper_case() -> None:
    assert statement_name("Müller") == "MUELLER"
    assert statement_name("Carrefour  Express") == "CARREFOUR EXPRESS"
    assert statement_name("Café Amazon") == "CAFE AMAZON"
    assert statement_name("كارفور") == ""


def test_catalogue_takes_brands_from_the_index() -> None:
    brands = [
        _Brand("Woolworths", "FOOD_AND_DRINK", frozenset({"AU", "NZ"}), match_names=("Woolies",)),
        _Brand("Woolworths", "FOOD_AND_DRINK", frozenset({"*"}), osm_tag="shop=convenience"),
        _Brand("Zzyzx Hardware", "HOME_IMPROVEMENT", frozenset({"*"})),
        _Brand("Drogerie Müller", "GENERAL_MERCHANDISE", frozenset({"DE", "AT"})),
        _Brand("كارفور", "FOOD_AND_DRINK", frozenset({"AE"})),
        _Brand("Nowhere Mart", "GENERAL_MERCHANDISE", frozenset({"JP"})),
        _Brand("Bad Label", "SHOPPING", frozenset({"US"})),
    ]
    cat = build_catalogue(brands, category_words={"FOOD_AND_DRINK": ("food truck",)})
    by_name = {(e.label, e.name): e for e in cat.entities}
    assert by_name[("FOOD_AND_DRINK", "WOOLWORTHS")].countries == {"AU", "NZ"}
    assert by_name[("FOOD_AND_DRINK", "WOOLWORTHS")].aliases == ("WOOLIES",)
    assert by_name[("HOME_IMPROVEMENT", "ZZYZX HARDWARE")].countries == set(COUNTRIES)
    assert by_name[("GENERAL_MERCHANDISE", "DROGERIE MUELLER")].countries == {"DE"}
    assert not any(e.name in ("NOWHERE MART", "BAD LABEL") or not e.name for e in cat.entities)
    # The hand-kept shop stand-ins give way to the index; non-shop brands and counterparties stay.
    assert ("FOOD_AND_DRINK", "TESCO STORES") not in by_name
    assert ("ENTERTAINMENT", "SPOTIFY") in by_name
    assert ("INCOME", "ACME CORP") in by_name
    assert any(e.kind == "local" and "FOOD TRUCK" in e.name for e in cat.entities)
    assert (
        cat.entities == build_catalogue(brands, category_words={"FOOD_AND_DRINK": ("food truck",)}).entities
    )
    drawn = sample_narrations(4000, seed=1, catalogue=cat, label_weights={"FOOD_AND_DRINK": 1})
    assert any(n.merchant == "WOOLWORTHS" and n.country in ("AU", "NZ") for n in drawn)
    assert not any(n.merchant == "WOOLWORTHS" and n.country not in ("AU", "NZ") for n in drawn)
    assert cat.held_out_words() == held_out_words(cat)


def test_transfers_are_mostly_between_people_and_locals_are_local(narrations: list[Narration]) -> None:
    transfers = [n for n in narrations if n.label in ("TRANSFER_IN", "TRANSFER_OUT")]
    assert sum(n.kind in ("person", "own") for n in transfers) > 0.6 * len(transfers)
    locals_ = [e for e in catalogue() if e.kind == "local"]
    assert sum(len(e.countries) == 1 for e in locals_) > 0.9 * len(locals_)
    for country in COUNTRIES:
        assert any(country in e.countries and e.label == "FOOD_AND_DRINK" for e in locals_), country


def test_exports_show_real_noise(narrations: list[Narration]) -> None:
    import re

    texts = [n.text.upper() for n in narrations]
    assert any(re.search(r"(XXXX|\*\*\*\*)\d{4}", t) for t in texts)  # masked cards
    assert any(re.search(r"(SQ \*|PAYPAL \*|SUMUP \*|ZETTLE_\*|PAYSTACK|YOCO \*)", t) for t in texts)
    assert any(re.search(r"\b\d{2}:\d{2}\b", t) for t in texts)  # POS times
    assert any(re.search(r" (NSW|VIC|QLD|ON|QC|BC) ?", t) for t in texts)  # region suffixes
    # P2P lines that name only an account, sort code, IBAN fragment or phone number, not the person.
    p2p = [n for n in narrations if n.format.startswith(("p2p_in", "p2p_out"))]
    assert any(n.merchant.split()[-1] not in n.text.upper() for n in p2p)


def test_local_language_words_per_country() -> None:
    words = {
        "DE": ("KARTENZAHLUNG", "LASTSCHRIFT", "GUTSCHRIFT", "UEBERWEISUNG", "LOHN/GEHALT", "MIETE"),
        "FR": ("CB ", "PRLV SEPA", "VIR SEPA", "RETRAIT DAB", "SALAIRE"),
        "ES": ("COMPRA TARJ.", "RECIBO", "TRANSFERENCIA", "NOMINA", "BIZUM"),
        "IT": ("PAGAMENTO POS", "ADDEBITO SDD", "BONIFICO", "STIPENDIO", "PRELIEVO BANCOMAT"),
        "NL": ("BEA", "BETAALAUTOMAAT", "INCASSO", "OVERBOEKING", "SALARIS", "GELDAUTOMAAT"),
        "BR": ("COMPRA CARTAO", "PIX ENVIADO", "PIX RECEBIDO", "SAQUE", "SALARIO"),
        "MX": ("COMPRA", "SPEI ENVIADO", "SPEI RECIBIDO", "RETIRO CAJERO", "NOMINA"),
    }
    for country, expected in words.items():
        text = " ".join(t for rows in templates(country).values() for t in rows).upper()
        for word in expected:
            assert word in text, (country, word)


def test_local_businesses_in_each_countrys_language_with_decoys() -> None:
    local_words = {"ES": {"MEDICAL": ("Farmacia",)}, "GB": {"MEDICAL": ("Chemist",)}}
    cat = build_catalogue(None, local_words=local_words, decoys={"lucky": "FOOD_AND_DRINK"})
    medical = [e for e in cat.entities if e.kind == "local" and e.label == "MEDICAL"]
    spanish = [e.name for e in medical if e.countries == {"ES"} and "FARMACIA" in e.name]
    assert spanish
    assert sum(name.startswith("FARMACIA ") for name in spanish) > len(spanish) / 2
    assert any("CHEMIST" in e.name for e in medical if e.countries == {"GB"})
    assert not any("FARMACIA" in e.name for e in medical if e.countries == {"GB"})
    # Another label's brand names some locals (the gazetteer hint is wrong there); never the own label's.
    assert any(e.name.startswith("LUCKY ") for e in medical)
    food = [e for e in cat.entities if e.kind == "local" and e.label == "FOOD_AND_DRINK"]
    assert not any(e.name.startswith("LUCKY ") for e in food)
    # The head of each country's locals cycles through its category words.
    es_head = [e.name for e in medical if e.countries == {"ES"}][:6]
    assert len({name.split()[0] for name in es_head}) >= 3


def test_small_businesses_are_also_paid_by_transfer() -> None:
    drawn = sample_narrations(6000, seed=3, label_weights={"HOME_IMPROVEMENT": 1})
    by_transfer = [n for n in drawn if n.kind == "local" and n.format.startswith("p2p_out")]
    assert by_transfer
    assert all(n.label == "HOME_IMPROVEMENT" and n.direction == "debit" for n in by_transfer)
    assert any(n.merchant.split()[0] in n.text.upper() for n in by_transfer)
