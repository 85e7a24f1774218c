"""The feedback store: one table of corrections, keyed by (client id, item id), in SQLite or PostgreSQL.

``open_store(dsn)`` picks the implementation from the DSN's scheme. Both apply the same versioned
migrations (``service/feedback/migrations.py``) on connect, insert idempotently (the first row for a key
wins; a resent correction is a no-op) and return which rows were new, so that online counters count
each correction once. A store that cannot be reached raises ``StoreUnavailableError``; the caller may
call again later: each call reconnects if the last connection was lost.

Every method is called from one thread at a time (the writer's), which is what SQLite's "one writer"
needs; PostgreSQL connections are opened per store, never shared between threads.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from service.errors import ConfigurationError, StoreUnavailableError
from service.feedback.migrations import Dialect, migrate

__all__ = [
    "FeedbackRow",
    "FeedbackStore",
    "PostgresStore",
    "SqliteStore",
    "first_rows",
    "open_store",
    "parse_timestamp",
]

_COLUMNS = (
    "client_id", "item_id", "text", "direction", "label", "predicted", "confidence",
    "model_name", "model_version", "created_at",
)  # fmt: skip
#: Seconds a client should wait before retrying when the store is unreachable.
RETRY_AFTER_S = 2


@dataclass(frozen=True)
class FeedbackRow:
    """One correction: what the client says the label is, beside what the service answered."""

    client_id: str
    item_id: str
    text: str
    direction: str | None
    label: str
    predicted: str
    confidence: float
    model_name: str
    model_version: str
    created_at: datetime  # timezone-aware UTC

    def key(self) -> tuple[str, str]:
        return (self.client_id, self.item_id)


class FeedbackStore(Protocol):
    """What the writer and the export need from a store."""

    dsn_display: str

    def insert(self, rows: Sequence[FeedbackRow]) -> list[FeedbackRow]:
        """Insert ``rows`` in one transaction, committed before this returns. Returns the objects of
        ``rows`` that were stored (``first_rows``): a key stored before, or earlier in ``rows``, keeps
        its first row. Raises ``StoreUnavailableError``."""
        ...

    def rows(self, since: datetime | None = None) -> Iterator[FeedbackRow]:
        """Stored rows created at or after ``since``, oldest first (ties by key)."""
        ...

    def close(self) -> None: ...


def open_store(dsn: str) -> FeedbackStore:
    """The store for ``dsn``: ``sqlite:///path/to/file.db`` or ``postgresql://user@host:port/db``.

    Does not connect: the first call does, so a store that is down at start-up does not stop the server.
    Raises ``ConfigurationError`` for a DSN of another kind.
    """
    scheme = urlsplit(dsn).scheme
    if scheme == "sqlite":
        path = dsn[len("sqlite://") :]
        if not path.startswith("/") or path == "/":
            raise ConfigurationError(
                f"TXC_FEEDBACK_DSN: {dsn!r} needs an absolute path: sqlite:///path/file.db"
            )
        return SqliteStore(Path(path))
    if scheme in ("postgresql", "postgres"):
        return PostgresStore(dsn)
    raise ConfigurationError(
        f"TXC_FEEDBACK_DSN: unsupported scheme {scheme!r}; use sqlite:///path or postgresql://..."
    )


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _iso(moment: datetime) -> str:
    # Fixed width with microseconds, so that text order is time order (SQLite compares text).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text[:200] if text else type(error).__name__


class SqliteStore:
    """An embedded file in WAL mode with ``synchronous=FULL``: a commit that returned survives a crash of
    the process and of the machine. One process writes (one server, or the export reading)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.dsn_display = f"sqlite://{path}"
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        try:
            connection = sqlite3.connect(
                self.path, timeout=5.0, isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            migrate(_SqliteCursor(connection), Dialect.SQLITE)
        except sqlite3.Error as error:
            raise self._unavailable(error) from error
        self._connection = connection
        return connection

    def _unavailable(self, error: BaseException) -> StoreUnavailableError:
        self.close()
        return StoreUnavailableError(
            f"feedback store {self.dsn_display} is unavailable ({_one_line(error)})", RETRY_AFTER_S
        )

    def insert(self, rows: Sequence[FeedbackRow]) -> list[FeedbackRow]:
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            new: set[tuple[str, str]] = set()
            for chunk in _chunks(rows):
                params = [value for row in chunk for value in _values(row, _iso(row.created_at))]
                new.update(connection.execute(_insert_statement("?", len(chunk)), params).fetchall())
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            raise self._unavailable(error) from error
        return first_rows(rows, new)

    def rows(self, since: datetime | None = None) -> Iterator[FeedbackRow]:
        connection = self._connect()
        query = f"SELECT {', '.join(_COLUMNS)} FROM feedback"
        params: tuple[str, ...] = ()
        if since is not None:
            query += " WHERE created_at >= ?"
            params = (_iso(since),)
        query += " ORDER BY created_at, client_id, item_id"
        try:
            for record in connection.execute(query, params):
                yield _row(record, parse_timestamp(record[-1]))
        except sqlite3.Error as error:
            raise self._unavailable(error) from error

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None


class PostgresStore:
    """A PostgreSQL database through psycopg 3 (the ``feedback`` extra). Replicas share it; the primary
    key makes concurrent inserts of one correction safe."""

    def __init__(self, dsn: str, connect_timeout_s: int = 3) -> None:
        self.dsn = dsn
        parts = urlsplit(dsn)
        # Never show a password: host, port and database are enough to find the store.
        self.dsn_display = (
            f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
        )
        self._connect_timeout_s = connect_timeout_s
        self._connection: Any = None
        self._psycopg()  # a missing driver is a start-up error, not a 500 on the first correction

    def _psycopg(self) -> Any:
        try:
            import psycopg
        except ImportError:
            raise ConfigurationError(
                "TXC_FEEDBACK_DSN is postgresql:// but psycopg is not installed: "
                "pip install 'txclassify[feedback]'"
            ) from None
        return psycopg

    def _connect(self) -> Any:
        if self._connection is not None and not self._connection.closed:
            return self._connection
        psycopg = self._psycopg()
        try:
            connection = psycopg.connect(
                self.dsn, connect_timeout=self._connect_timeout_s, autocommit=False,
                options="-c statement_timeout=10000",
            )  # fmt: skip
            with connection.cursor() as cursor:
                migrate(cursor, Dialect.POSTGRES)
            connection.commit()
        except psycopg.Error as error:
            raise self._unavailable(error) from error
        self._connection = connection
        return connection

    def _unavailable(self, error: BaseException) -> StoreUnavailableError:
        self.close()
        return StoreUnavailableError(
            f"feedback store {self.dsn_display} is unavailable ({_one_line(error)})", RETRY_AFTER_S
        )

    def insert(self, rows: Sequence[FeedbackRow]) -> list[FeedbackRow]:
        psycopg = self._psycopg()
        connection = self._connect()
        new: set[tuple[str, str]] = set()
        try:
            with connection.cursor() as cursor:
                for chunk in _chunks(rows):
                    params = [value for row in chunk for value in _values(row, row.created_at)]
                    cursor.execute(_insert_statement("%s", len(chunk)), params)
                    new.update((client, item) for client, item in cursor.fetchall())
            connection.commit()
        except psycopg.Error as error:
            raise self._unavailable(error) from error
        return first_rows(rows, new)

    def rows(self, since: datetime | None = None) -> Iterator[FeedbackRow]:
        psycopg = self._psycopg()
        connection = self._connect()
        query = f"SELECT {', '.join(_COLUMNS)} FROM feedback"
        params: tuple[datetime, ...] = ()
        if since is not None:
            query += " WHERE created_at >= %s"
            params = (since,)
        query += " ORDER BY created_at, client_id, item_id"
        try:
            with connection.cursor() as cursor:
                cursor.execute(query, params)
                for record in cursor:
                    yield _row(record, record[-1].astimezone(UTC))
            connection.commit()
        except psycopg.Error as error:
            raise self._unavailable(error) from error

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


#: Rows per INSERT statement: one round trip for many rows, well under both engines' parameter limits
#: (SQLite 32,766, PostgreSQL 65,535 at 10 per row). Measured: one statement per row cost 3.6 ms a row
#: against a local PostgreSQL on a busy machine.
_ROWS_PER_STATEMENT = 500


def first_rows(rows: Sequence[FeedbackRow], keys: set[tuple[str, str]]) -> list[FeedbackRow]:
    """The first row of ``rows`` for each key in ``keys``, in order: what an insert that skips stored
    keys actually stored when one batch holds a key twice."""
    pending = set(keys)
    new: list[FeedbackRow] = []
    for row in rows:
        if row.key() in pending:
            pending.discard(row.key())
            new.append(row)
    return new


def _chunks(rows: Sequence[FeedbackRow]) -> Iterator[Sequence[FeedbackRow]]:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        yield rows[start : start + _ROWS_PER_STATEMENT]


def _insert_statement(mark: str, count: int) -> str:
    """One multi-row INSERT that skips keys already stored and returns the keys it inserted."""
    one = f"({', '.join([mark] * len(_COLUMNS))})"
    return (
        f"INSERT INTO feedback ({', '.join(_COLUMNS)}) VALUES {', '.join([one] * count)} "
        "ON CONFLICT (client_id, item_id) DO NOTHING RETURNING client_id, item_id"
    )


def _values(row: FeedbackRow, created_at: object) -> tuple[object, ...]:
    return (
        row.client_id, row.item_id, row.text, row.direction, row.label, row.predicted,
        row.confidence, row.model_name, row.model_version, created_at,
    )  # fmt: skip


def _row(record: Sequence[Any], created_at: datetime) -> FeedbackRow:
    return FeedbackRow(
        client_id=record[0], item_id=record[1], text=record[2], direction=record[3], label=record[4],
        predicted=record[5], confidence=float(record[6]), model_name=record[7], model_version=record[8],
        created_at=created_at,
    )  # fmt: skip


class _SqliteCursor:
    """The one-method cursor ``migrate`` needs, over a sqlite3 connection in autocommit mode."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, statement: str, params: Sequence[object] = ()) -> Any:
        return self._connection.execute(statement, params)
