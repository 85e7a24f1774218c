"""The dynamic batcher: merges the items of all concurrent requests into model batches.

It knows nothing of HTTP, tokenizers or ONNX Runtime: items are opaque payloads with a dedup key and a
token cost, and the model is an async ``runner(payloads) -> results`` (the classifier's runner hands the
work to a worker thread). What it guarantees:

- admission by queued *items*: a request that would overflow ``max_queue_items`` is rejected whole, before
  anything is queued, with a Retry-After estimated from the measured drain rate;
- admission by *work and deadline* (``service/admission.py``): a request whose tokens cannot be scored
  before its deadline, given the work queued ahead and the measured model speed, or that would make a
  queued request miss its own, is rejected whole (429); before each batch, requests that can no longer
  finish in time are withdrawn (504 at once), so model time goes to answers that will be delivered;
- batches cut by ``FairQueue`` (token budget, urgent items first, length buckets, fair share, dedup;
  see scheduling.py);
- latency-aware cuts: while urgent (latency-sensitive) work waits, or arrived within
  ``latency_window_s``, each batch's token budget is what the learned ``BatchCostModel`` predicts to
  run in ``latency_budget_s``; with only bulk work about, batches are full for throughput;
- engine lanes: up to ``lanes`` batches run at once (the runner gives each its own worker thread;
  ONNX Runtime's ``run`` is thread-safe on one session), so on a pod of N cores N one-thread runs keep
  every core busy, and an urgent item waits for the first lane to free, not for the whole engine;
- a batch is cut when a lane is free: at once if a full batch is available, else once the
  oldest item has waited ``max_wait_s``. Cutting at the last moment, not while the previous batch
  runs, lets urgent items that arrived meanwhile take the next batch;
- items of requests that expired, were cancelled or already failed are dropped before inference;
- results count equals items count; a failing batch fails only its own requests;
- the loop is supervised: if it ever dies, every waiter gets an error and ``healthy`` turns false;
- ``drain()`` refuses new work, finishes all admitted work, then stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from service.admission import CostModel, PendingWork, admission_verdict, doomed, retry_after
from service.costmodel import BatchCostModel
from service.errors import (
    DeadlineExceededError,
    InferenceError,
    OverloadedError,
    ServiceError,
    UnavailableError,
)
from service.scheduling import (
    DEFAULT_MAX_BATCH_SIZE,
    DEFAULT_MAX_BATCH_TOKENS,
    Batch,
    FairQueue,
    QueuedItem,
    QueuedRequest,
)

__all__ = ["BatchObserver", "Batcher", "BatcherConfig", "Outcome", "TimedResults", "WorkItem"]

P = TypeVar("P")
R = TypeVar("R")
logger = logging.getLogger("txclassify.batching")


@dataclass(frozen=True)
class WorkItem(Generic[P]):
    """One unit of work: ``key`` identifies equal work (dedup), ``cost`` is its length in tokens."""

    key: Hashable
    cost: int
    payload: P


class TimedResults(list[R]):
    """A runner's results with the model time it measured itself (``seconds``). Runners that return
    these feed the cost model their own time; for plain lists the batcher's wall time is used, which
    includes the event loop's delay in resuming the batch loop."""

    def __init__(self, results: Iterable[R], seconds: float) -> None:
        super().__init__(results)
        self.seconds = seconds


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """Results in item order, with the request's timings."""

    results: list[R]
    queue_seconds: float
    inference_seconds: float


@dataclass(frozen=True)
class BatcherConfig:
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_wait_s: float = 0.0
    max_queue_items: int = 20_000
    bucket_width: int = 8
    fair_quantum_tokens: int = 256
    #: Refuse work that cannot finish before its deadline, and shed queued work that no longer can.
    deadline_admission: bool = True
    #: Target seconds per batch while latency-sensitive work is about; 0 turns latency-aware cuts off.
    latency_budget_s: float = 0.010
    #: Requests of at most this many items are latency-sensitive (unless the caller says otherwise).
    interactive_max_items: int = 20
    #: How long after the last latency-sensitive arrival batches stay within the latency budget.
    latency_window_s: float = 1.0
    #: Batches the runner may run at once (engine lanes: one worker thread each). A batch is cut
    #: whenever a lane is free, so urgent items wait for the first lane to finish, not for all.
    lanes: int = 1

    def __post_init__(self) -> None:
        if self.lanes < 1:
            raise ValueError(f"lanes must be at least 1, not {self.lanes}")


