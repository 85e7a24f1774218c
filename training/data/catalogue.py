"""Merchant and counterparty catalogue: index brands, hand-kept counterparties, composed locals, people.

Every narration names one *entity*. The catalogue does not depend on the sampling seed, so the split by
entity is stable: the test split's entities never appear in training, whatever seed the sampler uses.

Entity kinds (:data:`KINDS`):

* ``brand``: a named business no shop index lists (streaming, apps, airlines, insurers, utilities, ...);
* ``shop``: a named shop or restaurant chain: from the brand index, or the hand-kept stand-ins without one;
* ``local``: a composed small local business ("MARIAS BAKERY");
* ``telco``: a mobile or broadband operator (airtime top-ups as well as bills);
* ``person``: a private person (P2P transfers; own-account transfers, ATM and cash deposits also key on one);
* ``employer``, ``benefit`` (government payer), ``income`` (dividends, cashback), ``interest`` (interest
  earned under INCOME, charged under BANK_FEES), ``fee``, ``lender``, ``broker``, ``wallet``,
  ``government``, ``charity``, ``landlord``.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol, TypeVar

from training.data import vocabulary as v
from training.data.vocabulary import COUNTRIES
from training.labels import LABELS

__all__ = [
    "COUNTRIES",
    "GERMAN_FOLDS",
    "KINDS",
    "SPLITS",
    "BrandLike",
    "Catalogue",
    "Entity",
    "build_catalogue",
    "catalogue",
    "default_catalogue",
    "entities_for",
    "gazetteer_names",
    "held_out_words",
    "pinned_to_train",
]

SPLITS: tuple[str, ...] = ("train", "val", "test")
KINDS: tuple[str, ...] = (
    "brand", "shop", "local", "telco", "person", "employer", "benefit", "income", "interest", "fee",
    "lender", "broker", "wallet", "government", "charity", "landlord",
)  # fmt: skip
#: Fixed seed of the catalogue itself (composed names, index order); independent of the sampling seed.
_CATALOGUE_SEED = 18245
_COMPOSED_PER_COUNTRY = 100
#: Countries whose small businesses put the trade first ("FARMACIA GARCIA", "BAECKEREI MUELLER",
#: "BOULANGERIE DUPONT", "APOTHEEK DE LINDE"); English-speaking ones mostly put it last ("MARIAS BAKERY").
_TRADE_FIRST = frozenset(("DE", "FR", "ES", "IT", "NL", "BR", "MX"))
#: Share of composed local businesses named with another label's brand ("LUCKY TAXI"): the gazetteer's
#: hint is wrong for them, so the model learns that the text's category word outranks the hint.
_DECOY_SHARE = 0.12
_PEOPLE_PER_COUNTRY = 200
_T = TypeVar("_T")
#: How German statements spell umlauts and sharp s in upper case ("BAECKEREI", "STRASSE").
GERMAN_FOLDS = str.maketrans({"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS"})


class BrandLike(Protocol):
    """What the catalogue reads of a ``training.data.brands.Brand``."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def countries(self) -> frozenset[str]: ...
    @property
    def match_names(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Entity:
    """One merchant or counterparty: its display name, label, kind, countries and split; ``aliases`` are
    other spellings a statement may print (from the index's match names)."""

    name: str
    label: str
    kind: str
    countries: frozenset[str]
    split: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """All entities in a fixed order (the sampler's Zipf ranks follow it), with per-pool lookups."""

    entities: tuple[Entity, ...]
    _pools: dict[tuple[str, str, str, str | None], tuple[Entity, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _by_label: dict[str, list[Entity]] = field(default_factory=dict, repr=False, compare=False)

    def entities_for(
        self, label: str, country: str, split: str, kind: str | None = None
    ) -> tuple[Entity, ...]:
        """Entities of one label usable in one country and split (``split="all"`` for every split), in
        catalogue order; only those of ``kind`` when given."""
        key = (label, country, split, kind)
        if key not in self._pools:
            if not self._by_label:
                for e in self.entities:
                    self._by_label.setdefault(e.label, []).append(e)
            rows = [
                e
                for e in self._by_label.get(label, ())
                if country in e.countries and split in ("all", e.split) and kind in (None, e.kind)
            ]
            self._pools[key] = _country_order(rows)
        return self._pools[key]

    def held_out_words(self) -> frozenset[str]:
        """Lower-case words that occur in val/test entity names and in no training entity name."""

        def words(splits: set[str]) -> set[str]:
            return {
                w.lower()
                for e in self.entities
                if e.split in splits
                for name in (e.name, *e.aliases)
                for w in re.findall(r"[A-Za-z]+", name)
            }

        return frozenset(words({"val", "test"}) - words({"train"}))


def _country_order(rows: Sequence[Entity]) -> tuple[Entity, ...]:
    """One country's pool in Zipf order: entities named for it (its chains, counterparties, hand-kept
    brands) lead, three for every chain listed "worldwide" (the index's default location, often a chain
    seen in a few countries only) and every composed local business; catalogue order within each."""
    everywhere = len(COUNTRIES)
    named = [
        e for e in rows if e.kind != "local" and not (e.kind == "shop" and len(e.countries) == everywhere)
    ]
    worldwide = [e for e in rows if e.kind == "shop" and len(e.countries) == everywhere]
    local = [e for e in rows if e.kind == "local"]
    return tuple(_interleave((named, 3), (worldwide, 1), (local, 1)))


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
    """Deterministic 80/10/10 split by entity (a hash of label and name, so adding entities never moves
    old ones); entities named by behavioural cases always train (:func:`pinned_to_train`)."""
    if pinned_to_train(label, name):
        return "train"
    bucket = int(hashlib.sha256(f"{label}|{name}".encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 80 else "val" if bucket < 90 else "test"


def statement_name(name: str) -> str:
    """A brand name as a statement prints it: upper case, ASCII (umlauts as AE/OE/UE), single spaces;
    empty when nothing Latin is left (an Arabic- or Chinese-script name)."""
    upper = name.upper().translate(GERMAN_FOLDS)
    ascii_only = unicodedata.normalize("NFKD", upper).encode("ascii", "ignore").decode()
    cleaned = " ".join(ascii_only.replace("’", "'").split())
    return cleaned if sum(ch.isalpha() for ch in cleaned) >= 2 else ""


_Row = tuple[str, str, str, frozenset[str], tuple[str, ...]]  # name, label, kind, countries, aliases


def _composed(
    label: str,
    words: Sequence[str],
    rng: random.Random,
    local_words: Mapping[str, Sequence[str]] | None = None,
    decoys: Sequence[str] = (),
) -> list[_Row]:
    """Plausible small local businesses of each country: an owner (a local first name), a place (a local
    city), or an adjective, plus a category word; round-robin over countries, so every pool gets its share.

    ``local_words`` (country -> words in its languages, e.g. "PANADERIA") compose half of a country's names
    where it has them, also word first ("PANADERIA SAN JOSE", "FARMACIA GARCIA"). ``decoys`` are brand
    names of *other* labels that also name local businesses ("LUCKY TAXI", "RED LION PUB"): the category
    word, not the brand's gazetteer hint, decides those."""
    comp = v.composition()
    per_country: list[list[_Row]] = []
    for country in COUNTRIES:
        own = tuple((local_words or {}).get(country, ()))
        if not words and not own:
            continue
        local = v.country_words(country)
        owners = (*comp.owner_names, *local.first_names)
        places = (*comp.place_words, *(city.split()[0] for city in local.cities))
        names: dict[str, str] = {}  # name -> its category word
        target = min(_COMPOSED_PER_COUNTRY, 4 * len({*words, *own}))
        trade_first = country in _TRADE_FIRST
        while len(names) < target:
            style = rng.random()
            word = rng.choice(own) if own and (not words or rng.random() < 0.6) else rng.choice(words)
            if decoys and rng.random() < _DECOY_SHARE:
                name = f"{rng.choice(decoys)} {word}"
            elif trade_first and style < 0.7:
                tail = rng.choice((*local.last_names, *local.first_names, *places))
                if rng.random() < 0.25:
                    tail = f"{rng.choice(local.first_names)} {rng.choice(local.last_names)}"
                name = f"{word} {tail}"
            elif style < 0.3:
                owner = rng.choice(owners)
                name = f"{owner if owner.endswith('S') else owner + 'S'} {word}"
            elif style < 0.5:
                name = f"{rng.choice(comp.adjectives)} {word}"
            elif style < 0.65:
                name = f"{rng.choice(places)} {word}"
            elif style < 0.85:
                name = f"{word} {rng.choice((*local.last_names, *places, *owners))}"
            else:
                name = f"{rng.choice(owners)} {rng.choice(comp.adjectives)} {word}"
            names.setdefault(name, word)
        # The sampler favours the head of each pool (Zipf): names cycle through the category words, so the
        # first N local businesses of a country teach N different words (a shuffle left most words unseen).
        by_word: dict[str, list[str]] = {}
        for name in sorted(names):
            by_word.setdefault(names[name], []).append(name)
        groups = list(by_word.values())
        rng.shuffle(groups)
        for group in groups:
            rng.shuffle(group)
        ordered = _interleave(*((group, 1) for group in groups))
        per_country.append([(name, label, "local", frozenset({country}), ()) for name in ordered])
    return _interleave(*((rows, 1) for rows in per_country))


def _people(rng: random.Random) -> list[tuple[str, str]]:
    people: list[tuple[str, str]] = []
    for country in COUNTRIES:
        words = v.country_words(country)
        seen: set[str] = set()
        while len(seen) < _PEOPLE_PER_COUNTRY:
            seen.add(f"{rng.choice(words.first_names)} {rng.choice(words.last_names)}")
        people.extend((name, country) for name in sorted(seen))
    return people


def _hand_rows(with_shops: bool) -> list[_Row]:
    rows: list[_Row] = []
    for e in v.shared_entities():
        rows.append((e.name, e.label, e.kind, e.countries, ()))
    for country in COUNTRIES:
        for label, kinds in v.country_words(country).entities.items():
            for kind, names in kinds.items():
                rows.extend((name, label, kind, frozenset({country}), ()) for name in names)
    rows = [row for row in rows if with_shops or row[2] != "shop"]
    # A country's own entities lead its pools (the Zipf head): local brands dominate local statements.
    rows.sort(key=lambda row: len(row[3]))
    # Lenders pay loans out and brokers pay withdrawals back: the same names appear as TRANSFER_IN.
    rows += [(n, "TRANSFER_IN", "broker", c, a) for n, label, kind, c, a in rows if kind == "broker"]
    return rows


#: Hand-kept kinds whose name alone says the label, whatever the narration ("NETFLIX", "HMRC", "OXFAM"),
#: so the gazetteer may hint it. Not employers, lenders, brokers or wallets: their label follows the
#: narration (a salary from a supermarket, a loan paid out or repaid, a wallet top-up or a payment through
#: it), and not fees, interest, benefits or landlords, whose names are generic words.
GAZETTEER_KINDS: frozenset[str] = frozenset(("brand", "telco", "government", "charity"))


def gazetteer_names() -> list[tuple[str, str]]:
    """(name, label) of the hand-kept entities of :data:`GAZETTEER_KINDS`, for the gazetteer: businesses
    no shop index lists, named in the countries' word lists (``training/data/words``)."""
    return [
        (name, label) for name, label, kind, *_ in _hand_rows(with_shops=False) if kind in GAZETTEER_KINDS
    ]


def _index_rows(brands: Iterable[BrandLike]) -> list[_Row]:
    rows: list[_Row] = []
    known = set(COUNTRIES)
    for brand in brands:
        if brand.label not in LABELS:
            continue
        codes = {c.upper() for c in brand.countries}
        countries = frozenset(known) if "*" in codes else frozenset(codes & known)
        name = statement_name(brand.name)
        if not countries or not name:
            continue
        aliases = tuple(
            dict.fromkeys(
                a for a in (statement_name(m) for m in brand.match_names) if a and a != name and len(a) >= 3
            )
        )
        rows.append((name, brand.label, "shop", countries, aliases[:4]))
    # A chain listed both for named countries and worldwide (two tags, or a default location) keeps the
    # named ones: "Walmart" in CA/IN/MX/US, not on every statement of the world.
    named: dict[tuple[str, str], frozenset[str]] = {}
    for name, label, _, countries, _ in rows:
        if len(countries) < len(known):
            named[(label, name)] = named.get((label, name), frozenset()) | countries
    return [(n, label, k, named.get((label, n), c), a) for n, label, k, c, a in rows]


def _compact(name: str) -> str:
    """Letters and digits only: "MCDONALD'S" and "MCDONALDS" are one chain."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())


def _merge(rows: Iterable[_Row]) -> list[_Row]:
    """One row per (label, name): countries and aliases united, the first kind kept, first-seen order."""
    merged: dict[tuple[str, str], _Row] = {}
    for name, label, kind, countries, aliases in rows:
        key = (label, name)
        if key in merged:
            _, _, old_kind, old_countries, old_aliases = merged[key]
            merged[key] = (
                name,
                label,
                old_kind,
                old_countries | countries,
                tuple(dict.fromkeys(old_aliases + aliases)),
            )
        else:
            merged[key] = (name, label, kind, countries, aliases)
    return list(merged.values())


def _interleave(*streams: tuple[Sequence[_T], int]) -> list[_T]:
    """Rows of several streams merged round-robin, ``step`` rows of each stream per round: the Zipf head
    gets hand-kept brands, index chains and local businesses in that proportion."""
    out: list[_T] = []
    cursors = [0] * len(streams)
    while any(cursor < len(rows) for cursor, (rows, _) in zip(cursors, streams, strict=True)):
        for i, (rows, step) in enumerate(streams):
            out.extend(rows[cursors[i] : cursors[i] + step])
            cursors[i] += step
    return out


def build_catalogue(
    brands: Sequence[BrandLike] | None = None,
    *,
    category_words: Mapping[str, Sequence[str]] | None = None,
    local_words: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    decoys: Mapping[str, str] | None = None,
) -> Catalogue:
    """The catalogue over the hand-kept data files plus ``brands`` (the brand index), if given.

    ``brands=None`` keeps the hand-kept ``shop`` stand-ins (for tests and tiny builds); with an index they
    are dropped and the index supplies every shop, restaurant and chain per country. ``category_words``
    (e.g. ``BrandIndex.mcc_category_words()``) adds words to those composing local businesses;
    ``local_words`` (``country -> label -> words`` in the country's languages, :mod:`training.data.presets`)
    adds each country's own; ``decoys`` (gazetteer ``key -> label``) names some of them after other labels'
    brands.
    Deterministic: the same inputs give the same entities, order and splits.
    """
    rng = random.Random(_CATALOGUE_SEED)
    hand = _merge(_hand_rows(with_shops=brands is None))
    hand_keys = {(label, name) for name, label, *_ in hand}
    # The index carries no popularity; the hand-kept shop stand-ins name the chains everyone shops at.
    known = {_compact(name) for name, _, kind, *_ in _hand_rows(with_shops=True) if kind == "shop"}
    index = [row for row in _merge(_index_rows(brands or ())) if (row[1], row[0]) not in hand_keys]
    words = {label: list(ws) for label, ws in v.composition().category_words.items()}
    for label, extra in (category_words or {}).items():
        if label in LABELS:
            words[label] = list(dict.fromkeys([*words.get(label, []), *(w.upper() for w in extra)]))
    people = _people(rng)
    entities: list[Entity] = []
    for label in LABELS:
        hand_rows = [row for row in hand if row[1] == label]
        # Known chains lead, then chains of a few named countries, then "worldwide" ones (the index's
        # default location; many are small); a fixed shuffle orders the rest.
        index_rows = [row for row in index if row[1] == label]
        rng.shuffle(index_rows)
        index_rows.sort(key=lambda row: (_compact(row[0]) not in known, len(row[3]) == len(COUNTRIES)))
        own = {
            country: [w for w in (statement_name(word) for word in per_label.get(label, ())) if w]
            for country, per_label in (local_words or {}).items()
        }
        others = sorted(key.upper() for key, key_label in (decoys or {}).items() if key_label != label)
        local_rows = _composed(label, words.get(label, ()), rng, own, others)
        rows = _merge(_interleave((hand_rows, 2), (index_rows, 2), (local_rows, 1)))
        if label in ("TRANSFER_IN", "TRANSFER_OUT"):
            # The same person may send and receive money: the split key is the label plus the name.
            rows += [(n, label, "person", frozenset({c}), ()) for n, c in people]
        for name, _, kind, countries, aliases in rows:
            entities.append(Entity(name, label, kind, countries, _split_of(label, name), aliases))
    return Catalogue(tuple(entities))


@cache
def default_catalogue() -> Catalogue:
    """The hand-kept catalogue (no brand index), built once."""
    return build_catalogue(None)


def catalogue() -> tuple[Entity, ...]:
    """Entities of :func:`default_catalogue`, in order."""
    return default_catalogue().entities


def entities_for(label: str, country: str, split: str) -> tuple[Entity, ...]:
    """:meth:`Catalogue.entities_for` on the default catalogue."""
    return default_catalogue().entities_for(label, country, split)


def held_out_words(catalogue: Catalogue | None = None) -> frozenset[str]:
    """Lower-case words that occur in val/test entity names and in no training entity name ("subway",
    "youtube", ...). Anything the student trains on, labelled or not, must avoid them: an unlabelled
    "SUBWAY" scored by the teacher would teach the student a held-out brand."""
    return (catalogue or default_catalogue()).held_out_words()
