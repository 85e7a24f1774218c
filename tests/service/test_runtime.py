"""The runtime: the phase, admission at the door, the event-driven drain and its one grace period."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import pytest

from service.classifier import Classifier
from service.errors import OverloadedError, UnavailableError
from service.metrics import REJECTED_TOTAL, ServiceMetrics
from service.runtime import ANSWER_RESERVE_S, Phase, Runtime
from service.settings import Settings


class FakeBatcher:
    def __init__(self) -> None:
        self.healthy = True
        self.stopped_with: list[BaseException | None] = []

    async def stop(self, error: BaseException | None = None) -> None:
        self.stopped_with.append(error)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ready_runtime(clock: Clock | None = None, **overrides: Any) -> tuple[Runtime, FakeBatcher]:
    """A READY runtime over a stand-in classifier (admission never touches the model)."""
    runtime = Runtime(Settings(**overrides), ServiceMetrics(), clock=clock or Clock())
    batcher = FakeBatcher()
    runtime.classifier = cast(Classifier, SimpleNamespace(batcher=batcher))
    runtime.phase = Phase.READY
    return runtime, batcher


def rejected(runtime: Runtime, reason: str) -> float:
    value = runtime.metrics.registry.get_sample_value(REJECTED_TOTAL, {"reason": reason})
    return value or 0.0


def test_nothing_is_admitted_before_ready() -> None:
    runtime = Runtime(Settings(), ServiceMetrics())
    with pytest.raises(UnavailableError, match="not ready \\(starting\\)"):
        runtime.admit()
    assert runtime.readiness() == (False, "not ready (starting)")
    assert runtime.healthy  # starting is alive
    assert runtime.in_progress == 0


def test_admission_counts_requests_until_each_closes() -> None:
    runtime, _ = ready_runtime(max_concurrent_requests=2)
    first = runtime.admit()
    with runtime.admit() as classifier:
        assert classifier is runtime.classifier
        assert runtime.in_progress == 2
        with pytest.raises(OverloadedError, match="2 requests in progress, the limit is 2") as refused:
            runtime.admit()
        assert refused.value.retry_after_s >= 1
    assert runtime.in_progress == 1
    first.close()
    first.close()  # closing twice frees one slot once
    assert runtime.in_progress == 0
    assert rejected(runtime, "concurrency") == 1


def test_retry_after_is_the_time_the_requests_in_progress_need_at_the_completion_rate() -> None:
    clock = Clock()
    runtime, _ = ready_runtime(clock, max_concurrent_requests=100)
    assert runtime.retry_after_s() == 1  # no completions measured yet
    for _ in range(8):  # 8 completions over 1 s: 8 requests a second
        runtime.admit().close()
        clock.now += 0.125
    held = [runtime.admit() for _ in range(24)]
    assert runtime.retry_after_s() == 3
    for admission in held:
        admission.close()


def test_a_drain_refuses_new_work_but_not_work_already_admitted() -> None:
    runtime, _ = ready_runtime()
    admitted = runtime.admit()
    runtime.begin_drain()
    assert runtime.phase is Phase.DRAINING
    with pytest.raises(UnavailableError, match="draining"):
        runtime.admit()
    assert rejected(runtime, "draining") == 1
    assert runtime.readiness()[0] is False
    assert runtime.healthy
    admitted.close()
    assert runtime.in_progress == 0


def test_the_grace_period_is_set_once_by_the_first_drain() -> None:
    clock = Clock()
    runtime, _ = ready_runtime(clock, graceful_timeout_s=30.0)
    assert runtime.grace_left_s() == 30.0  # no drain yet: the whole period
    runtime.begin_drain(5.0)
    clock.now += 2.0
    runtime.begin_drain(100.0)  # a second signal changes nothing
    assert runtime.grace_left_s() == pytest.approx(3.0)
    clock.now += 10.0
    assert runtime.grace_left_s() == 0.0


async def test_the_last_admission_to_close_wakes_the_drain() -> None:
    runtime, batcher = ready_runtime()
    admitted = runtime.admit()
    assert await runtime.wait_idle(0.0) is False
    drained = asyncio.ensure_future(runtime.drain(30.0))
    await asyncio.sleep(0)  # let the drain start waiting
    assert not drained.done()
    admitted.close()
    assert await asyncio.wait_for(drained, timeout=5) is True
    assert batcher.stopped_with == []  # nothing left to answer 503


async def test_a_drain_past_its_grace_answers_unfinished_work_503() -> None:
    runtime, batcher = ready_runtime()
    runtime.admit()  # never finishes
    grace = ANSWER_RESERVE_S + 0.05
    assert await runtime.drain(grace) is False
    assert len(batcher.stopped_with) == 1
    error = batcher.stopped_with[0]
    assert isinstance(error, UnavailableError)
    assert "retry on another replica" in error.message


async def test_an_idle_runtime_drains_at_once() -> None:
    runtime, batcher = ready_runtime()
    assert await runtime.drain(0.0) is True
    assert batcher.stopped_with == []


def test_a_dead_batch_loop_is_neither_ready_nor_healthy() -> None:
    runtime, batcher = ready_runtime()
    batcher.healthy = False
    assert runtime.readiness() == (False, "the batch loop is not running")
    assert not runtime.healthy
    with pytest.raises(UnavailableError):
        runtime.admit()
    runtime.phase = Phase.FAILED
    assert not runtime.healthy
