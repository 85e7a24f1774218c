"""The corrections file: ``txclassify feedback export`` writes it, ``txclassify-train eval`` reads it.

Columns ``id,text,direction,label,predicted,confidence,model_version,created_at``, one row per stored
correction, oldest first. ``text``, ``label`` and ``direction`` are what ``txclassify-train build
--train-csv`` reads, so the file trains as is; ``predicted`` and ``confidence`` are what the service
answered (``confidence`` written with every digit, so offline numbers reproduce online ones exactly).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from service.errors import ConfigurationError
from service.feedback.store import FeedbackRow, open_store, parse_timestamp
from service.settings import Settings

__all__ = ["EXPORT_COLUMNS", "ExportedRow", "add_commands", "export_rows", "read_export"]

EXPORT_COLUMNS = (
    "id",
    "text",
    "direction",
    "label",
    "predicted",
    "confidence",
    "model_version",
    "created_at",
)


@dataclass(frozen=True)
class ExportedRow:
    id: str
    text: str
    direction: str | None
    label: str
    predicted: str
    confidence: float
    model_version: str
    created_at: datetime


def export_rows(rows: Iterable[FeedbackRow], output: Path) -> int:
    """Write ``rows`` to ``output`` (replaced whole, never left half-written); returns the row count."""
    staging = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    count = 0
    with staging.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for row in rows:
            writer.writerow((
                row.item_id, row.text, row.direction or "", row.label, row.predicted, repr(row.confidence),
                row.model_version, row.created_at.isoformat().replace("+00:00", "Z"),
            ))  # fmt: skip
            count += 1
    staging.replace(output)
    return count


def read_export(path: Path) -> list[ExportedRow]:
    """Read a corrections file; ``ValueError`` naming the file and line if it is not one."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = set(EXPORT_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path}: not a corrections export (missing columns: {', '.join(sorted(missing))})"
            )
        rows: list[ExportedRow] = []
        for line, raw in enumerate(reader, start=2):
            try:
                rows.append(
                    ExportedRow(
                        id=raw["id"],
                        text=raw["text"],
                        direction=raw["direction"] or None,
                        label=raw["label"],
                        predicted=raw["predicted"],
                        confidence=float(raw["confidence"]),
                        model_version=raw["model_version"],
                        created_at=parse_timestamp(raw["created_at"]),
                    )
                )
            except ValueError as error:
                raise ValueError(f"{path}:{line}: {error}") from None
    return rows


def add_commands(commands: Any) -> None:
    """Add ``feedback export`` to the ``txclassify`` command's subparsers."""
    feedback = commands.add_parser("feedback", help="corrections stored by POST /v1/feedback")
    actions = feedback.add_subparsers(required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write stored corrections to a CSV file")
    export.add_argument("--dsn", default=None, help="store DSN (default: TXC_FEEDBACK_DSN)")
    export.add_argument("--output", "-o", type=Path, required=True, metavar="F.csv")
    export.add_argument(
        "--since", type=parse_timestamp, default=None, metavar="ISO",
        help="only corrections stored at or after this time (e.g. 2026-12-01T00:00:00Z)",
    )  # fmt: skip
    export.set_defaults(run=_export)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    dsn = args.dsn or settings.feedback_dsn
    if not dsn:
        raise ConfigurationError("no store: pass --dsn or set TXC_FEEDBACK_DSN")
    store = open_store(dsn)
    try:
        count = export_rows(store.rows(since=args.since), args.output)
    finally:
        store.close()
    print(f"exported {count} corrections from {store.dsn_display} to {args.output}", file=sys.stderr)
    return 0
