"""The hand-written real-narration dev set: one typed loader over ``devset.csv`` (see this folder's README).

The file is written by people from public statement-format documentation, independently of the synthetic
generator in ``training/data/``; it is an honest proxy for real exports, never trained on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from training.labels import LABELS

__all__ = [
    "COLUMNS",
    "COUNTRIES",
    "DEVSET_PATH",
    "DIRECTIONS",
    "KINDS",
    "DevRow",
    "DevsetError",
    "load_devset",
]

DEVSET_PATH = Path(__file__).with_name("devset.csv")

COLUMNS: tuple[str, ...] = ("text", "label", "direction", "country", "kind")
DIRECTIONS: frozenset[str] = frozenset({"debit", "credit"})
#: The 20 markets the set is written for (ISO 3166 alpha-2; GB, not UK), in the order of docs/taxonomy.md.
COUNTRIES: tuple[str, ...] = (
    *("US", "CA", "GB", "IE", "AU", "NZ", "ZA", "NG", "KE", "GH"),
    *("IN", "SG", "DE", "FR", "ES", "IT", "NL", "BR", "MX", "AE"),
)
#: brand: chain or well-known brand; local: independent business; person: P2P naming a person;
#: fee: bank charges or interest charged; transfer: own-account, ATM, cash, account number only, wallet;
#: income: salary, benefits, interest earned, dividends; bill: utilities, loans, insurance, subscriptions.
KINDS: frozenset[str] = frozenset({"brand", "local", "person", "fee", "transfer", "income", "bill"})


class DevsetError(ValueError):
    """The dev-set file breaks its contract; the message names the line."""


@dataclass(frozen=True)
class DevRow:
    text: str
    label: str
    direction: str
    country: str
    kind: str


def _parse(line: int, record: dict[str, str]) -> DevRow:
    row = DevRow(**{column: (record.get(column) or "") for column in COLUMNS})
    if not row.text.strip():
        raise DevsetError(f"line {line}: empty text")
    if row.label not in LABELS:
        raise DevsetError(f"line {line}: unknown label {row.label!r}")
    if row.direction not in DIRECTIONS:
        raise DevsetError(f"line {line}: direction {row.direction!r} is not debit or credit")
    if row.kind not in KINDS:
        raise DevsetError(f"line {line}: unknown kind {row.kind!r}")
    if row.country not in COUNTRIES:
        raise DevsetError(f"line {line}: country {row.country!r} is not one of the dev set's markets")
    return row


def load_devset(path: Path | None = None) -> list[DevRow]:
    """Return every row of the dev set in file order; raises ``DevsetError`` on a malformed row or header."""
    source = DEVSET_PATH if path is None else path
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise DevsetError(f"{source}: header {reader.fieldnames} is not {list(COLUMNS)}")
        # Line numbers count the header as line 1, as an editor shows them.
        return [_parse(index + 2, record) for index, record in enumerate(reader)]
