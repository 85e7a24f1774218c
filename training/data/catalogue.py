"""Merchant and counterparty catalogue: real brands per label and country, plus composed local businesses.

Every narration names one *entity* (a merchant, an employer, a lender, a person, a fee type). The catalogue
is fixed (it does not depend on the sampling seed) so that the train/val/test split by entity is stable:
the test set's entities never appear in training, whatever seed the sampler uses.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from functools import cache

from training.data import vocabulary as v
from training.labels import LABELS

__all__ = ["COUNTRIES", "SPLITS", "Entity", "catalogue", "entities_for", "held_out_words", "pinned_to_train"]

COUNTRIES: tuple[str, ...] = ("US", "UK", "NG", "EU", "IN")
SPLITS: tuple[str, ...] = ("train", "val", "test")
_ALL = frozenset(COUNTRIES)
#: Fixed seed of the catalogue itself (composed names); independent of the sampling seed.
_CATALOGUE_SEED = 18245
_COMPOSED_PER_LABEL = 160
_PEOPLE_PER_COUNTRY = 220


@dataclass(frozen=True)
class Entity:
    """One merchant or counterparty: its display name, label, countries and split."""

    name: str
    label: str
    kind: str  # "brand" | "local" | "person" | "employer" | "fee" | "lender" | ...
    countries: frozenset[str]
    split: str


@cache
def _behavioural_texts() -> tuple[tuple[str, str], ...]:
    """(label, upper-cased text) of every behavioural case (must-pass and invariance members)."""
    from training.behavioural import load_cases

    cases = load_cases()
    rows = [(label, text) for text, label in cases.must_pass]
    rows += [(label, text) for texts, label in cases.groups for text in texts]
    return tuple((label, text.upper()) for label, text in rows)


def pinned_to_train(label: str, name: str) -> bool:
    """True when a behavioural case of ``label`` names this entity (as whole words).

    The behavioural suite checks that the model knows the *obvious* merchants (Spotify, Airbnb, British
    Gas, ...), the head of real traffic that any production model is trained on. Those entities are pinned
    to the training split; the held-out split keeps measuring what it is for, merchants never seen.
    """
    pattern = re.compile(rf"(?<![A-Z0-9]){re.escape(name.upper())}(?![A-Z0-9])")
    return any(case_label == label and pattern.search(text) for case_label, text in _behavioural_texts())


def _split_of(label: str, name: str) -> str:
    """Deterministic 70/10/20 split by entity name (a hash, so adding entities never moves old ones);
    entities named by behavioural cases always train (:func:`pinned_to_train`)."""
    if pinned_to_train(label, name):
        return "train"
    bucket = int(hashlib.sha256(f"{label}|{name}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "val" if bucket < 80 else "test"


def _countries(code: str) -> frozenset[str]:
    return _ALL if code == "*" else frozenset(code.split(","))


def _composed(label: str, rng: random.Random) -> list[tuple[str, str]]:
    """Plausible small local businesses: an owner/place/adjective word plus a category word."""
    words = v.CATEGORY_WORDS.get(label)
    if not words:
        return []
    names: set[str] = set()
    while len(names) < _COMPOSED_PER_LABEL:
        style = rng.random()
        word = rng.choice(words)
        if style < 0.35:
            name = f"{rng.choice(v.OWNER_NAMES)}S {word}"
        elif style < 0.6:
            name = f"{rng.choice(v.ADJECTIVES)} {word}"
        elif style < 0.8:
            name = f"{rng.choice(v.CITY_WORDS)} {word}"
        else:
            name = f"{rng.choice(v.OWNER_NAMES)} {rng.choice(v.ADJECTIVES)} {word}"
        names.add(name)
    return [(name, "*") for name in sorted(names)]


def _people(rng: random.Random) -> list[tuple[str, str]]:
    people: list[tuple[str, str]] = []
    for country, (first, last) in v.PERSON_NAMES.items():
        seen: set[str] = set()
        while len(seen) < _PEOPLE_PER_COUNTRY:
            seen.add(f"{rng.choice(first)} {rng.choice(last)}")
        people.extend((name, country) for name in sorted(seen))
    return people


@cache
def catalogue() -> tuple[Entity, ...]:
    """All entities, in a fixed order (Zipf ranks are drawn from this order by the sampler)."""
    rng = random.Random(_CATALOGUE_SEED)
    entities: list[Entity] = []
    people = _people(rng)
    for label in LABELS:
        rows: list[tuple[str, str, str]] = [(n, c, "brand") for n, c in v.BRANDS.get(label, ())]
        rows += [(n, c, "local") for n, c in _composed(label, rng)]
        rows += [(n, c, kind) for kind, items in v.COUNTERPARTIES.get(label, {}).items() for n, c in items]
        if label in ("TRANSFER_IN", "TRANSFER_OUT"):
            # The same person may send and receive money: the split key is the label plus the name.
            rows += [(n, c, "person") for n, c in people]
        for name, code, kind in rows:
            split = _split_of(label, name)
            entities.append(Entity(name, label, kind, _countries(code), split))
    return tuple(entities)


@cache
def entities_for(label: str, country: str, split: str) -> tuple[Entity, ...]:
    """Entities of one label usable in one country and split (``split="all"`` for every split)."""
    return tuple(
        e
        for e in catalogue()
        if e.label == label and country in e.countries and (split == "all" or e.split == split)
    )


@cache
def held_out_words() -> frozenset[str]:
    """Lower-case words that occur in val/test entity names and in no training entity name ("subway",
    "youtube", "toyota", ...). Anything the student trains on, labelled or not, must avoid them: an
    unlabelled "SUBWAY" scored by the teacher would teach the student a held-out brand."""

    def words(splits: set[str]) -> set[str]:
        return {w.lower() for e in catalogue() if e.split in splits for w in re.findall(r"[A-Za-z]+", e.name)}

    return frozenset(words({"val", "test"}) - words({"train"}))
