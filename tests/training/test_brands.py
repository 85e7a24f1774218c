"""The brand index: pinned fetch, loader on the NSI fixture, reviewed tables, gazetteer rules, MCC words."""

from __future__ import annotations

import json
import stat
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from service.gazetteer import MAX_KEY_WORDS, PASS, Gazetteer, match_key
from training.data import brands
from training.data.brands import (
    COUNTRIES,
    NSI_VERSION,
    WORLD,
    Brand,
    BrandIndex,
    BrandIndexError,
    _small_formats,
    fetch_brand_index,
    gazetteer_entries,
    load_brand_index,
    load_common_word_brands,
    load_exclude_words,
    load_pass_phrases,
    load_tag_table,
    verify_sha256,
)
from training.labels import LABELS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nsi-mini.json"
REAL_INDEX = Path(__file__).resolve().parents[2] / "artifacts" / "brands" / f"nsi-{NSI_VERSION}.json"


@pytest.fixture(scope="module")
def index() -> BrandIndex:
    return load_brand_index(FIXTURE)


def _named(index: BrandIndex, name: str) -> list[Brand]:
    return [brand for brand in index.brands if brand.name == name]


def _one(index: BrandIndex, name: str) -> Brand:
    found = _named(index, name)
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def _write_index(path: Path, categories: dict[str, list[dict[str, object]]]) -> Path:
    nsi = {
        category: {"properties": {"path": category}, "items": items} for category, items in categories.items()
    }
    path.write_text(json.dumps({"_meta": {"version": "test"}, "nsi": nsi}), encoding="utf-8")
    return path


def _item(name: str, key: str, value: str, *, include: list[str], wikidata: str = "Q1") -> dict[str, object]:
    tags = {"brand": name, "brand:wikidata": wikidata, "name": name, key: value}
    return {"displayName": name, "id": match_key(name), "locationSet": {"include": include}, "tags": tags}


# --- loader ---------------------------------------------------------------------------------------------


def test_fixture_carries_the_bsd_notice() -> None:
    meta = json.loads(FIXTURE.read_text(encoding="utf-8"))["_meta"]
    assert meta["version"] == NSI_VERSION
    assert "BSD 3-Clause" in meta["license"]
    assert "name-suggestion-index contributors" in meta["license"]
    assert "BSD 3-Clause" in (brands.DATA_DIR / "NOTICE").read_text(encoding="utf-8")


def test_loader_maps_tags_to_labels(index: BrandIndex) -> None:
    assert index.version == NSI_VERSION
    assert (_one(index, "McDonald's").label, _one(index, "McDonald's").osm_tag) == (
        "FOOD_AND_DRINK",
        "amenity=fast_food",
    )
    assert _one(index, "Boots").label == "MEDICAL"
    assert _one(index, "B&Q").label == "HOME_IMPROVEMENT"
    assert _one(index, "Iberdrola").label == "RENT_AND_UTILITIES"  # operators tree
    assert _one(index, "Avon and Somerset Police").label == "GOVERNMENT_AND_NON_PROFIT"
    assert all(brand.label in LABELS for brand in index.brands)


def test_a_qualified_tag_wins_over_the_plain_one(index: BrandIndex) -> None:
    tickets = _one(index, "bwegt")
    assert (tickets.label, tickets.osm_tag) == (
        "TRANSPORTATION",
        "amenity=vending_machine+vending=public_transport_tickets",
    )
    drinks = _one(index, "7up")
    assert (drinks.label, drinks.osm_tag) == ("FOOD_AND_DRINK", "amenity=vending_machine")


def test_unmapped_tags_are_counted_not_loaded(index: BrandIndex) -> None:
    assert dict(index.unmapped_tags) == {"amenity=atm": 1, "amenity=bank": 2, "man_made=flagpole": 1}
    assert not _named(index, "Barclays")
    assert not _named(index, "Tesco Bank")
    assert not _named(index, "AAATA")  # transit tree: not read at all


def test_world_and_excluded_countries(index: BrandIndex) -> None:
    assert _one(index, "Shell").countries == {WORLD}
    tesco = _one(index, "Tesco")  # supermarket: 001 minus us; convenience: 001 minus gb, us; fuel: cz gb sk
    assert tesco.countries == frozenset(COUNTRIES) - {"US"}
    mail_boxes = _one(index, "Mail Boxes Etc.")  # 001 minus ca, gb, us
    assert mail_boxes.countries == frozenset(COUNTRIES) - {"CA", "GB", "US"}


