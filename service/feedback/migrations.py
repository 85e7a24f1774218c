"""Versioned schema migrations of the feedback store, one list for both dialects.

Each migration has a version (applied in order, each once, recorded in ``schema_migrations``) and its
statements per dialect. Migrations only ever add (tables, columns, indexes), so a server rolled back to
an older release still works against a store a newer one migrated; never edit one that has shipped:
append a new one. ``migrate`` runs them in one transaction under a lock, so replicas that start
together migrate once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["MIGRATIONS", "Cursor", "Dialect", "Migration", "applied_versions", "migrate"]


class Dialect(enum.Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgresql"

    @property
    def placeholder(self) -> str:
        return "?" if self is Dialect.SQLITE else "%s"


class Cursor(Protocol):
    def execute(self, statement: str, params: Sequence[object] = ..., /) -> Any: ...


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        return self.sqlite if dialect is Dialect.SQLITE else self.postgres


_FEEDBACK_COLUMNS = """
    client_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    text TEXT NOT NULL,
    direction TEXT,
    label TEXT NOT NULL,
    predicted TEXT NOT NULL,
    confidence {real} NOT NULL,
    model_name TEXT NOT NULL,
    model_version TEXT NOT NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (client_id, item_id)
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "feedback table keyed by (client_id, item_id)",
        (f"CREATE TABLE feedback ({_FEEDBACK_COLUMNS.format(real='REAL', timestamp='TEXT')})",),
        (f"CREATE TABLE feedback ({_FEEDBACK_COLUMNS.format(real='FLOAT8', timestamp='TIMESTAMPTZ')})",),
    ),
    Migration(
        2,
        "index on created_at for export --since",
        ("CREATE INDEX feedback_created_at ON feedback (created_at)",),
        ("CREATE INDEX feedback_created_at ON feedback (created_at)",),
    ),
)

_CREATE_LEDGER = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
)
#: Any fixed number: the advisory lock that serialises PostgreSQL migrations across replicas.
_POSTGRES_LOCK_ID = 0x7478_6662


def applied_versions(cursor: Cursor) -> list[int]:
    rows = cursor.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    return [int(row[0]) for row in rows]


def migrate(cursor: Cursor, dialect: Dialect, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Apply the migrations not yet recorded, in version order; returns the versions applied now.

    SQLite: ``cursor`` must be in autocommit mode (this opens and commits its own transaction).
    PostgreSQL: runs in the connection's current transaction; the caller commits.
    """
    if dialect is Dialect.SQLITE:
        cursor.execute("BEGIN IMMEDIATE")  # takes the write lock now: one migrator at a time
    else:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_POSTGRES_LOCK_ID,))
    try:
        cursor.execute(_CREATE_LEDGER)
        done = set(applied_versions(cursor))
        applied: list[int] = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            for statement in migration.statements(dialect):
                cursor.execute(statement)
            mark = dialect.placeholder
            cursor.execute(
                f"INSERT INTO schema_migrations (version, description, applied_at) "
                f"VALUES ({mark}, {mark}, CURRENT_TIMESTAMP)",
                (migration.version, migration.description),
            )
            applied.append(migration.version)
    except BaseException:
        if dialect is Dialect.SQLITE:
            cursor.execute("ROLLBACK")
        raise
    if dialect is Dialect.SQLITE:
        cursor.execute("COMMIT")
    return applied
