"""Category words as gazetteer keys: "APOTHEKE", "FERRETERIA", "BARBER SHOP" hint their label as a brand does.

A local business is named by its trade ("FARMACIA GARCIA", "MARIAS BAKERY", "KFZ WERKSTATT OZTURK"): no
brand index lists it, but its category word says the label. The generator composes local businesses from
three sources of such words, and the same words become gazetteer keys here, so the shared preprocessing
hands the model the category hint of a word it may have seen rarely or never in training:

- the hand-kept ``category_words`` of ``training/data/words/composition.yaml`` (text we wrote);
- the MCC descriptions' words of ``training/data/brands/mcc_labels.tsv`` (ISO 18245, checked by
  ``iso18245``);
- the presets of the pinned iD tagging schema, each preset's name and aliases in every language of our
  countries (``training.data.presets``; the label follows the preset's OSM tag).

Every occurrence votes for its label (a hand-kept or MCC word counts as :data:`_OWN_VOTES` presets'
languages), and a key is kept when one label has at least 2/3 of its votes ("market" names groceries and
general stores: dropped). Also dropped: keys with fewer than 3 letters or digits, keys of the narration's
own words (card, pay, transfer, ...), labels no shop has (income, transfers, loans, bank fees), and one-word
keys that are a person's name or a city of our word lists ("baker", "florence": they name people and
places in transfers). German words are keyed both folded as our folding does ("backerei") and as German
statements spell umlauts ("baeckerei").

The lookup is the gazetteer's own, leftmost key first: a brand before the category word ("TESCO
PHARMACY") gives the brand's hint. A brand key always wins over a category key of the same spelling.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from service.gazetteer import match_key
from training.data.brands import NARRATION_WORDS
from training.data.catalogue import GERMAN_FOLDS

__all__ = ["HINTED_LABELS", "category_entries"]

#: Labels a shop, venue or office is filed under; a category word never hints the others (income,
#: transfers, loan payments, bank fees: the narration's wording decides those).
HINTED_LABELS: frozenset[str] = frozenset(
    {
        *("ENTERTAINMENT", "FOOD_AND_DRINK", "GENERAL_MERCHANDISE", "HOME_IMPROVEMENT", "MEDICAL"),
        *("PERSONAL_CARE", "GENERAL_SERVICES", "GOVERNMENT_AND_NON_PROFIT", "TRANSPORTATION", "TRAVEL"),
        "RENT_AND_UTILITIES",
    }
)
#: Votes of one hand-kept or MCC word, against one per language for a preset's name.
_OWN_VOTES = 3
_MAJORITY = 2 / 3
_MIN_CHARS = 3


def _keys(word: str) -> set[str]:
    keys = {match_key(word)}
    if any(char in word for char in "ÄÖÜßäöü"):
        keys.add(match_key(word.upper().translate(GERMAN_FOLDS)))
    return keys


def category_entries(
    own_words: Mapping[str, Sequence[str]],
    preset_words: Iterable[Mapping[str, Sequence[str]]] = (),
    *,
    name_words: Iterable[str] = (),
) -> dict[str, str]:
    """``match_key -> label`` for the category words, keys sorted.

    ``own_words``: label -> hand-kept and MCC words (each counts :data:`_OWN_VOTES`); ``preset_words``:
    one label -> words mapping per language (each counts 1); ``name_words``: first names, last names
    and cities (a one-word key that is one of them is dropped). Raises ``ValueError`` for a label that
    is not a label name (upper-case words joined by ``_``).
    """
    votes: dict[str, Counter[str]] = {}

    def vote(label: str, words: Sequence[str], weight: int) -> None:
        if not label.replace("_", "").isalpha() or label != label.upper():
            raise ValueError(f"{label!r} is not a label name")
        for word in words:
            for key in _keys(word):
                if key:
                    votes.setdefault(key, Counter())[label] += weight

    for label, words in own_words.items():
        vote(label, words, _OWN_VOTES)
    for per_language in preset_words:
        for label, words in per_language.items():
            vote(label, words, 1)
    names = {word for name in name_words for word in match_key(name).split(" ") if word}
    entries: dict[str, str] = {}
    for key in sorted(votes):
        label, top = votes[key].most_common(1)[0]
        words = key.split(" ")
        if len(key.replace(" ", "")) < _MIN_CHARS or top < _MAJORITY * sum(votes[key].values()):
            continue
        if label not in HINTED_LABELS or NARRATION_WORDS.intersection(words):
            continue
        if len(words) == 1 and key in names:
            continue
        entries[key] = label
    return entries
