"""Statement formats per country and channel (data files), and the random fields that fill them.

``formats/_channels.yaml`` names every channel and its direction (``debit``: money out, ``credit``: money
in); ``formats/_common.yaml`` holds the templates a country shares with most others; ``formats/<CC>.yaml``
holds that country's own, which replace the common ones channel by channel. A template is a ``str.format``
pattern: ``{m}`` is the entity (merchant, employer, lender, fee type), ``{p}`` a person; every other field
(references, masked cards and accounts, dates, times, terminal ids, cities, processor prefixes) is drawn on
demand by :class:`Fields`, so a template only pays for the fields it names. :data:`FIELD_NAMES` lists them.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from training.data.vocabulary import COUNTRIES, country_words, field_words

__all__ = ["DIRECTIONS", "FIELD_NAMES", "Fields", "channels", "template_fields", "templates"]

FORMATS_DIR = Path(__file__).with_name("formats")
DIRECTIONS: tuple[str, ...] = ("debit", "credit")
#: Fields a template may name: the fixed ones (``m``, ``p``) and every one :class:`Fields` draws.
FIELD_NAMES: frozenset[str] = frozenset(
    {"m", "p", "ref", "aref", "card4", "card", "acct", "store", "store4", "tid", "till", "paybill", "mmdd",
     "ddmm", "date", "mon", "yyyy", "time", "city", "bank", "phone", "proc", "vpa", "pvpa", "ifsc", "iban",
     "myiban", "sort", "bsb", "me", "cc", "stock", "desc", "memo", "own", "web"}
    | {f"ref{n}" for n in range(2, 21)}
)  # fmt: skip
_FORMATTER = string.Formatter()
_IBAN_COUNTRIES = ("DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE", "PT")
_IFSC_BANKS = ("HDFC", "ICIC", "SBIN", "UTIB", "KKBK", "PUNB", "BARB", "YESB", "IDFB")


@dataclass(frozen=True)
class Channel:
    name: str
    direction: str
    description: str


@cache
def channels() -> Mapping[str, Channel]:
    """Every channel, in file order: name -> :class:`Channel` (its direction and what it is)."""
    path = FORMATS_DIR / "_channels.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, Channel] = {}
    for name, row in rows.items():
        if row["direction"] not in DIRECTIONS:
            raise ValueError(f"{path}: channel {name!r} has direction {row['direction']!r}")
        out[name] = Channel(name, row["direction"], str(row["description"]))
    return out


def template_fields(template: str) -> set[str]:
    """Field names a template uses (``"{m} {ref8}"`` -> ``{"m", "ref8"}``)."""
    return {name for _, name, _, _ in _FORMATTER.parse(template) if name is not None}


def _read_templates(path: Path) -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    known = channels()
    out: dict[str, tuple[str, ...]] = {}
    for channel, rows in data.items():
        if channel not in known:
            raise ValueError(f"{path}: unknown channel {channel!r}")
        if not isinstance(rows, list) or not rows or not all(isinstance(r, str) and r.strip() for r in rows):
            raise ValueError(f"{path}: {channel} must be a non-empty list of templates")
        for row in rows:
            unknown = template_fields(row) - FIELD_NAMES
            if unknown:
                raise ValueError(f"{path}: template {row!r} names unknown fields {sorted(unknown)}")
        out[channel] = tuple(rows)
    return out


@cache
def templates(country: str) -> Mapping[str, tuple[str, ...]]:
    """Channel -> templates of one country: its own file over the common one, for every channel."""
    if country not in COUNTRIES:
        raise ValueError(f"unknown country {country!r}; expected one of {COUNTRIES}")
    merged = dict(_read_templates(FORMATS_DIR / "_common.yaml"))
    merged.update(_read_templates(FORMATS_DIR / f"{country}.yaml"))
    missing = set(channels()) - set(merged)
    if missing:
        raise ValueError(f"{country}: no templates for channels {sorted(missing)}")
    return {name: merged[name] for name in channels()}


class Fields(dict[str, str]):
    """Template fields drawn lazily from one RNG; fixed ones (``m``, ``p``, ...) are passed in."""

    def __init__(self, rng: random.Random, country: str, **fixed: str) -> None:
        super().__init__(fixed)
        self._rng = rng
        self._country = country

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _digits(self, n: int) -> str:
        return "".join(self._rng.choice(string.digits) for _ in range(n))

    def _alnum(self, n: int) -> str:
        return "".join(self._rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))

    def _masked(self) -> str:
        last4 = self["card4"]
        return self._rng.choice(
            (f"XXXX{last4}", f"****{last4}", f"XXXXXXXXXXXX{last4}", f"*{last4}", f"x{last4}")
        )

    def _date(self, key: str) -> str:
        r, months = self._rng, field_words().months
        day, month, year = r.randint(1, 28), r.randint(1, 12), r.choice((2024, 2025, 2026))
        if key == "mmdd":
            return f"{month:02d}/{day:02d}"
        if key == "ddmm":
            return f"{day:02d}/{month:02d}" if r.random() < 0.7 else f"{day:02d}{month:02d}"
        if key == "mon":
            return months[month - 1]
        if key == "yyyy":
            return str(year)
        return r.choice(
            (f"{day:02d}-{month:02d}-{year}", f"{day:02d}/{month:02d}/{year % 100:02d}",
             f"{day:02d}{months[month - 1]}{year % 100:02d}", f"{year}-{month:02d}-{day:02d}",
             f"{day:02d} {months[month - 1]}", f"{day:02d}.{month:02d}.{year}")
        )  # fmt: skip

    def _draw(self, key: str) -> str:
        r, words = self._rng, country_words(self._country)
        if re.fullmatch(r"ref\d*", key):
            return self._digits(int(key[3:] or r.randint(6, 12)))
        if key in ("mmdd", "ddmm", "date", "mon", "yyyy"):
            return self._date(key)
        if key == "aref":
            return self._alnum(r.randint(6, 12))
        if key in ("card4", "store4"):
            return self._digits(4)
        if key == "card":
            return self._masked()
        if key == "acct":
            return r.choice(("XXXXXX", "******", "XXXX", "...", "")) + self._digits(4)
        if key == "store":
            return r.choice(("#", "#", "STORE ", "NO ", "T", "", "")) + self._digits(r.randint(3, 5))
        if key == "tid":
            return r.choice(("", "TID ", "T")) + self._alnum(8)
        if key == "till":
            return self._digits(r.randint(5, 7))
        if key == "paybill":
            return self._digits(r.choice((5, 6, 6)))
        if key == "time":
            return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        if key == "city":
            return r.choice(words.cities)
        if key == "bank":
            return r.choice(words.banks)
        if key == "phone":
            return "".join(r.choice(string.digits) if ch == "#" else ch for ch in words.phone)
        if key == "proc":
            return r.choice(words.processors) if r.random() < 0.3 else ""
        if key == "vpa":
            return re.sub(r"[^a-z0-9]", "", self["m"].lower())[:12] + r.choice(field_words().vpa_suffixes)
        if key == "pvpa":
            return (
                self["p"].split()[0].lower()
                + self._digits(r.randint(0, 4))
                + r.choice(field_words().vpa_suffixes)
            )
        if key == "ifsc":
            return r.choice(_IFSC_BANKS) + "0" + self._digits(6)
        if key == "iban":
            return r.choice(_IBAN_COUNTRIES) + self._digits(2) + "XXXX" + self._digits(4)
        if key == "myiban":
            return (
                self._country + self._digits(2) + r.choice(("XXXX", " XXXX XXXX ", "...")) + self._digits(4)
            )
        if key == "sort":
            return f"{self._digits(2)}-{self._digits(2)}-{self._digits(2)}"
        if key == "bsb":
            return f"{self._digits(3)}-{self._digits(3)}"
        if key == "me":
            return f"{r.choice(words.first_names)} {r.choice(words.last_names)}"
        if key == "cc":
            return self._country
        if key == "memo":
            return r.choice(words.memos if words.memos and r.random() < 0.7 else field_words().memos)
        if key == "web":
            # A web descriptor: the name without spaces or punctuation ("THAMESWATER"), cut like a domain.
            return re.sub(r"[^A-Z0-9]", "", self["m"].upper())[:20] or "SHOP"
        if key == "stock":
            return r.choice(field_words().stocks)
        if key == "desc":
            return r.choice(field_words().bill_descriptions)
        if key == "own":
            return r.choice(field_words().own_accounts)
        raise KeyError(f"template field {key!r} has no maker; this is a bug")
