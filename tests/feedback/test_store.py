"""Both stores, for real: a SQLite file and a PostgreSQL server (no mocks)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.errors import ConfigurationError, StoreUnavailableError
from service.feedback.migrations import MIGRATIONS, Dialect, applied_versions, migrate
from service.feedback.store import FeedbackRow, SqliteStore, open_store, parse_timestamp

T0 = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


def row(item_id: str, *, client: str = "c1", label: str = "FOOD_AND_DRINK", at: datetime = T0) -> FeedbackRow:
    return FeedbackRow(
        client_id=client, item_id=item_id, text=f"POS TESCO {item_id}", direction="debit", label=label,
        predicted="GENERAL_MERCHANDISE", confidence=0.625, model_name="txc", model_version="1.2.0",
        created_at=at,
    )  # fmt: skip


def test_rows_round_trip_exactly(store_dsn: str) -> None:
    store = open_store(store_dsn)
    rows = [row("a"), row("b", at=T0 + timedelta(seconds=1))]
    assert store.insert(rows) == rows
    assert list(store.rows()) == rows
    store.close()


def test_insert_is_idempotent_per_client_and_id(store_dsn: str) -> None:
    store = open_store(store_dsn)
    first = row("a", label="FOOD_AND_DRINK")
    assert store.insert([first]) == [first]
    resent = row("a", label="TRAVEL", at=T0 + timedelta(hours=1))
    other_client = row("a", client="c2")
    # The first row for a key wins; the same id from another client is another correction.
    assert store.insert([resent, other_client]) == [other_client]
    assert [(r.client_id, r.label) for r in store.rows()] == [
        ("c1", "FOOD_AND_DRINK"),
        ("c2", "FOOD_AND_DRINK"),
    ]
    store.close()


def test_since_filters_by_creation_time(store_dsn: str) -> None:
    store = open_store(store_dsn)
    store.insert([row("old", at=T0), row("new", at=T0 + timedelta(days=1))])
    assert [r.item_id for r in store.rows(since=T0 + timedelta(hours=1))] == ["new"]
    assert [r.item_id for r in store.rows(since=T0)] == ["old", "new"]
    store.close()


def test_data_survives_reopening(store_dsn: str) -> None:
    store = open_store(store_dsn)
    store.insert([row("a")])
    store.close()
    reopened = open_store(store_dsn)
    assert [r.item_id for r in reopened.rows()] == ["a"]
    reopened.close()


def test_migrations_apply_once_in_order(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    assert migrate(connection, Dialect.SQLITE) == [m.version for m in MIGRATIONS]
    assert migrate(connection, Dialect.SQLITE) == []
    assert applied_versions(connection) == [1, 2]
    indexes = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "feedback_created_at" in indexes


def test_postgres_migrations_are_recorded(postgres_dsn: str) -> None:
    import psycopg

    store = open_store(postgres_dsn)
    assert list(store.rows()) == []  # connecting migrates
    store.close()
    with psycopg.connect(postgres_dsn) as connection:
        assert applied_versions(connection.cursor()) == [1, 2]
        kinds = connection.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'feedback' "
            "AND column_name = 'created_at'"
        ).fetchone()
        assert kinds == ("timestamp with time zone",)


def test_sqlite_uses_wal_with_full_sync(sqlite_dsn: str) -> None:
    store = open_store(sqlite_dsn)
    assert isinstance(store, SqliteStore)
    store.insert([row("a")])
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_unreachable_stores_raise_store_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="unavailable"):
        open_store(f"sqlite:///{tmp_path}/missing-dir/feedback.db").insert([row("a")])
    with pytest.raises(StoreUnavailableError, match=r"postgresql://127\.0\.0\.1:9/db"):
        open_store("postgresql://user:secret@127.0.0.1:9/db").insert([row("a")])


def test_store_recovers_when_the_sqlite_directory_appears(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/later/feedback.db")
    with pytest.raises(StoreUnavailableError):
        store.insert([row("a")])
    (tmp_path / "later").mkdir()
    assert store.insert([row("a")]) == [row("a")]


def test_password_never_shows_in_errors() -> None:
    with pytest.raises(StoreUnavailableError) as raised:
        open_store("postgresql://user:hunter2@127.0.0.1:9/db").insert([row("a")])
    assert "hunter2" not in raised.value.message


@pytest.mark.parametrize("dsn", ["mysql://x/y", "sqlite://relative.db", "sqlite:///", "feedback.db"])
def test_unsupported_dsns_are_configuration_errors(dsn: str) -> None:
    with pytest.raises(ConfigurationError, match="TXC_FEEDBACK_DSN"):
        open_store(dsn)


def test_timestamps_parse_to_utc() -> None:
    assert parse_timestamp("2026-12-01T12:00:00Z") == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2026-12-01T14:00:00+02:00") == datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert parse_timestamp("2026-12-01") == datetime(2026, 12, 1, tzinfo=UTC)


def test_large_batches_with_repeats_insert_each_key_once(store_dsn: str) -> None:
    store = open_store(store_dsn)
    store.insert([row("k7"), row("k900")])
    batch = [row(f"k{i}") for i in range(1200)] + [row("k3", label="TRAVEL")]  # spans statements
    new = store.insert(batch)
    assert [r.item_id for r in new] == [f"k{i}" for i in range(1200) if i not in (7, 900)]
    stored = list(store.rows())
    assert len(stored) == 1200
    assert next(r for r in stored if r.item_id == "k3").label == "FOOD_AND_DRINK"  # the first row won
    store.close()


def test_replicas_share_one_postgres_store(postgres_dsn: str) -> None:
    """Two replicas start together (both migrate) and write overlapping corrections at once."""
    import threading

    stores = [open_store(postgres_dsn), open_store(postgres_dsn)]
    results: list[list[FeedbackRow]] = [[], []]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def replica(index: int) -> None:
        try:
            start.wait(timeout=10)
            results[index] = stores[index].insert([row(f"k{i}") for i in range(index * 50, 150 + index * 50)])
        except BaseException as error:  # reported below, with the other replica's outcome
            errors.append(error)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    # Each key is new for exactly one replica; together they stored every key once.
    new_keys = [r.item_id for result in results for r in result]
    assert sorted(new_keys) == sorted(f"k{i}" for i in range(200))
    assert len(list(stores[0].rows())) == 200
    for store in stores:
        store.close()
