"""Shadow scoring: a candidate bundle answers the same traffic as the served one, and nobody sees it.

``ShadowScorer.offer(texts, directions, served)`` is called once a request's answers are final; it only
appends to a queue (bounded in transactions) and returns at once. When the queue is full the request's
transactions are dropped and counted (``txclassify_shadow_dropped_items_total``), and so are they while
the served model has a backlog: under load the shadow sheds, the primary does not wait. One worker
task scores each queued request with the shadow's own
classifier, in its own thread with one ONNX thread at the lowest CPU priority (nice 19: the shadow
gets the cores only when the served model leaves them idle), and counts agreement with the served labels
(``txclassify_shadow_items_total{agreed}``, ``txclassify_shadow_disagreements_total{label,shadow_label}``)
and its time (``txclassify_shadow_seconds``). Nothing it does reaches a response: served answers never
change, and a failing shadow batch is counted and logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from service.classifier import Prediction
from service.metrics import ServiceMetrics

__all__ = ["ShadowModel", "ShadowScorer"]

logger = logging.getLogger("txclassify.shadow")


class ShadowModel(Protocol):
    """What the shadow needs of a classifier: synchronous scoring (``Classifier.classify``)."""

    def classify(
        self, texts: Sequence[str], *, directions: Sequence[str | None] | None = None
    ) -> list[Prediction]: ...


@dataclass(frozen=True)
class _Offered:
    texts: Sequence[str]
    directions: Sequence[str | None]
    served: tuple[str, ...]


class ShadowScorer:
    """Owns the shadow queue and its worker. ``start`` and ``stop`` inside the serving event loop."""

    def __init__(
        self,
        model: ShadowModel,
        metrics: ServiceMetrics,
        *,
        max_queue_items: int,
        primary_backlog: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.model = model
        self.max_queue_items = max_queue_items
        self._metrics = metrics
        self._primary_backlog = primary_backlog
        self._clock = clock
        self._queue: deque[_Offered] = deque()
        self._queued_items = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def queued_items(self) -> int:
        return self._queued_items

    async def start(self) -> None:
        if self._task is not None:
            return
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="txc-shadow", initializer=_lowest_priority
        )
        self._task = asyncio.create_task(self._run(), name="txc-shadow")

    async def stop(self) -> None:
        """Drop what is queued and stop (a shadow's backlog is not worth delaying a shutdown for)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._queue.clear()
        self._queued_items = 0

    def offer(
        self, texts: Sequence[str], directions: Sequence[str | None], served: Sequence[Prediction]
    ) -> bool:
        """Queue a request's texts for the shadow; False (and counted as dropped) when the queue is full
        or the primary has a backlog (``primary_backlog() > 0``: a saturated pod sheds the whole shadow,
        whose Python work would otherwise take the event loop's GIL).

        Never blocks and never raises for a full queue.
        """
        if not texts:
            return True
        full = self._queued_items + len(texts) > self.max_queue_items
        if self._wake is None or full or self._primary_backlog() > 0:
            self._metrics.shadow_dropped.inc(len(texts))
            return False
        self._queue.append(_Offered(texts, directions, tuple(p.label for p in served)))
        self._queued_items += len(texts)
        self._wake.set()
        return True

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            offered = self._queue.popleft()
            started = self._clock()
            try:
                predictions = await loop.run_in_executor(self._executor, self._score, offered)
            except Exception:
                self._metrics.shadow_errors.inc()
                logger.exception("shadow batch of %d transactions failed", len(offered.texts))
                continue
            finally:
                self._queued_items -= len(offered.texts)
            self._metrics.shadow_seconds.observe(self._clock() - started)
            self._count(offered.served, [p.label for p in predictions])

    def _score(self, offered: _Offered) -> list[Prediction]:
        return self.model.classify(offered.texts, directions=offered.directions)

    def _count(self, served: Sequence[str], shadow: Sequence[str]) -> None:
        agreed = sum(1 for a, b in zip(served, shadow, strict=True) if a == b)
        if agreed:
            self._metrics.shadow_items.labels(agreed="true").inc(agreed)
        if agreed < len(served):
            self._metrics.shadow_items.labels(agreed="false").inc(len(served) - agreed)
            pairs = Counter((a, b) for a, b in zip(served, shadow, strict=True) if a != b)
            for (label, shadow_label), count in pairs.items():
                self._metrics.shadow_disagreements.labels(label=label, shadow_label=shadow_label).inc(count)


def _lowest_priority() -> None:
    """Nice 19 for the calling thread only (Linux sets priority per thread id); no-op where unsupported."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