def test_regions_expand_to_our_member_countries(index: BrandIndex) -> None:
    assert _one(index, "Eurospar").countries == {"GB", "IE", "DE", "FR", "ES", "IT", "NL"}  # 150 Europe
    assert _one(index, "Gapco").countries == {"ZA", "NG", "KE", "GH"}  # 002 Africa


def test_sub_national_codes_name_their_country(index: BrandIndex) -> None:
    assert _one(index, "Scotmid").countries == {"GB"}  # gb-sct
    assert _one(index, "Wheel Works").countries == {"US"}  # us-ca.geojson


def test_points_are_unknown_and_foreign_brands_left_out(index: BrandIndex) -> None:
    assert set(index.unknown_locations) == {"point"}
    assert not [brand for brand in index.brands if brand.name.startswith("masymas")]  # located by points only
    assert index.outside_countries == 2  # masymas, and a Budapest parking-ticket machine
    assert all(brand.countries and brand.countries <= {*COUNTRIES, WORLD} for brand in index.brands)


def test_disagreements_follow_priority_then_overrides(index: BrandIndex) -> None:
    disagreeing = {row.name: row for row in index.disagreements}
    assert set(disagreeing) == {"7-Eleven", "Shell", "Tesco"}
    # supermarket (priority 4) > fuel (3) > convenience (2) > car wash (1)
    assert {tag for tag, _ in disagreeing["Tesco"].tags} == {
        "amenity=fuel",
        "shop=convenience",
        "shop=supermarket",
    }
    assert (_one(index, "Tesco").label, _one(index, "Tesco").osm_tag) == (
        "FOOD_AND_DRINK",
        "shop=supermarket",
    )
    assert (_one(index, "Shell").label, _one(index, "Shell").osm_tag) == ("TRANSPORTATION", "amenity=fuel")
    # fuel outranks convenience, but brand_overrides.tsv puts 7-Eleven with convenience stores
    seven = _one(index, "7-Eleven")
    assert (seven.label, seven.osm_tag) == ("GENERAL_MERCHANDISE", "amenity=fuel")
    assert disagreeing["7-Eleven"].label == "GENERAL_MERCHANDISE"
    assert _one(index, "Amazon").label == "GENERAL_MERCHANDISE"  # override: NSI lists only its depots


def test_an_operator_named_as_a_public_body_takes_that_label(index: BrandIndex) -> None:
    natal = _one(index, "Prefeitura do Natal")  # runs schools and clinics: paid as a city
    assert natal.label == "GOVERNMENT_AND_NON_PROFIT"
    assert _one(index, "Stadtwerke Augsburg").label == "RENT_AND_UTILITIES"  # tags: chargers, car sharing
    assert _one(index, "Aldine Independent School District").label == "GENERAL_SERVICES"
    assert _one(index, "Ma Ferme en Ville").label == "FOOD_AND_DRINK"  # brands tree: names are not read


def test_equal_priorities_go_to_the_most_items_then_the_earlier_label(tmp_path: Path) -> None:
    path = _write_index(
        tmp_path / "nsi.json",
        {
            "brands/shop/bakery": [
                _item("Crumbs", "shop", "bakery", include=["gb"], wikidata="Q1"),
                _item("Tie", "shop", "bakery", include=["fr"], wikidata="Q2"),
            ],
            "brands/shop/gift": [_item("Crumbs", "shop", "gift", include=["ie"], wikidata="Q1")],
            "brands/shop/clothes": [
                _item("Crumbs", "shop", "clothes", include=["ie"], wikidata="Q1"),
                _item("Crumbs", "shop", "clothes", include=["us"], wikidata="Q1"),
                _item("Tie", "shop", "clothes", include=["de"], wikidata="Q2"),
            ],
        },
    )
    loaded = load_brand_index(path)
    crumbs, tie = _one(loaded, "Crumbs"), _one(loaded, "Tie")
    assert (crumbs.label, crumbs.osm_tag) == ("GENERAL_MERCHANDISE", "shop=clothes")  # 3 items to 1
    assert crumbs.countries == {"GB", "IE", "US"}
    assert tie.label == "FOOD_AND_DRINK"  # 1 to 1: FOOD_AND_DRINK comes before GENERAL_MERCHANDISE in LABELS
    assert len(loaded.disagreements) == 2


