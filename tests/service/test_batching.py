"""The dynamic batcher with a fake model: asyncio.Event gates and a hand-moved clock, no sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from service.batching import Batcher, BatcherConfig, WorkItem
from service.errors import DeadlineExceededError, InferenceError, OverloadedError, UnavailableError
from tests.service.fakes import FakeClock, FakeModel, until


def items(*texts: str, cost: int = 1) -> list[WorkItem[str]]:
    return [WorkItem(text, cost, text) for text in texts]


def sized(pairs: Sequence[tuple[str, int]]) -> list[WorkItem[str]]:
    return [WorkItem(text, cost, text) for text, cost in pairs]


class RecordingObserver:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.batches: list[tuple[int, int, int]] = []
        self.rejections: list[str] = []
        self.outcomes: dict[str, int] = {}

    def batch_started(self, *, items: int, rows: int, padded_tokens: int, waits: Sequence[float]) -> None:
        self.batches.append((items, rows, padded_tokens))
        self.waits.extend(waits)

    def batch_finished(self, *, seconds: float, ok: bool) -> None:
        pass

    def items_done(self, outcome: str, count: int) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + count

    def rejected(self, reason: str) -> None:
        self.rejections.append(reason)


@pytest.fixture
async def running() -> AsyncIterator[list[Batcher[str, str]]]:
    """Collects batchers built by a test and stops them afterwards."""
    started: list[Batcher[str, str]] = []
    yield started
    for batcher in started:
        await batcher.stop()


def make(
    running: list[Batcher[str, str]],
    model: FakeModel,
    clock: FakeClock | None = None,
    observer: RecordingObserver | None = None,
    **config: float,
) -> Batcher[str, str]:
    settings = {"max_wait_s": 0.0, "bucket_width": 1000, **config}
    clock = clock or FakeClock()
    batcher: Batcher[str, str] = Batcher(
        model,
        BatcherConfig(**settings),  # type: ignore[arg-type]
        observer=observer,
        clock=clock,
        sleep=clock.sleep,
    )
    batcher.start()
    running.append(batcher)
    return batcher


async def test_results_come_back_in_request_order(running: list[Batcher[str, str]]) -> None:
    batcher = make(running, FakeModel())
    outcome = await batcher.submit(sized([("long", 9), ("short", 1), ("mid", 4)]))
    assert outcome.results == ["out:long", "out:short", "out:mid"]


async def test_token_budget_and_size_are_respected(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    observer = RecordingObserver()
    batcher = make(running, model, observer=observer, max_batch_tokens=40, max_batch_size=5)
    lengths = [3, 7, 12, 5, 9, 20, 1, 14, 6, 8, 11, 2, 18, 4, 10]
    task = asyncio.ensure_future(batcher.submit(sized([(f"t{i}", n) for i, n in enumerate(lengths)])))
    await until(lambda: bool(model.batches))
    model.gate.set()
    outcome = await task
    assert len(outcome.results) == len(lengths)
    for _, rows, padded in observer.batches:
        assert rows <= 5
        assert padded <= 40
    assert sum(len(batch) for batch in model.batches) == len(lengths)


async def test_a_single_item_over_the_budget_still_runs_alone(running: list[Batcher[str, str]]) -> None:
    model = FakeModel()
    batcher = make(running, model, max_batch_tokens=10)
    outcome = await batcher.submit(sized([("huge", 50), ("small", 2)]))
    assert outcome.results == ["out:huge", "out:small"]
    assert ["huge"] in model.batches


async def test_similar_lengths_share_batches(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    # Bulk work (latency-aware cuts off): small urgent requests may mix lengths, see below.
    batcher = make(
        running, model, max_batch_size=4, bucket_width=8, max_batch_tokens=10_000, latency_budget_s=0
    )
    holder = asyncio.ensure_future(batcher.submit(items("holder")))
    await until(lambda: bool(model.batches))
    # Short and long texts interleaved, inside one request and across two.
    first = [(f"a{i}", 3 if i % 2 else 30) for i in range(12)]
    second = [(f"b{i}", n) for i, n in enumerate((2, 31, 4, 29, 5, 30))]
    cost = dict(first + second)
    one = asyncio.ensure_future(batcher.submit(sized(first)))
    two = asyncio.ensure_future(batcher.submit(sized(second)))
    await until(lambda: batcher.queued_items == 18)
    model.gate.set()
    await asyncio.gather(holder, one, two)
    for batch in model.batches[1:]:
        assert len({cost[name] < 8 for name in batch}) == 1, model.batches


async def test_max_wait_is_honoured_with_an_injected_clock(running: list[Batcher[str, str]]) -> None:
    clock = FakeClock()
    model = FakeModel()
    observer = RecordingObserver()
    batcher = make(running, model, clock, observer, max_wait_s=0.010, max_batch_size=8)
    task = asyncio.ensure_future(batcher.submit(items("a")))
    await until(lambda: clock.sleeping == 1)
    clock.advance(0.006)
    await until(lambda: clock.sleeping == 1)
    assert model.batches == []  # still waiting for company
    second = asyncio.ensure_future(batcher.submit(items("b")))
    await until(lambda: batcher.queued_items == 2)
    assert model.batches == []
    clock.advance(0.004)
    assert (await task).results == ["out:a"]
    assert (await second).results == ["out:b"]
    assert model.batches == [["a", "b"]]
    assert observer.waits == pytest.approx([0.010, 0.004])


async def test_a_full_batch_goes_without_waiting(running: list[Batcher[str, str]]) -> None:
    clock = FakeClock()
    model = FakeModel()
    batcher = make(running, model, clock, max_wait_s=10.0, max_batch_size=3)
    outcome = await batcher.submit(items("a", "b", "c"))
    assert outcome.results == ["out:a", "out:b", "out:c"]
    assert clock.now == 0.0


async def test_small_request_behind_a_huge_one_finishes_first(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, max_batch_size=16, fair_quantum_tokens=8)
    finished: list[str] = []

    async def run(name: str, work: list[WorkItem[str]]) -> None:
        await batcher.submit(work)
        finished.append(name)

    big = asyncio.ensure_future(run("big", items(*(f"big{i}" for i in range(5000)))))
    await until(lambda: len(model.batches) == 1)  # the big request holds the model
    small = asyncio.ensure_future(run("small", items("s1", "s2", "s3")))
    # Only the running batch left the queue: the next is cut when the model frees up.
    await until(lambda: batcher.queued_items == 5000 - 16 + 3)
    model.gate.set()
    await asyncio.gather(big, small)
    assert finished == ["small", "big"]
    served_in = next(i for i, batch in enumerate(model.batches) if "s3" in batch)
    assert served_in == 1, f"small request waited for {served_in} batches"


async def test_clients_share_fairly_by_client_id(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    # Fair shares alone: B's 8 items would otherwise be urgent and simply go first.
    batcher = make(running, model, max_batch_size=4, fair_quantum_tokens=2, latency_budget_s=0)
    first = asyncio.ensure_future(batcher.submit(items(*(f"a{i}" for i in range(40))), client_id="A"))
    await until(lambda: len(model.batches) == 1)
    second = asyncio.ensure_future(batcher.submit(items(*(f"a2-{i}" for i in range(40))), client_id="A"))
    other = asyncio.ensure_future(batcher.submit(items(*(f"b{i}" for i in range(8))), client_id="B"))
    await until(lambda: batcher.queued_items == 40 - 4 + 40 + 8)
    model.gate.set()
    await asyncio.gather(first, second, other)
    # From when B arrived, B gets about half of each batch, not the leftovers after A's 72 items.
    last_b = max(i for i, batch in enumerate(model.batches) if any(p.startswith("b") for p in batch))
    assert last_b <= 2 + 8 // 2 + 1


async def test_identical_keys_in_a_batch_are_scored_once(running: list[Batcher[str, str]]) -> None:
    model = FakeModel()
    batcher = make(running, model)
    outcome = await batcher.submit(items("same", "other", "same", "same"))
    assert outcome.results == ["out:same", "out:other", "out:same", "out:same"]
    assert sorted(model.seen) == ["other", "same"]


async def test_dedup_works_across_requests(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model)
    warm = asyncio.ensure_future(batcher.submit(items("x")))
    await until(lambda: len(model.batches) == 1)
    first = asyncio.ensure_future(batcher.submit(items("dup", "one")))
    second = asyncio.ensure_future(batcher.submit(items("dup", "two")))
    await until(lambda: batcher.queued_items == 4)
    model.gate.set()
    await asyncio.gather(warm, first, second)
    assert model.seen.count("dup") == 1
    assert (await first).results == ["out:dup", "out:one"]
    assert (await second).results == ["out:dup", "out:two"]


async def test_expired_items_are_dropped_before_inference(running: list[Batcher[str, str]]) -> None:
    clock = FakeClock()
    model = FakeModel(gated=True)
    observer = RecordingObserver()
    batcher = make(running, model, clock, observer)
    holder = asyncio.ensure_future(batcher.submit(items("holder")))
    await until(lambda: len(model.batches) == 1)
    late = asyncio.ensure_future(batcher.submit(items("late1", "late2"), deadline=clock() + 1.0))
    await until(lambda: batcher.queued_items == 2)
    clock.advance(2.0)
    model.gate.set()
    with pytest.raises(DeadlineExceededError):
        await late
    await holder
    assert "late1" not in model.seen
    assert "late2" not in model.seen
    assert batcher.queued_items == 0
    assert observer.outcomes["expired"] == 2


async def test_a_real_timeout_gives_deadline_exceeded(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model)
    holder = asyncio.ensure_future(batcher.submit(items("holder")))
    await until(lambda: len(model.batches) == 1)
    with pytest.raises(DeadlineExceededError):
        # Deadline already due on the batcher's clock: the wait times out at once.
        await batcher.submit(items("never"), deadline=0.0)
    model.gate.set()
    await holder
    assert "never" not in model.seen


async def test_cancelled_requests_never_reach_the_model(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    observer = RecordingObserver()
    batcher = make(running, model, observer=observer)
    holder = asyncio.ensure_future(batcher.submit(items("holder")))
    await until(lambda: len(model.batches) == 1)
    gone = asyncio.ensure_future(batcher.submit(items("gone1", "gone2")))
    stays = asyncio.ensure_future(batcher.submit(items("stays")))
    await until(lambda: batcher.queued_items == 3)
    gone.cancel()
    await until(lambda: batcher.queued_items == 1)
    model.gate.set()
    assert (await stays).results == ["out:stays"]
    await holder
    assert gone.cancelled()
    assert not {"gone1", "gone2"} & set(model.seen)
    assert observer.outcomes["cancelled"] == 2


async def test_overflow_is_rejected_whole_without_queuing(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    observer = RecordingObserver()
    batcher = make(running, model, observer=observer, max_batch_size=2, max_queue_items=10)
    first = asyncio.ensure_future(batcher.submit(items(*(f"a{i}" for i in range(10)))))
    # One batch runs (the next is cut when it returns): 8 stay queued.
    await until(lambda: len(model.batches) == 1 and batcher.queued_items == 8)
    with pytest.raises(OverloadedError) as refused:
        await batcher.submit(items(*(f"b{i}" for i in range(5))))
    assert refused.value.retry_after_s >= 1
    assert batcher.queued_items == 8
    assert (await batcher.submit(items())).results == []
    assert observer.rejections == ["queue_full"]
    model.gate.set()
    await first
    assert not any(p.startswith("b") for p in model.seen)


async def test_retry_after_follows_the_drain_rate(running: list[Batcher[str, str]]) -> None:
    clock = FakeClock()
    model = FakeModel(gated=True)
    batcher = make(running, model, clock, max_batch_size=10, max_queue_items=100)
    first = asyncio.ensure_future(batcher.submit(items(*(f"a{i}" for i in range(10)))))
    await until(lambda: len(model.batches) == 1)
    clock.advance(1.0)  # this batch takes 1 s: 10 items per second
    model.gate.set()
    await first
    model.gate.clear()
    second = asyncio.ensure_future(batcher.submit(items(*(f"b{i}" for i in range(100)))))
    await until(lambda: len(model.batches) == 2 and batcher.queued_items == 90)
    # 90 queued (one batch runs); 50 more would be 40 over: 4 s at 10 items/s.
    assert batcher.retry_after_s(50) == 4
    model.gate.set()
    await second


async def test_a_failing_batch_fails_only_its_own_waiters(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True, fail_on="boom")
    batcher = make(running, model, max_batch_size=1)
    bad = asyncio.ensure_future(batcher.submit(items("boom", "fine-too")))
    good = asyncio.ensure_future(batcher.submit(items("fine")))
    await until(lambda: len(model.batches) == 1)
    model.gate.set()
    with pytest.raises(InferenceError):
        await bad
    assert (await good).results == ["out:fine"]
    assert batcher.healthy
    assert (await batcher.submit(items("after"))).results == ["out:after"]
    assert "fine-too" not in model.seen  # the failed request's other items were withdrawn


async def test_a_dead_loop_fails_waiters_and_reports_unhealthy(
    running: list[Batcher[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, max_batch_size=1)
    holder = asyncio.ensure_future(batcher.submit(items("holder")))
    await until(lambda: len(model.batches) == 1)

    def broken() -> None:
        raise RuntimeError("scheduler bug")

    monkeypatch.setattr(batcher._queue, "cut", broken)
    waiting = asyncio.ensure_future(batcher.submit(items("x", "y")))
    model.gate.set()
    with pytest.raises(UnavailableError, match="died"):
        await waiting
    assert not batcher.healthy
    with pytest.raises(UnavailableError):
        await batcher.submit(items("z"))
    await holder


async def test_drain_finishes_admitted_work_and_refuses_new(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, max_batch_size=2)
    admitted = asyncio.ensure_future(batcher.submit(items("a", "b", "c", "d", "e")))
    await until(lambda: len(model.batches) == 1)
    drained = asyncio.ensure_future(batcher.drain())
    await until(lambda: batcher.draining)
    with pytest.raises(UnavailableError, match="draining"):
        await batcher.submit(items("late"))
    assert not drained.done()
    model.gate.set()
    assert (await admitted).results == ["out:a", "out:b", "out:c", "out:d", "out:e"]
    await drained
    assert not batcher.healthy


async def test_timings_are_reported(running: list[Batcher[str, str]]) -> None:
    clock = FakeClock()
    model = FakeModel(gated=True)
    batcher = make(running, model, clock)
    task = asyncio.ensure_future(batcher.submit(items("a")))
    await until(lambda: len(model.batches) == 1)
    clock.advance(0.25)
    model.gate.set()
    outcome = await task
    assert outcome.queue_seconds == 0.0
    assert outcome.inference_seconds == pytest.approx(0.25)


def fitted(batcher: Batcher[str, str], seconds_per_token: float) -> None:
    """Teach the batcher's cost model a speed (fake models take no time on the fake clock)."""
    for tokens in (100, 200, 300, 400):
        batcher.batch_cost.observe(tokens, seconds_per_token * tokens)


