"""The write queue over a real SQLite store: commits before acknowledging, batches, bounds, recovers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from service.errors import OverloadedError, StoreUnavailableError
from service.feedback.store import FeedbackRow, SqliteStore
from service.feedback.writer import FeedbackWriter
from tests.feedback.test_store import row


class CountingStore(SqliteStore):
    """A real SQLite store that records each transaction's size and can hold a commit at a gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.transactions: list[int] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def insert(self, rows: Sequence[FeedbackRow]) -> list[FeedbackRow]:
        self.entered.set()
        self.gate.wait(timeout=30)
        self.transactions.append(len(rows))
        return super().insert(rows)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_acknowledged_rows_are_committed(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    writer = FeedbackWriter(store)
    await writer.start()
    new = await writer.write([row("a"), row("b")])
    # Read through a second connection: only committed rows are visible there.
    assert [r.item_id for r in SqliteStore(store.path).rows()] == ["a", "b"]
    assert [r.item_id for r in new] == ["a", "b"]
    assert await writer.write([row("a")]) == []  # resent: stored, not new
    await writer.stop()


async def test_requests_queued_during_a_commit_share_the_next(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    writer = FeedbackWriter(store)
    await writer.start()
    store.gate.clear()
    first = asyncio.ensure_future(writer.write([row("first")]))
    await asyncio.to_thread(store.entered.wait, 10)
    rest = [asyncio.ensure_future(writer.write([row(f"r{i}")])) for i in range(5)]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert store.transactions == [1, 5]
    await writer.stop()


async def test_a_full_queue_refuses_at_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    writer = FeedbackWriter(store, max_queue_rows=3)
    await writer.start()
    store.gate.clear()
    held = asyncio.ensure_future(writer.write([row("held")]))
    await asyncio.to_thread(store.entered.wait, 10)  # taken off the queue, inside the commit
    queued = asyncio.ensure_future(writer.write([row("q1"), row("q2")]))
    await asyncio.sleep(0)
    with pytest.raises(OverloadedError, match="limit is 3"):
        await writer.write([row("q3"), row("q4")])
    store.gate.set()
    await asyncio.gather(held, queued)
    await writer.stop()


async def test_store_down_refuses_then_recovers_without_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    writer = FeedbackWriter(SqliteStore(tmp_path / "later" / "f.db"), clock=clock)
    await writer.start()
    with pytest.raises(StoreUnavailableError) as failed:
        await writer.write([row("a")])
    assert failed.value.retry_after_s >= 1
    (tmp_path / "later").mkdir()
    # Within the retry window, refused without touching the store.
    with pytest.raises(StoreUnavailableError):
        writer.check_available()
    clock.now += failed.value.retry_after_s
    assert [r.item_id for r in await writer.write([row("a")])] == ["a"]
    await writer.stop()


async def test_stop_commits_what_is_queued(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    writer = FeedbackWriter(store)
    await writer.start()
    pending = [asyncio.ensure_future(writer.write([row(f"s{i}")])) for i in range(3)]
    await asyncio.sleep(0)
    await writer.stop()
    assert len(await asyncio.gather(*pending)) == 3
    assert len(list(SqliteStore(store.path).rows())) == 3
    with pytest.raises(StoreUnavailableError, match="not running"):
        await writer.write([row("late")])


async def test_a_key_in_two_requests_of_one_commit_is_new_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "f.db")
    writer = FeedbackWriter(store)
    await writer.start()
    store.gate.clear()
    first = asyncio.ensure_future(writer.write([row("held")]))
    await asyncio.to_thread(store.entered.wait, 10)
    a = asyncio.ensure_future(writer.write([row("same"), row("a")]))
    b = asyncio.ensure_future(writer.write([row("same", label="TRAVEL"), row("b")]))
    await asyncio.sleep(0)
    store.gate.set()
    await first
    assert [r.item_id for r in await a] == ["same", "a"]
    assert [r.item_id for r in await b] == ["b"]
    assert store.transactions == [1, 4]
    await writer.stop()