def test_a_name_without_latin_letters_gives_way_to_its_english_one(index: BrandIndex) -> None:
    adnoc = _one(index, "ADNOC")
    assert (adnoc.label, adnoc.countries, adnoc.wikidata) == ("TRANSPORTATION", frozenset({"AE"}), "Q166729")
    assert match_key("أدنوك") in {match_key(name) for name in adnoc.match_names}  # the Arabic name
    assert gazetteer_entries(index)["adnoc service station"] == "TRANSPORTATION"


def test_spellings_of_other_label_items_stay_out(index: BrandIndex) -> None:
    tesco = _one(index, "Tesco")
    assert "tesco superstore" in tesco.match_names
    assert "tesco petrol station" not in tesco.match_names  # a spelling of its fuel item


def test_an_unreadable_index_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"nsi": []}', encoding="utf-8")
    with pytest.raises(BrandIndexError, match=r"not an nsi\.json"):
        load_brand_index(tmp_path / "bad.json")
    with pytest.raises(BrandIndexError, match="cannot read"):
        load_brand_index(tmp_path / "missing.json")


# --- reviewed tables ------------------------------------------------------------------------------------


def test_every_tag_maps_to_a_label_or_is_marked_unmapped() -> None:
    table = load_tag_table()
    assert len(table) >= 300
    assert {rule.label for rule in table.values()} - {None} <= set(LABELS)
    assert all(rule.priority >= 0 and rule.note for rule in table.values())
    assert table["shop=supermarket"].label == "FOOD_AND_DRINK"
    assert table["shop=convenience"].label == "GENERAL_MERCHANDISE"
    assert table["amenity=bank"].label is None


def test_every_fixture_tag_is_reviewed() -> None:
    table = load_tag_table()
    categories = json.loads(FIXTURE.read_text(encoding="utf-8"))["nsi"]
    tags = {
        "=".join(category.split("/")[1:]) for category in categories if not category.startswith("transit/")
    }
    assert tags <= set(table)