async def test_an_urgent_request_takes_the_next_batch_ahead_of_bulk_work(
    running: list[Batcher[str, str]],
) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, max_batch_size=8, bucket_width=8, fair_quantum_tokens=1000)
    bulk = asyncio.ensure_future(
        batcher.submit(sized([(f"bulk{i}", 30) for i in range(64)]), interactive=False)
    )
    await until(lambda: len(model.batches) == 1)
    small = asyncio.ensure_future(batcher.submit(sized([("s1", 3), ("s2", 12)])))
    await until(lambda: batcher.queued_items == 64 - 8 + 2)
    model.gate.set()
    assert (await small).results == ["out:s1", "out:s2"]
    await bulk
    assert {"s1", "s2"} <= set(model.batches[1])


async def test_batches_fit_the_latency_budget_while_small_requests_are_about(
    running: list[Batcher[str, str]],
) -> None:
    clock = FakeClock()
    model = FakeModel(gated=True)
    batcher = make(
        running,
        model,
        clock,
        max_batch_size=1000,
        max_batch_tokens=1000,
        latency_budget_s=0.010,
        latency_window_s=1.0,
    )
    fitted(batcher, 0.0001)  # 100 tokens in 10 ms
    bulk = asyncio.ensure_future(
        batcher.submit(sized([(f"bulk{i}", 5) for i in range(600)]), interactive=False)
    )
    await until(lambda: len(model.batches) == 1)
    assert len(model.batches[0]) == 200  # only bulk work about: a full batch
    assert batcher.batch_token_budget() is None
    small = asyncio.ensure_future(batcher.submit(sized([("s1", 5), ("s2", 5)])))
    await until(lambda: batcher.queued_items == 402)
    assert batcher.batch_token_budget() == 100
    model.gate.set()
    await small
    assert {"s1", "s2"} <= set(model.batches[1])
    await until(lambda: batcher.queued_items == 0)
    assert all(len(batch) * 5 <= 100 for batch in model.batches[1:])  # within the window
    await bulk
    # A window after the last small request, bulk work gets full batches again.
    clock.advance(1.0)
    assert batcher.batch_token_budget() is None
    seen = len(model.batches)
    await batcher.submit(sized([(f"later{i}", 5) for i in range(400)]), interactive=False)
    assert [len(batch) for batch in model.batches[seen:]] == [200, 200]


