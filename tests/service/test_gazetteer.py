"""Gazetteer: the match-key folding, whole-word leftmost-longest lookup, and the TSV file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from service.errors import BundleError
from service.gazetteer import MAX_KEY_WORDS, PASS, Gazetteer, match_key
from training.labels import LABELS

ENTRIES = {
    "tesco": "FOOD_AND_DRINK",
    "tesco express": "GENERAL_MERCHANDISE",
    "shell": "TRANSPORTATION",
    "seven eleven": "GENERAL_MERCHANDISE",
    "mcdonalds": "FOOD_AND_DRINK",
    "cafe de flore": "FOOD_AND_DRINK",
    "boots": "MEDICAL",
    "a b c d e": "ENTERTAINMENT",
}


@pytest.fixture
def gazetteer() -> Gazetteer:
    return Gazetteer(ENTRIES, "test table 1", labels=LABELS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Café  de FLORE", "cafe de flore"),
        ("McDonald's", "mcdonalds"),
        ("McDonald\u2019s #123", "mcdonalds 123"),
        ("TESCO-STORES_3297/London", "tesco stores 3297 london"),
        ("ﬁve guys", "five guys"),
        ("Ça va?", "ca va"),
        ("  \t ", ""),
        ("naïve Zoë Ångström", "naive zoe angstrom"),
    ],
)
def test_match_key(text: str, expected: str) -> None:
    assert match_key(text) == expected
    assert match_key(expected) == expected


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("pos tesco stores 3297 london", "FOOD_AND_DRINK"),
        ("TESCO EXPRESS 123", "GENERAL_MERCHANDISE"),  # longest of those starting at the same word
        ("shell tesco express", "TRANSPORTATION"),  # leftmost wins over longer later
        ("express tesco", "FOOD_AND_DRINK"),
        ("7-eleven seven-eleven #", "GENERAL_MERCHANDISE"),
        ("McDonald’s 42", "FOOD_AND_DRINK"),
        ("mcdonald's", "FOOD_AND_DRINK"),
        ("CAFÉ DE FLORE PARIS", "FOOD_AND_DRINK"),
        ("card a b c d e f", "ENTERTAINMENT"),
        ("tesco.com", "FOOD_AND_DRINK"),
    ],
)
def test_lookup_finds_keys(gazetteer: Gazetteer, text: str, label: str) -> None:
    assert gazetteer.lookup(text) == label


@pytest.mark.parametrize(
    "text",
    ["shellfish shack", "bootstrap ltd", "tescos", "mc donalds", "cafe de", "seven", "", "xtesco", "a b c d"],
)
def test_lookup_matches_whole_words_only(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.lookup(text) is None


def test_a_mapping_with_source(gazetteer: Gazetteer) -> None:
    assert len(gazetteer) == len(ENTRIES)
    assert dict(gazetteer) == ENTRIES
    assert gazetteer.source == "test table 1"


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ({"": "INCOME"}, "empty key"),
        ({"Tesco": "FOOD_AND_DRINK"}, "match_key form"),
        ({"tesco  express": "FOOD_AND_DRINK"}, "match_key form"),
        ({"mcdonald's": "FOOD_AND_DRINK"}, "match_key form"),
        ({" ".join("abcdef"): "INCOME"}, f"more than {MAX_KEY_WORDS} words"),
        ({"tesco": ""}, "empty"),
        ({"tesco": "FOOD AND DRINK"}, "whitespace"),
        ({"tesco": "GROCERIES"}, "not one of the bundle's labels"),
    ],
)
def test_bad_entries_are_refused(entries: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Gazetteer(entries, "src", labels=LABELS)


@pytest.mark.parametrize("source", ["", "  ", "two\nlines", "a\tb"])
def test_a_bad_source_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="source"):
        Gazetteer(ENTRIES, source)


def test_file_round_trip(gazetteer: Gazetteer, tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.tsv"
    gazetteer.write(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == ["# txclassify gazetteer", "# source: test table 1", f"# entries: {len(ENTRIES)}"]
    assert lines[3:] == sorted(f"{key}\t{label}" for key, label in ENTRIES.items())
    again = Gazetteer.from_file(path, labels=LABELS)
    assert dict(again) == ENTRIES
    assert again.source == gazetteer.source
    assert again.lookup("POS TESCO EXPRESS 12") == "GENERAL_MERCHANDISE"
    assert again.lookup("card a b c d e") == "ENTERTAINMENT"
    assert again.lookup("shellfish") is None


HEADER = "# txclassify gazetteer\n# source: nsi 1\n"


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        ("tesco\tFOOD_AND_DRINK\n", ":1:", "not a gazetteer file"),
        ("", ":1:", "not a gazetteer file"),
        (HEADER + "# entries: 1\ntesco FOOD_AND_DRINK\n", ":4:", "expected 'key<TAB>label'"),
        (HEADER + "# entries: 1\ntesco\tFOOD\tDRINK\n", ":4:", "expected 'key<TAB>label'"),
        (HEADER + "# entries: 1\n\n", ":4:", "expected 'key<TAB>label'"),
        (HEADER + "# entries: 1\nTesco\tFOOD_AND_DRINK\n", ":4:", "match_key form"),
        (HEADER + "# entries: 1\ntesco\tGROCERIES\n", ":4:", "not one of the bundle's labels"),
        (HEADER + "# entries: 2\ntesco\tINCOME\ntesco\tINCOME\n", ":5:", "repeats line 4"),
        (HEADER + "# entries: 2\ntesco\tINCOME\n# late comment\n", ":5:", "header lines come first"),
        (HEADER + "# entries: 2\ntesco\tINCOME\n", ": ", "header says '# entries: 2' but the file has 1"),
        ("# txclassify gazetteer\n# entries: 0\n", ": ", "'# source: ...' is missing"),
        ("# txclassify gazetteer\n# source: x\n", ": ", "header says '# entries: '"),
        ("# txclassify gazetteer\n# stray comment\n# source: x\n", ":2:", "header line"),
        ("# txclassify gazetteer\n# source: a\tb\n# entries: 0\n", ": ", "holds a tab"),
    ],
)
def test_bad_files_are_one_line_naming_file_and_line(
    tmp_path: Path, content: str, where: str, problem: str
) -> None:
    path = tmp_path / "gazetteer.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BundleError) as error:
        Gazetteer.from_file(path, labels=LABELS)
    message = str(error.value)
    assert message.startswith(f"{path}{where}"), message
    assert problem in message
    assert "\n" not in message


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.tsv"
    path.write_bytes(b"# txclassify gazetteer\n\xff\xfe\n")
    with pytest.raises(BundleError, match="unreadable gazetteer"):
        Gazetteer.from_file(path)


def test_lookup_agrees_with_a_brute_force_scan() -> None:
    # Leftmost, then longest, over every word n-gram: the same rule written the slow, obvious way.
    rng = random.Random(7)
    words = [f"w{i}" for i in range(30)]
    entries = {
        " ".join(rng.choices(words, k=rng.randint(1, MAX_KEY_WORDS))): rng.choice(LABELS) for _ in range(80)
    }
    gazetteer = Gazetteer(entries, "random")
    for _ in range(500):
        tokens = rng.choices(words, k=rng.randint(0, 12))
        expected = None
        for start in range(len(tokens)):
            found = [
                entries[" ".join(tokens[start:end])]
                for end in range(len(tokens), start, -1)
                if " ".join(tokens[start:end]) in entries
            ]
            if found:
                expected = found[0]
                break
        assert gazetteer.lookup(" ".join(tokens)) == expected


def test_pass_entries_are_stepped_over(tmp_path: Path) -> None:
    entries = {**ENTRIES, "apple": "GENERAL_MERCHANDISE", "apple pay": PASS, "pay": PASS}
    table = Gazetteer(entries, "test table 1", labels=LABELS)
    assert table.lookup("bea, apple pay tesco 1341") == "FOOD_AND_DRINK"
    assert table.lookup("apple pay") is None
    assert table.lookup("apple store regent st") == "GENERAL_MERCHANDISE"
    assert table.lookup("pay boots") == "MEDICAL"
    # no key inside a stepped-over phrase matches either
    inner = Gazetteer({"pay": "TRANSFER_OUT", "google pay": PASS}, "t 1", labels=LABELS)
    assert inner.lookup("google pay") is None
    path = tmp_path / "gazetteer.tsv"
    table.write(path)
    assert Gazetteer.from_file(path, labels=LABELS).lookup("apple pay shell") == "TRANSPORTATION"


COMPACT_ENTRIES = {
    "media markt": "GENERAL_MERCHANDISE",
    "mcdonalds": "FOOD_AND_DRINK",
    "paknsave": "FOOD_AND_DRINK",
    "trade me": "GENERAL_MERCHANDISE",
    "tesco": "FOOD_AND_DRINK",
    "kfc": "FOOD_AND_DRINK",
    "b q": "HOME_IMPROVEMENT",  # "bq": under COMPACT_MIN_CHARS, never a compact form
    "sun trust": "BANK_FEES",  # "suntrust" claimed by two labels: dropped
    "suntr ust": "GENERAL_SERVICES",
    "apple pay": PASS,
}


@pytest.fixture
def compact() -> Gazetteer:
    return Gazetteer(COMPACT_ENTRIES, "test table 1", labels=LABELS, matching="compact")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("CB MEDIAMARKT ALCORCON", "GENERAL_MERCHANDISE"),  # a glued multi-word key
        ("media markt alcorcon", "GENERAL_MERCHANDISE"),  # the key itself, as ever
        ("MC DONALDS 4412", "FOOD_AND_DRINK"),  # two split words, joined, are a one-word key
        ("PAK N SAVE ALBANY", "FOOD_AND_DRINK"),  # three
        ("TRADEME LIMITED", "GENERAL_MERCHANDISE"),
        ("tesco mcdonalds", "FOOD_AND_DRINK"),
        ("b q", "HOME_IMPROVEMENT"),
        ("bq warehouse", None),
        ("suntrust atm", None),
        ("apple pay mediamarkt", "GENERAL_MERCHANDISE"),
        ("applepay", None),  # PASS phrases have no compact form
        ("mc donald", None),
        ("tes co", "FOOD_AND_DRINK"),
        ("k f c", None),  # a joined "kfc" is under COMPACT_MIN_CHARS
    ],
)
def test_compact_matching(compact: Gazetteer, text: str, label: str | None) -> None:
    assert compact.lookup(text) == label


def test_exact_matching_ignores_glued_and_split_names() -> None:
    exact = Gazetteer(COMPACT_ENTRIES, "test table 1", labels=LABELS)
    assert exact.matching == "exact"
    assert exact.lookup("cb mediamarkt alcorcon") is None
    assert exact.lookup("mc donalds 4412") is None


def test_a_key_at_a_word_wins_over_a_compact_form_there() -> None:
    table = Gazetteer(
        {"mc": "MEDICAL", "media markt": "GENERAL_MERCHANDISE", "mcdonalds": "FOOD_AND_DRINK"},
        "t 1",
        labels=LABELS,
        matching="compact",
    )
    assert table.lookup("mc donalds") == "MEDICAL"
    # leftmost still wins: a compact form at a later word does not outrank a key at an earlier one
    assert table.lookup("mediamarkt mc") == "GENERAL_MERCHANDISE"


def test_the_matching_rule_round_trips_and_old_tables_read_as_exact(
    compact: Gazetteer, tmp_path: Path
) -> None:
    path = tmp_path / "gazetteer.tsv"
    compact.write(path)
    assert "# matching: compact" in path.read_text().splitlines()[:4]
    again = Gazetteer.from_file(path)
    assert again.matching == "compact"
    assert again.lookup("mediamarkt") == "GENERAL_MERCHANDISE"
    Gazetteer(ENTRIES, "test table 1").write(path)
    assert not any(line.startswith("# matching") for line in path.read_text().splitlines())
    assert Gazetteer.from_file(path).matching == "exact"


def test_an_unknown_matching_rule_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="matching 'fuzzy' is not one of exact, compact"):
        Gazetteer(ENTRIES, "t 1", matching="fuzzy")
    path = tmp_path / "gazetteer.tsv"
    path.write_text(
        "# txclassify gazetteer\n# source: t 1\n# entries: 1\n# matching: fuzzy\ntesco\tFOOD_AND_DRINK\n"
    )
    with pytest.raises(
        BundleError, match=r"header says '# matching: fuzzy'; this service knows exact, compact"
    ):
        Gazetteer.from_file(path)
