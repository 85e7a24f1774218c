"""The feedback write queue: bounded, batched, committed on one thread off the event loop.

``await writer.write(rows)`` returns the new rows only after the transaction holding them committed,
so an acknowledged correction is never lost. Concurrent callers share commits: the writer takes every
request queued while the previous commit ran (up to ``max_batch_rows``) into one transaction, which is
what lets a burst of small requests cost a few fsyncs instead of one each. The queue is bounded in rows:
a request that would pass ``max_queue_rows`` is refused whole (``OverloadedError``), never left waiting.

While the store is down every waiter of the failed batch gets ``StoreUnavailableError`` and new
requests are refused at once for ``retry_after_s``; after that the next request tries again (the store
reconnects), so the service recovers without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from service.errors import OverloadedError, StoreUnavailableError
from service.feedback.store import FeedbackRow, FeedbackStore

__all__ = ["FeedbackWriter"]


@dataclass
class _Pending:
    rows: Sequence[FeedbackRow]
    done: asyncio.Future[list[FeedbackRow]] = field(repr=False)


class FeedbackWriter:
    """Owns the store: every store call goes through its one thread. Start and stop inside one loop."""

    def __init__(
        self,
        store: FeedbackStore,
        *,
        max_queue_rows: int = 20_000,
        max_batch_rows: int = 5_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_queue_rows = max_queue_rows
        self.max_batch_rows = max_batch_rows
        self._clock = clock
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._down_until = 0.0
        self._last_error: StoreUnavailableError | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closing = False

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    @property
    def available(self) -> bool:
        """False while a recent failure says the store is down (requests are refused until it expires)."""
        return self._clock() >= self._down_until

    async def start(self) -> None:
        if self._task is not None:
            return
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="txc-feedback")
        self._task = asyncio.create_task(self._run(), name="txc-feedback-writer")

    async def stop(self) -> None:
        """Commit what is queued (the store permitting), then stop the thread and close the store."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task
        if self._executor is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, self.store.close)
            self._executor.shutdown(wait=True)

    async def write(self, rows: Sequence[FeedbackRow]) -> list[FeedbackRow]:
        """Queue ``rows`` and wait for their commit; returns those that were new.

        Raises ``StoreUnavailableError`` (store down, now or within ``retry_after_s`` of the last
        failure) or ``OverloadedError`` (queue full). Cancelling the wait does not withdraw the rows.
        """
        self.check_available()
        assert self._wake is not None
        if self._queued_rows + len(rows) > self.max_queue_rows:
            raise OverloadedError(
                f"feedback queue holds {self._queued_rows} rows, the limit is {self.max_queue_rows}; "
                "retry shortly",
                retry_after_s=1,
            )
        pending = _Pending(rows, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        self._queued_rows += len(rows)
        self._wake.set()
        # Shielded: a client that goes away must not cancel a commit other requests share.
        return await asyncio.shield(pending.done)

    def check_available(self) -> None:
        """Raise ``StoreUnavailableError`` if a write now would be refused as the store being down."""
        if self._task is None or self._closing:
            raise StoreUnavailableError("the feedback writer is not running", 1)
        if not self.available and self._last_error is not None:
            raise StoreUnavailableError(self._last_error.message, self._retry_after())

    def _retry_after(self) -> int:
        return max(1, int(self._down_until - self._clock() + 0.999))

    async def _run(self) -> None:
        assert self._wake is not None
        assert self._executor is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take()
            rows = [row for pending in batch for row in pending.rows]
            try:
                new = await loop.run_in_executor(self._executor, self.store.insert, rows)
            except StoreUnavailableError as error:
                self._last_error = error
                self._down_until = self._clock() + error.retry_after_s
                for pending in batch:
                    _settle(pending.done, error=error)
                # Refuse what was queued behind the failure too: it would meet the same store.
                while self._queue:
                    _settle(self._take_one().done, error=error)
                continue
            except BaseException as error:  # a bug in the store: fail the waiters, keep the writer alive
                for pending in batch:
                    _settle(pending.done, error=error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            self._down_until = 0.0
            # ``new`` holds the first row of each new key, so a key two requests of the batch share is
            # new for the first of them only.
            stored = {id(row) for row in new}
            for pending in batch:
                _settle(pending.done, [row for row in pending.rows if id(row) in stored])

    def _take(self) -> list[_Pending]:
        batch = [self._take_one()]
        taken = len(batch[0].rows)
        while self._queue and taken + len(self._queue[0].rows) <= self.max_batch_rows:
            batch.append(self._take_one())
            taken += len(batch[-1].rows)
        return batch

    def _take_one(self) -> _Pending:
        pending = self._queue.popleft()
        self._queued_rows -= len(pending.rows)
        return pending


def _settle(
    future: asyncio.Future[list[FeedbackRow]],
    result: list[FeedbackRow] | None = None,
    *,
    error: BaseException | None = None,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or [])