async def test_the_caller_may_mark_a_request_bulk_or_interactive(running: list[Batcher[str, str]]) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, max_batch_size=2, latency_budget_s=0.010, interactive_max_items=2)
    fitted(batcher, 0.0001)
    small_but_bulk = asyncio.ensure_future(batcher.submit(items("x"), interactive=False))
    await until(lambda: len(model.batches) == 1)
    assert batcher.batch_token_budget() is None
    big_but_urgent = asyncio.ensure_future(
        batcher.submit(items(*(f"y{i}" for i in range(50))), interactive=True)
    )
    await until(lambda: batcher.queued_items == 50)
    assert batcher.batch_token_budget() == 100
    model.gate.set()
    await asyncio.gather(small_but_bulk, big_but_urgent)


async def test_the_latency_budget_never_cuts_below_the_break_even_batch(
    running: list[Batcher[str, str]],
) -> None:
    model = FakeModel(gated=True)
    batcher = make(running, model, latency_budget_s=0.010)
    for tokens in (100, 200, 300, 400):  # 20 ms fixed cost per call: the 10 ms budget cannot be met
        batcher.batch_cost.observe(tokens, 0.020 + 0.0001 * tokens)
    small = asyncio.ensure_future(batcher.submit(items("s")))
    await until(lambda: len(model.batches) == 1)
    assert batcher.batch_token_budget() == 200
    model.gate.set()
    await small


