"""Test doubles for the batcher: a fake model gated by asyncio events, and a clock tests move by hand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence


class FakeClock:
    """``clock()`` returns the current fake time; ``sleep`` waits until ``advance`` passes its target."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        try:
            await future
        finally:
            self._sleepers = [(t, f) for t, f in self._sleepers if f is not future]

    @property
    def sleeping(self) -> int:
        return len(self._sleepers)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for target, future in self._sleepers:
            if target <= self.now and not future.done():
                future.set_result(None)


class FakeModel:
    """Records every batch; optionally waits on ``gate`` before answering; fails on ``fail_on`` payloads.

    Answers ``"out:<payload>"`` for each payload, in order.
    """

    def __init__(self, *, gated: bool = False, fail_on: str | None = None) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        if not gated:
            self.gate.set()
        self.fail_on = fail_on
        self.entered = asyncio.Event()

    async def __call__(self, payloads: list[str]) -> Sequence[str]:
        self.batches.append(list(payloads))
        self.entered.set()
        await self.gate.wait()
        if self.fail_on is not None and self.fail_on in payloads:
            raise RuntimeError(f"model exploded on {self.fail_on}")
        return [f"out:{payload}" for payload in payloads]

    @property
    def seen(self) -> list[str]:
        return [payload for batch in self.batches for payload in batch]


async def until(predicate: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    """Wait until ``predicate()`` holds, polling; fail after ``timeout_s``.

    Pure event-loop conditions hold after a few yields; conditions that wait on a worker thread (the
    real engine, tokenisation) are polled every millisecond, so the thread gets the CPU.
    """
    for _ in range(100):
        if predicate():
            return
        await asyncio.sleep(0)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"condition not met within {timeout_s} s")
