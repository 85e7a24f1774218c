"""Typed loaders for the generator's word lists (data files under ``training/data/words/``).

* ``words/countries/<CC>.yaml``: one country's cities, banks, person names, phone pattern, processor
  prefixes and the counterparties no public index lists (``label -> kind -> names``);
* ``words/entities.yaml``: hand-kept entities of several countries (``label -> kind -> codes -> names``);
* ``words/composition.yaml``: words that compose plausible local businesses;
* ``words/fields.yaml``: filler words of the template fields (memos, stocks, months, ...).

Every loader reads once (cached) and checks what it reads: an unknown label, an empty list or a missing
key raises :class:`ValueError` naming the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from training.labels import LABELS

__all__ = [
    "COUNTRIES",
    "Composition",
    "CountryWords",
    "FieldWords",
    "SharedEntity",
    "composition",
    "country_words",
    "field_words",
    "shared_entities",
]

WORDS_DIR = Path(__file__).with_name("words")
#: The 20 countries the generator writes statements for (ISO 3166-1 alpha-2).
COUNTRIES: tuple[str, ...] = (
    "US", "CA", "GB", "IE", "AU", "NZ", "ZA", "NG", "KE", "GH",
    "IN", "SG", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "AE",
)  # fmt: skip

#: label -> kind -> names.
EntityTable = Mapping[str, Mapping[str, tuple[str, ...]]]


@dataclass(frozen=True)
class CountryWords:
    """What one country's statements print: places, banks, people, phone numbers, processors."""

    code: str
    name: str
    cities: tuple[str, ...]
    banks: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    #: ``#`` stands for one digit: "07## ### ###".
    phone: str
    processors: tuple[str, ...]
    entities: EntityTable
    #: Payment references people type in the local language ("MIETE", "LOYER"); may be empty.
    memos: tuple[str, ...] = ()


@dataclass(frozen=True)
class SharedEntity:
    name: str
    label: str
    kind: str
    countries: frozenset[str]


@dataclass(frozen=True)
class Composition:
    category_words: Mapping[str, tuple[str, ...]]
    owner_names: tuple[str, ...]
    adjectives: tuple[str, ...]
    place_words: tuple[str, ...]


@dataclass(frozen=True)
class FieldWords:
    months: tuple[str, ...]
    processors: tuple[str, ...]
    vpa_suffixes: tuple[str, ...]
    memos: tuple[str, ...]
    stocks: tuple[str, ...]
    bill_descriptions: tuple[str, ...]
    own_accounts: tuple[str, ...]


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def _strings(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{path}: {key} must be a non-empty list of non-empty strings")
    return tuple(str(v).strip() for v in value)


def _label(path: Path, label: str) -> str:
    if label not in LABELS:
        raise ValueError(f"{path}: unknown label {label!r}")
    return label


def _entity_table(path: Path, raw: Any) -> EntityTable:
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: entities must map label -> kind -> names")
    return {
        _label(path, label): {
            kind: _strings(path, f"entities.{label}.{kind}", names) for kind, names in kinds.items()
        }
        for label, kinds in raw.items()
    }


@cache
def country_words(code: str) -> CountryWords:
    """The word lists of one country; raises ``ValueError`` for a country outside :data:`COUNTRIES`."""
    if code not in COUNTRIES:
        raise ValueError(f"unknown country {code!r}; expected one of {COUNTRIES}")
    path = WORDS_DIR / "countries" / f"{code}.yaml"
    data = _load(path)
    return CountryWords(
        code=code,
        name=str(data["name"]),
        cities=_strings(path, "cities", data["cities"]),
        banks=_strings(path, "banks", data["banks"]),
        first_names=_strings(path, "first_names", data["first_names"]),
        last_names=_strings(path, "last_names", data["last_names"]),
        phone=str(data["phone"]),
        processors=_strings(path, "processors", data["processors"]),
        entities=_entity_table(path, data.get("entities", {})),
        memos=_strings(path, "memos", data["memos"]) if "memos" in data else (),
    )


@cache
def shared_entities() -> tuple[SharedEntity, ...]:
    """Hand-kept entities of several countries, in file order; ``"*"`` expands to every country."""
    path = WORDS_DIR / "entities.yaml"
    rows: list[SharedEntity] = []
    for label, kinds in _load(path).items():
        for kind, groups in kinds.items():
            for codes, names in groups.items():
                countries = frozenset(COUNTRIES) if codes == "*" else frozenset(str(codes).split(","))
                if not countries <= set(COUNTRIES):
                    raise ValueError(f"{path}: unknown country in {codes!r}")
                for name in _strings(path, f"{label}.{kind}.{codes}", names):
                    rows.append(SharedEntity(name, _label(path, label), kind, countries))
    return tuple(rows)


@cache
def composition() -> Composition:
    path = WORDS_DIR / "composition.yaml"
    data = _load(path)
    return Composition(
        category_words={
            _label(path, label): _strings(path, f"category_words.{label}", words)
            for label, words in data["category_words"].items()
        },
        owner_names=_strings(path, "owner_names", data["owner_names"]),
        adjectives=_strings(path, "adjectives", data["adjectives"]),
        place_words=_strings(path, "place_words", data["place_words"]),
    )


@cache
def field_words() -> FieldWords:
    path = WORDS_DIR / "fields.yaml"
    data = _load(path)
    return FieldWords(**{key: _strings(path, key, data[key]) for key in FieldWords.__dataclass_fields__})