class PerBatchGates:
    """A fake model whose every batch waits for its own gate, so lanes can be released one by one."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gates: list[asyncio.Event] = []

    async def __call__(self, payloads: list[str]) -> Sequence[str]:
        gate = asyncio.Event()
        self.batches.append(list(payloads))
        self.gates.append(gate)
        await gate.wait()
        return [f"out:{payload}" for payload in payloads]

    def running(self) -> int:
        return sum(not gate.is_set() for gate in self.gates)


def make_lanes(running: list[Batcher[str, str]], model: PerBatchGates, **config: float) -> Batcher[str, str]:
    return make(running, model, **config)  # type: ignore[arg-type]


async def test_two_lanes_run_two_batches_and_an_urgent_item_takes_the_first_free_one(
    running: list[Batcher[str, str]],
) -> None:
    model = PerBatchGates()
    batcher = make_lanes(running, model, lanes=2, max_batch_size=4, fair_quantum_tokens=1000)
    bulk = asyncio.ensure_future(batcher.submit(items(*(f"bulk{i}" for i in range(16))), interactive=False))
    await until(lambda: len(model.batches) == 2)
    assert model.running() == 2
    assert batcher.inflight_items == 8
    assert batcher.queued_items == 8  # no third batch while both lanes are busy
    small = asyncio.ensure_future(batcher.submit(items("s1")))
    await until(lambda: batcher.queued_items == 9)
    model.gates[1].set()  # the second lane frees up first
    await until(lambda: len(model.batches) == 3)
    assert "s1" in model.batches[2]
    assert batcher.inflight_items == 4 + len(model.batches[2])
    while not bulk.done() or not small.done():
        for gate in model.gates:
            gate.set()
        await asyncio.sleep(0)
    assert (await small).results == ["out:s1"]
    assert (await bulk).results == [f"out:bulk{i}" for i in range(16)]
    assert batcher.inflight_items == 0


async def test_drain_waits_for_every_lane(running: list[Batcher[str, str]]) -> None:
    model = PerBatchGates()
    batcher = make_lanes(running, model, lanes=2, max_batch_size=1)
    work = asyncio.ensure_future(batcher.submit(items("a", "b")))
    await until(lambda: model.running() == 2)
    drained = asyncio.ensure_future(batcher.drain())
    await until(lambda: batcher.draining)
    model.gates[0].set()
    await until(lambda: model.running() == 1)
    for _ in range(10):
        await asyncio.sleep(0)
    assert not drained.done(), "drain ended with a lane still running"
    model.gates[1].set()
    await drained
    assert (await work).results == ["out:a", "out:b"]


def test_a_batcher_needs_at_least_one_lane() -> None:
    with pytest.raises(ValueError, match="lanes"):
        BatcherConfig(lanes=0)