class BatchObserver(Protocol):
    """What the batcher reports (implemented by ``service.metrics.ServiceMetrics``)."""

    def batch_started(self, *, items: int, rows: int, padded_tokens: int, waits: Sequence[float]) -> None: ...

    def batch_finished(self, *, seconds: float, ok: bool) -> None: ...

    def items_done(self, outcome: str, count: int) -> None: ...

    def rejected(self, reason: str) -> None: ...


class _NullObserver:
    def batch_started(self, *, items: int, rows: int, padded_tokens: int, waits: Sequence[float]) -> None:
        pass

    def batch_finished(self, *, seconds: float, ok: bool) -> None:
        pass

    def items_done(self, outcome: str, count: int) -> None:
        pass

    def rejected(self, reason: str) -> None:
        pass


@dataclass(eq=False)
class _Waiter(Generic[R]):
    """The request's side of the queue: collects results and timings until every item has one."""

    queued: QueuedRequest
    results: list[R | None]
    future: asyncio.Future[None]
    remaining: int
    queue_seconds: float = 0.0
    inference_seconds: float = 0.0
    batches: set[int] = field(default_factory=set)
    #: This request's share of model time so far (each batch's time split evenly over its items).
    model_seconds: float = 0.0


class Batcher(Generic[P, R]):
    """Dynamic batching over opaque items. Create and ``start()`` it inside the running event loop."""

    def __init__(
        self,
        runner: Callable[[list[P]], Awaitable[Sequence[R]]],
        config: BatcherConfig | None = None,
        *,
        observer: BatchObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._runner = runner
        self.config = config or BatcherConfig()
        self._observer: BatchObserver = observer or _NullObserver()
        self._clock = clock
        self._sleep = sleep
        self._queue = FairQueue(
            max_batch_tokens=self.config.max_batch_tokens,
            max_batch_size=self.config.max_batch_size,
            bucket_width=self.config.bucket_width,
            quantum=self.config.fair_quantum_tokens,
        )
        self._waiters: dict[int, _Waiter[R]] = {}
        self._ids = itertools.count()
        self._batch_ids = itertools.count()
        self._wakeup: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        #: The batch running in each busy lane (lanes are 0 .. lanes-1; the others are free).
        self._running: dict[int, asyncio.Task[None]] = {}
        self._draining = False
        self._failure: BaseException | None = None
        self.inflight_items = 0
        # Items per second of model time, smoothed; drives Retry-After.
        self._drain_rate: float | None = None
        self._cost = CostModel()
        self._last_batch_end = [-math.inf] * self.config.lanes
        #: Seconds per batch and per padded token, from the batches timed so far.
        self.batch_cost = BatchCostModel()
        self._last_urgent_at = -math.inf
        #: Model seconds by how the requests they served ended: ok, expired, cancelled, failed, or
        #: discarded (the request ended while its batch ran). Goodput is ok / all.
        self.model_seconds: dict[str, float] = {}

    # -- state -----------------------------------------------------------------------------------------

    @property
    def queued_items(self) -> int:
        return self._queue.queued_items

    @property
    def healthy(self) -> bool:
        """True while the loop runs (or drains); false before start, after stop, or if it died."""
        return self._loop_task is not None and not self._loop_task.done() and self._failure is None

    @property
    def draining(self) -> bool:
        return self._draining

    def oldest_queued_age(self) -> float:
        oldest = self._queue.oldest_enqueued_at()
        return 0.0 if oldest is None else max(0.0, self._clock() - oldest)

    def retry_after_s(self, extra_items: int = 0) -> int:
        """Seconds until the queue has room for ``extra_items`` more, at the measured drain rate."""
        excess = self._queue.queued_items + extra_items - self.config.max_queue_items
        return retry_after(excess, self._drain_rate)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is not None:
            raise RuntimeError("batcher already started")
        self._wakeup = asyncio.Event()
        self._loop_task = asyncio.create_task(self._run_loop(), name="txclassify-batcher")
        self._loop_task.add_done_callback(self._on_loop_exit)

    async def drain(self) -> None:
        """Refuse new work, finish everything admitted, then stop the loop."""
        self._draining = True
        self._wake()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._loop_task)

    async def stop(self, error: ServiceError | None = None) -> None:
        """Stop now: every unfinished request fails at once with ``error`` (default:
        ``UnavailableError``) and its queued items are withdrawn; then the loop ends once the batches
        already inside the model (one per busy lane) return (their results are discarded).

        Failing the waiters first, rather than cancelling the loop, is what makes this prompt: a cancel
        reaching the running batch is absorbed by its failure handling, and the loop went on to finish
        every queued item (found by tests/hardening/test_shutdown.py)."""
        self._draining = True
        failure = error or UnavailableError("the batcher stopped")
        self._fail_all(failure)
        self._wake()
        if self._loop_task is not None and not self._loop_task.done():
            # A loop that dies meanwhile was already reported by _on_loop_exit.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.shield(self._loop_task)
        self._fail_all(failure)  # anything admitted while the last batch ran

    # -- submitting ------------------------------------------------------------------------------------

    def check_admission(
        self,
        count: int,
        *,
        tokens: int | None = None,
        client_id: str | None = None,
        deadline: float | None = None,
    ) -> None:
        """Raise if ``count`` more items would be refused now: ``UnavailableError`` when not running or
        draining, ``OverloadedError`` (with Retry-After) when the queue would pass ``max_queue_items``
        or, given their ``tokens`` and ``deadline``, the work could not finish in time."""
        if self._failure is not None or self._loop_task is None or self._loop_task.done():
            raise UnavailableError("the batcher is not running")
        if self._draining:
            self._observer.rejected("draining")
            raise UnavailableError("the server is draining; retry on another replica")
        if self._queue.queued_items + count > self.config.max_queue_items:
            self._observer.rejected("queue_full")
            self._observer.items_done("rejected", count)
            raise OverloadedError(
                f"queue full: {self._queue.queued_items} items queued, limit {self.config.max_queue_items}",
                retry_after_s=self.retry_after_s(count),
            )
        if deadline is not None and deadline <= self._clock():
            raise DeadlineExceededError("deadline exceeded before the request was queued")
        if tokens is None or deadline is None or not self.config.deadline_admission:
            return
        flow = ("client", client_id) if client_id else ("request", -1)
        verdict = admission_verdict(
            self._pending_work(),
            PendingWork(-1, flow, tokens, deadline),
            self._cost.effective_tokens_per_s,
            self._clock(),
        )
        if not verdict.admit:
            self._observer.rejected("deadline")
            self._observer.items_done("rejected", count)
            raise OverloadedError(f"overloaded: {verdict.reason}", retry_after_s=verdict.retry_after_s)

    def _pending_work(self) -> list[PendingWork]:
        return [
            PendingWork(
                request_id, waiter.queued.flow_key, waiter.queued.pending_tokens, waiter.queued.deadline
            )
            for request_id, waiter in self._waiters.items()
            if waiter.queued.pending_tokens > 0 and not waiter.future.done()
        ]

    async def submit(
        self,
        items: Sequence[WorkItem[P]],
        *,
        client_id: str | None = None,
        deadline: float | None = None,
        interactive: bool | None = None,
    ) -> Outcome[R]:
        """Queue ``items`` and wait for all their results (in item order).

        ``interactive`` marks the request latency-sensitive (True) or bulk (False); None decides by
        size (at most ``interactive_max_items`` items). Either way the results are the same.

        Raises ``OverloadedError`` (nothing queued), ``UnavailableError`` (not running or draining),
        ``DeadlineExceededError`` (``deadline``, on this batcher's clock, passed), ``InferenceError``.
        Cancelling the caller withdraws the request's queued items.
        """
        if not items:
            self.check_admission(0)
            return Outcome([], 0.0, 0.0)
        self.check_admission(
            len(items), tokens=sum(item.cost for item in items), client_id=client_id, deadline=deadline
        )
        now = self._clock()
        request_id = next(self._ids)
        if interactive is None:
            interactive = len(items) <= self.config.interactive_max_items
        urgent = interactive and self.config.latency_budget_s > 0
        if urgent:
            self._last_urgent_at = now
        queued = QueuedRequest(
            request_id=request_id,
            flow_key=("client", client_id) if client_id else ("request", request_id),
            enqueued_at=now,
            deadline=math.inf if deadline is None else deadline,
            urgent=urgent,
        )
        waiter: _Waiter[R] = _Waiter(
            queued, [None] * len(items), asyncio.get_running_loop().create_future(), len(items)
        )
        self._waiters[request_id] = waiter
        self._queue.add(
            queued,
            [QueuedItem(queued, i, item.key, item.cost, item.payload) for i, item in enumerate(items)],
        )
        self._wake()
        try:
            timeout = None if deadline is None else max(0.0, deadline - now)
            async with asyncio.timeout(timeout):
                await asyncio.shield(waiter.future)
        except TimeoutError:
            self._abandon(waiter, "expired", DeadlineExceededError("deadline exceeded while queued"))
            raise DeadlineExceededError(
                f"deadline exceeded: {len(items) - waiter.remaining} of {len(items)} items done"
            ) from None
        except asyncio.CancelledError:
            self._abandon(waiter, "cancelled", UnavailableError("request cancelled"))
            raise
        finally:
            self._waiters.pop(request_id, None)
        results = waiter.results
        if any(result is None for result in results):
            raise RuntimeError("a request finished with missing results; this is a bug")
        return Outcome([r for r in results if r is not None], waiter.queue_seconds, waiter.inference_seconds)

    # -- the loop ----------------------------------------------------------------------------------------

    async def _run_loop(self) -> None:
        while True:
            batch = await self._next_batch()
            if batch is None:
                break
            batch = self._drop_dead(batch)
            if batch.rows:
                lane = min(set(range(self.config.lanes)) - self._running.keys())
                self._running[lane] = asyncio.create_task(self._run_batch(batch, next(self._batch_ids), lane))
        if self._running:
            await asyncio.gather(*self._running.values())

    async def _next_batch(self) -> Batch | None:
        """Wait until a batch should be cut; None once draining and nothing is left."""
        assert self._wakeup is not None
        while True:
            now = self._clock()
            self._expire(now)
            self._shed(now)
            busy = len(self._running) >= self.config.lanes
            if self._queue.queued_items == 0:
                if self._draining and not self._running:
                    return None
                wait: float | None = None
            elif busy:
                wait = None  # cut when the worker frees up: what arrives meanwhile can still join
            else:
                budget = self.batch_token_budget(now)
                queue = self._queue
                if self._draining or queue.has_full_batch(budget):
                    return queue.cut(budget)
                oldest = queue.oldest_enqueued_at()
                waited = 0.0 if oldest is None else now - oldest
                if waited >= self.config.max_wait_s:
                    return queue.cut(budget)
                wait = self.config.max_wait_s - waited
            self._wakeup.clear()
            await self._wait(wait)

    def batch_token_budget(self, now: float | None = None) -> int | None:
        """The next batch's token budget when latency matters (urgent work queued, or seen within
        ``latency_window_s``): the padded tokens predicted to run in ``latency_budget_s``. None means
        the static ``max_batch_tokens`` (only bulk work about, or the cost model not fitted yet).
        Never below the cost model's break-even size: on a machine so slow that the budget would
        leave batches mostly fixed cost, throughput is kept and the budget is missed."""
        if self.config.latency_budget_s <= 0:
            return None
        now = self._clock() if now is None else now
        if not self._queue.urgent_items and now - self._last_urgent_at >= self.config.latency_window_s:
            return None
        tokens = self.batch_cost.tokens_within(self.config.latency_budget_s)
        return None if tokens is None else max(tokens, self.batch_cost.break_even_tokens)

    async def _wait(self, seconds: float | None) -> None:
        assert self._wakeup is not None
        if seconds is None:
            await self._wakeup.wait()
            return
        woken = asyncio.ensure_future(self._wakeup.wait())
        timer = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({woken, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (woken, timer):
                task.cancel()

    def _drop_dead(self, batch: Batch) -> Batch:
        """Items whose request already ended (expired, cancelled, failed) never reach the model."""
        if all(self._is_live(item) for item, _ in batch.items()):
            return batch
        kept = Batch()
        for item, _ in batch.items():
            if self._is_live(item):
                row = kept._row_of_key.get(item.key)
                if row is None:
                    kept._row_of_key[item.key] = len(kept.rows)
                    kept.rows.append(item)
                    kept.longest = max(kept.longest, item.cost)
                else:
                    kept.riders.append((item, row))
        return kept

    def _is_live(self, item: QueuedItem) -> bool:
        waiter = self._waiters.get(item.request.request_id)
        return waiter is not None and not waiter.future.done()

    async def _run_batch(self, batch: Batch, batch_id: int, lane: int = 0) -> None:
        started = self._clock()
        waits = [started - item.request.enqueued_at for item, _ in batch.items()]
        self._observer.batch_started(
            items=batch.item_count, rows=len(batch.rows), padded_tokens=batch.padded_tokens, waits=waits
        )
        self.inflight_items += batch.item_count
        try:
            results = await self._runner([item.payload for item in batch.rows])
            if len(results) != len(batch.rows):
                raise InferenceError(
                    f"the model returned {len(results)} results for {len(batch.rows)} inputs; this is a bug"
                )
        except (Exception, asyncio.CancelledError) as error:
            # CancelledError too: a runner torn down under us must fail its waiters, not the loop.
            elapsed = self._clock() - started
            self._observer.batch_finished(seconds=elapsed, ok=False)
            logger.exception(
                "batch failed",
                extra={"batch_id": batch_id, "rows": len(batch.rows), "items": batch.item_count},
            )
            failure = (
                error if isinstance(error, ServiceError) else InferenceError(f"inference failed: {error!r}")
            )
            self._charge("failed", elapsed)
            for request in batch.requests():
                waiter = self._waiters.get(request.request_id)
                if waiter is not None:
                    self._abandon(waiter, "failed", failure)
            return
        finally:
            self.inflight_items -= batch.item_count
            self._running.pop(lane, None)
            self._wake()
        elapsed = self._clock() - started
        self._observer.batch_finished(seconds=elapsed, ok=True)
        lanes = self.config.lanes
        if elapsed > 0:
            # Under load every lane drains at this rate at once.
            rate = lanes * batch.item_count / elapsed
            self._drain_rate = rate if self._drain_rate is None else 0.8 * self._drain_rate + 0.2 * rate
        model_seconds = results.seconds if isinstance(results, TimedResults) else elapsed
        # Wall time of this batch includes the gap since its lane's previous batch ended if its work
        # was already waiting then: the lane idled while the loop was busy elsewhere. With several
        # lanes the queue drains ``lanes`` times as fast as one batch's own speed, so each batch
        # counts for 1/lanes of its time.
        ended = started + elapsed
        earliest = min(item.request.enqueued_at for item, _ in batch.items())
        wall = ended - max(min(started, self._last_batch_end[lane]), earliest)
        self._last_batch_end[lane] = ended
        self._cost.observe(sum(item.cost for item in batch.rows), model_seconds / lanes, wall / lanes)
        self.batch_cost.observe(batch.padded_tokens, model_seconds)
        share = model_seconds / batch.item_count
        done = 0
        for item, row in batch.items():
            waiter = self._waiters.get(item.request.request_id)
            if waiter is None or waiter.future.done():
                self._charge("discarded", share)  # the request ended while its batch ran
                continue
            waiter.model_seconds += share
            waiter.results[item.index] = results[row]
            waiter.remaining -= 1
            done += 1
            waiter.queue_seconds = max(waiter.queue_seconds, started - item.request.enqueued_at)
            if batch_id not in waiter.batches:
                waiter.batches.add(batch_id)
                waiter.inference_seconds += elapsed
            if waiter.remaining == 0:
                waiter.future.set_result(None)
                self._charge("ok", waiter.model_seconds)
        self._observer.items_done("ok", done)

    # -- ending requests -----------------------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        for queued in self._queue.requests():
            if queued.deadline <= now:
                waiter = self._waiters.get(queued.request_id)
                if waiter is not None:
                    self._abandon(waiter, "expired", DeadlineExceededError("deadline exceeded while queued"))

    def _shed(self, now: float) -> None:
        """Withdraw queued requests that cannot finish before their deadline any more."""
        if not self.config.deadline_admission or self._cost.effective_tokens_per_s is None:
            return
        for request_id in doomed(self._pending_work(), self._cost.effective_tokens_per_s, now):
            waiter = self._waiters.get(request_id)
            if waiter is not None:
                self._observer.rejected("shed")
                self._abandon(
                    waiter,
                    "expired",
                    DeadlineExceededError(
                        "deadline exceeded: the work queued ahead cannot finish before this request's "
                        "deadline; its remaining items were withdrawn unscored"
                    ),
                )

    def _charge(self, outcome: str, seconds: float) -> None:
        if seconds > 0:
            self.model_seconds[outcome] = self.model_seconds.get(outcome, 0.0) + seconds

    def _abandon(self, waiter: _Waiter[R], outcome: str, error: ServiceError) -> None:
        """End a request early: withdraw its queued items and fail its future (if still open)."""
        self._queue.remove(waiter.queued)
        if not waiter.future.done():
            self._charge(outcome, waiter.model_seconds)
            waiter.future.set_exception(error)
            # Retrieved here so an abandoned future never logs "exception was never retrieved".
            waiter.future.exception()
            self._observer.items_done(outcome, waiter.remaining)
        self._wake()

    def _fail_all(self, error: ServiceError) -> None:
        for waiter in list(self._waiters.values()):
            self._abandon(waiter, "failed", error)

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def _on_loop_exit(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            if self._draining:
                return  # stop() asked for it
            error: BaseException | None = RuntimeError("the batch loop was cancelled")
        else:
            error = task.exception()
        if error is None:
            return
        self._failure = error
        logger.error("the batch loop died; failing all waiters", exc_info=error)
        self._fail_all(UnavailableError(f"the batch loop died: {error}"))