def test_a_tag_listed_twice_is_refused(tmp_path: Path) -> None:
    lines = (brands.DATA_DIR / "osm_tags.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines if line and not line.startswith("#")]
    tags = [row.split("\t")[0] for row in rows[1:]]
    assert len(tags) == len(set(tags))
    copy = tmp_path / "osm_tags.tsv"
    copy.write_text("\n".join([*lines, rows[1]]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed twice"):
        load_tag_table(copy)


def test_a_tag_with_an_unknown_label_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "osm_tags.tsv"
    copy.write_text("tag\tlabel\tpriority\tnote\nshop=bakery\tBAKERIES\t2\tx\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown label"):
        load_tag_table(copy)


# --- gazetteer ------------------------------------------------------------------------------------------


def _brand(name: str, label: str, *match_names: str) -> Brand:
    return Brand(name, label, frozenset({"GB"}), "shop=x", match_names, None)


def _index(*rows: Brand) -> BrandIndex:
    return BrandIndex("test", rows, {})


def _brand_keys(entries: dict[str, str]) -> dict[str, str]:
    """The entries without the payment-method phrases every gazetteer holds."""
    return {key: label for key, label in entries.items() if label != PASS}


def test_gazetteer_keys_are_servable(index: BrandIndex) -> None:
    entries = gazetteer_entries(index)
    assert entries["tesco"] == "FOOD_AND_DRINK"
    assert entries["shell"] == "TRANSPORTATION"
    assert entries["mcdonalds"] == "FOOD_AND_DRINK"
    assert entries["seven eleven"] == "GENERAL_MERCHANDISE"
    for key in entries:
        assert key == match_key(key)
        assert len(key.replace(" ", "")) >= 3
        assert len(key.split(" ")) <= MAX_KEY_WORDS
    Gazetteer(entries, f"name-suggestion-index {index.version}", labels=LABELS)


def test_gazetteer_drops_ambiguous_short_and_generic_keys(index: BrandIndex) -> None:
    entries = gazetteer_entries(index)
    # A supermarket (AU) and a bookshop (CA), 1 to 1 (Shell's "coles" spelling has no vote): ambiguous by
    # the vote, settled by the reviewed key table (gazetteer_keys.tsv), as are walmart and argos.
    assert entries["coles"] == "FOOD_AND_DRINK"
    assert entries["coles express"] == "TRANSPORTATION"
    assert entries["walmart"] == "GENERAL_MERCHANDISE"
    assert entries["argos"] == "GENERAL_MERCHANDISE"
    assert "casino" not in entries
    assert "glo" not in entries
    assert entries["glo studio"] == "GENERAL_MERCHANDISE"
    assert "hi" not in entries  # too short


def test_gazetteer_excludes_stop_words() -> None:
    words = load_exclude_words()
    assert {"payment", "transfer", "card", "pos", "bank", "the", "shop", "store", "market"} <= words
    rows = _index(_brand("Express", "GENERAL_MERCHANDISE"), _brand("The Store", "GENERAL_MERCHANDISE"))
    rows = _index(
        *rows.brands,
        _brand("Express Dental", "MEDICAL"),
        _brand("Apex Dental", "MEDICAL"),
        _brand("Tesco", "FOOD_AND_DRINK"),
    )
    entries = _brand_keys(gazetteer_entries(rows))
    # "express" and "store": stop words only; "express dental" and "the store" are brands' whole names of
    # two words, kept although every word is a stop word.
    assert entries == {
        "apex dental": "MEDICAL",
        "express dental": "MEDICAL",
        "tesco": "FOOD_AND_DRINK",
        "the store": "GENERAL_MERCHANDISE",
    }
    assert "tesco" not in gazetteer_entries(rows, exclude_words=frozenset({"tesco"}))
    # Without stop words "express" is still an everyday word (wordfreq), so no key of its own.
    assert "express" not in gazetteer_entries(rows, exclude_words=frozenset())


def test_gazetteer_drops_stop_word_names_with_narration_words() -> None:
    # Brand names made of stop words that a bank narration itself uses ("cash", "card", "charge").
    rows = _index(_brand("Cash Store", "LOAN_PAYMENTS"), _brand("Card Factory", "GENERAL_MERCHANDISE"))
    rows = _index(*rows.brands, _brand("New World", "FOOD_AND_DRINK"))
    entries = _brand_keys(gazetteer_entries(rows))
    assert entries == {"new world": "FOOD_AND_DRINK"}


def test_gazetteer_steps_over_payment_methods() -> None:
    phrases = load_pass_phrases()
    assert {"apple pay", "google pay"} <= phrases
    rows = _index(_brand("Apple", "GENERAL_MERCHANDISE"), _brand("Albert Heijn", "FOOD_AND_DRINK"))
    entries = gazetteer_entries(rows)
    assert {key for key, label in entries.items() if label == PASS} == phrases
    table = Gazetteer(entries, "test", labels=LABELS)
    assert table.lookup("bea, apple pay albert heijn 1341") == "FOOD_AND_DRINK"
    assert table.lookup("apple.com/bill") == "GENERAL_MERCHANDISE"
    assert table.lookup("bea, apple pay eetcafe de kroeg") is None


def test_gazetteer_takes_hand_kept_names_as_brand_names() -> None:
    rows = _index(_brand("Netflix", "TRAVEL"), _brand("Tesco", "FOOD_AND_DRINK"))
    hand = [("NETFLIX", "ENTERTAINMENT"), ("NETFLIX", "ENTERTAINMENT"), ("HMRC", "GOVERNMENT_AND_NON_PROFIT")]
    entries = _brand_keys(gazetteer_entries(rows, hand_kept=hand))
    # one index brand and one hand-kept name (a repeated pair votes once) disagree: no key
    assert entries == {"hmrc": "GOVERNMENT_AND_NON_PROFIT", "tesco": "FOOD_AND_DRINK"}
    hand.append(("Netflix Inc", "ENTERTAINMENT"))
    assert _brand_keys(gazetteer_entries(rows, hand_kept=hand))["netflix inc"] == "ENTERTAINMENT"


def test_small_formats_of_a_supermarket_take_its_label() -> None:
    tesco = _brand("Tesco", "FOOD_AND_DRINK")
    small = _brand("Tesco Express", "GENERAL_MERCHANDISE")
    seven = _brand("7-Eleven", "GENERAL_MERCHANDISE")
    index = _index(
        replace(tesco, osm_tag="shop=supermarket"),
        replace(small, osm_tag="shop=convenience"),
        replace(seven, osm_tag="shop=convenience"),
    )
    labels = {brand.name: brand.label for brand in _small_formats(index.brands)}
    assert labels == {
        "Tesco": "FOOD_AND_DRINK",
        "Tesco Express": "FOOD_AND_DRINK",
        "7-Eleven": "GENERAL_MERCHANDISE",
    }
    elsewhere = replace(small, osm_tag="shop=convenience", countries=frozenset({"NZ"}))
    assert (
        _small_formats([replace(tesco, osm_tag="shop=supermarket"), elsewhere])[1].label
        == "GENERAL_MERCHANDISE"
    )


def test_gazetteer_drops_everyday_words_unless_reviewed() -> None:
    rows = _index(
        _brand("Lucky", "FOOD_AND_DRINK"),  # a US supermarket, and an everyday word
        _brand("Team", "TRANSPORTATION"),
        _brand("Next", "GENERAL_MERCHANDISE"),  # kept by review (common_word_brands.txt)
        _brand("Costa", "FOOD_AND_DRINK"),  # kept by review
        _brand("Zizzi", "FOOD_AND_DRINK"),  # no everyday word
    )
    entries = gazetteer_entries(rows)
    assert "lucky" not in entries
    assert "team" not in entries
    assert entries["next"] == "GENERAL_MERCHANDISE"
    assert entries["costa"] == "FOOD_AND_DRINK"
    assert entries["zizzi"] == "FOOD_AND_DRINK"
    assert {"next", "costa", "three"} <= load_common_word_brands()


def test_gazetteer_adds_truncated_first_words_of_shops_only() -> None:
    rows = _index(
        _brand("Bunnings Warehouse", "HOME_IMPROVEMENT"),
        _brand("Kenoshaville Water Utility", "RENT_AND_UTILITIES"),  # not a shop: no prefix key
        _brand("Zorblat Foods", "FOOD_AND_DRINK"),
        _brand("Zorblat Pharmacy", "MEDICAL"),  # two labels claim "zorblat": no prefix key
        _brand("Golden Dragon", "FOOD_AND_DRINK"),  # "golden" is a word
    )
    entries = gazetteer_entries(rows)
    assert entries["bunnings"] == "HOME_IMPROVEMENT"
    assert "kenoshaville" not in entries
    assert "zorblat" not in entries
    assert "golden" not in entries
    assert entries["zorblat foods"] == "FOOD_AND_DRINK"


def test_gazetteer_majority_rule() -> None:
    two_to_one = _index(*(_brand("Apex", label) for label in ("MEDICAL", "MEDICAL", "TRAVEL")))
    assert _brand_keys(gazetteer_entries(two_to_one)) == {"apex": "MEDICAL"}
    one_to_one = _index(_brand("Apex", "MEDICAL"), _brand("Apex", "TRAVEL"))
    assert _brand_keys(gazetteer_entries(one_to_one)) == {}
    # a brand's own name outvotes another brand's alternative spelling of it
    named = _index(_brand("Coles", "FOOD_AND_DRINK"), _brand("Shell", "TRANSPORTATION", "coles", "Shell Oil"))
    assert _brand_keys(gazetteer_entries(named)) == {
        "coles": "FOOD_AND_DRINK",
        "shell": "TRANSPORTATION",
        "shell oil": "TRANSPORTATION",
    }


# --- pinned fetch ---------------------------------------------------------------------------------------


def test_verify_sha256_refuses_a_tampered_file(tmp_path: Path) -> None:
    path = tmp_path / "nsi.json"
    path.write_bytes(b"{}")
    good = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    verify_sha256(path, good)
    path.write_bytes(b"{ }")
    with pytest.raises(BrandIndexError, match="sha256 mismatch"):
        verify_sha256(path, good)


def test_fetch_without_npm_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / f"nsi-{NSI_VERSION}.json").write_text("{}", encoding="utf-8")  # a cached copy, tampered
    with pytest.raises(BrandIndexError, match="not found on PATH"):
        fetch_brand_index(tmp_path, npm="no-such-npm-here")


def test_fetch_refuses_a_tarball_with_another_sha(tmp_path: Path) -> None:
    payload = tmp_path / "package" / "dist" / "json" / "nsi.json"
    payload.parent.mkdir(parents=True)
    payload.write_text('{"nsi": {}}', encoding="utf-8")
    tarball = tmp_path / "fake.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(tmp_path / "package", arcname="package")
    npm = tmp_path / "npm"
    npm.write_text(f"#!/bin/sh\ncp {tarball} ./{brands.NSI_PACKAGE}-{NSI_VERSION}.tgz\n", encoding="utf-8")
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    cache = tmp_path / "cache"
    with pytest.raises(BrandIndexError, match="sha256 mismatch"):
        fetch_brand_index(cache, npm=str(npm))
    assert not (cache / f"nsi-{NSI_VERSION}.json").exists()


# --- MCC words ------------------------------------------------------------------------------------------


def test_mcc_labels_and_category_words() -> None:
    pytest.importorskip("iso18245", reason="iso18245 not installed: pip install -e '.[train]'")
    labels = brands.mcc_labels()
    assert labels["5411"] == "FOOD_AND_DRINK"
    assert labels["5499"] == "GENERAL_MERCHANDISE"  # convenience stores (labelling guide)
    assert labels["3000"] == "TRAVEL"
    assert labels["7011"] == "TRAVEL"
    assert "6011" not in labels  # ATM cash: the narration decides
    words = brands.mcc_category_words()
    assert set(words) <= set(LABELS)
    assert "BAKERY" in words["FOOD_AND_DRINK"]
    assert "DENTAL" in words["MEDICAL"]
    assert "HARDWARE" in words["HOME_IMPROVEMENT"]
    for label_words in words.values():
        assert len(label_words) == len(set(label_words))
        assert all(word == word.upper() and word.strip() for word in label_words)


# --- command line and the real index ------------------------------------------------------------------


def test_report_command_on_the_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    assert brands.main(["report", "--index", str(FIXTURE)]) == 0
    out = capsys.readouterr().out
    assert "brands per label" in out
    assert "gazetteer:" in out
    assert "label disagreements resolved: 3" in out


@pytest.mark.slow
@pytest.mark.skipif(
    not REAL_INDEX.is_file(), reason=f"{REAL_INDEX} absent: python -m training.data.brands fetch"
)
def test_coverage_of_the_real_index() -> None:
    raw = json.loads(REAL_INDEX.read_text(encoding="utf-8"))["nsi"]
    table = load_tag_table()
    tags = {
        "=".join(category.split("/")[1:])
        for category in raw
        if category.split("/")[0] in ("brands", "operators", "flags")
    }
    assert tags <= set(table), f"unreviewed tags: {sorted(tags - set(table))}"
    real = load_brand_index(REAL_INDEX)
    assert len(real.brands) >= 13_000
    per_label = {label: sum(brand.label == label for brand in real.brands) for label in LABELS}
    spending = [
        label for label in LABELS if label not in ("INCOME", "TRANSFER_IN", "TRANSFER_OUT", "BANK_FEES")
    ]
    assert all(per_label[label] >= 40 for label in spending), per_label
    for country in COUNTRIES:
        assert sum(country in brand.countries or WORLD in brand.countries for brand in real.brands) >= 1_000
    assert set(real.unknown_locations) == {"point"}
    assert len(gazetteer_entries(real)) >= 15_000


def test_reviewed_gazetteer_keys_are_valid_labels_in_match_key_form() -> None:
    from training.data.brands import _load_gazetteer_keys

    keys = _load_gazetteer_keys()
    assert keys["walmart"] == "GENERAL_MERCHANDISE"
    assert all(label in LABELS for label in keys.values())


def test_a_reviewed_key_settles_a_tie_the_vote_leaves_ambiguous(tmp_path: Path) -> None:
    from training.data.brands import _load_gazetteer_keys

    bad = tmp_path / "keys.tsv"
    bad.write_text("key\tlabel\tnote\nWal-Mart\tGENERAL_MERCHANDISE\tnot in match-key form\n")
    with pytest.raises(ValueError, match="match-key form"):
        _load_gazetteer_keys(bad)


def test_a_reviewed_name_labels_every_index_brand_of_that_name(index: BrandIndex) -> None:
    # The fixture holds Walmart as a department store and as a fuel brand: both teach GENERAL_MERCHANDISE.
    walmarts = [brand for brand in index.brands if match_key(brand.name) == "walmart"]
    assert walmarts
    assert {brand.label for brand in walmarts} == {"GENERAL_MERCHANDISE"}


def test_a_reviewed_key_wins_over_a_clear_vote() -> None:
    # NSI lists Walmart Supercenter as a supermarket; the guide files superstores as GENERAL_MERCHANDISE.
    rows = _index(*(_brand("Walmart Supercenter", "FOOD_AND_DRINK") for _ in range(3)))
    assert gazetteer_entries(rows)["walmart supercenter"] == "GENERAL_MERCHANDISE"
