"""The serving process's lifecycle and admission: one owner for the phase, the classify requests in
progress, the drain and its grace period, and the Retry-After of a refusal at the door.

::

    STARTING --start()--> READY --begin_drain()--> DRAINING --stop()--> (process exits)
        \\--start() fails--> FAILED <--the batch loop dies-- (seen by ``healthy``)

``admit()`` is the door for classify work: it raises ``UnavailableError`` (503) unless the phase is
READY and the batch loop runs, ``OverloadedError`` (429, with Retry-After) past
``max_concurrent_requests`` requests in progress, and otherwise returns an ``Admission`` that holds
one slot until it is closed. A drain is event-driven: the last admission to close wakes it. The grace
period is set once, by ``begin_drain``, and everything after it (the wait, answering what is left with
503, the batcher's own drain in ``stop``) spends what is left of that one period.

It knows nothing of HTTP: the API's admission guard (``service/api/middleware.py``) and routes call it,
and map its errors through the one table (``service/api/errors.py``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

from service.admission import retry_after
from service.classifier import Classifier
from service.errors import OverloadedError, UnavailableError
from service.metrics import ServiceMetrics
from service.production import ProductionLoop
from service.settings import Settings

__all__ = ["ANSWER_RESERVE_S", "Admission", "Phase", "Runtime"]

logger = logging.getLogger("txclassify.runtime")

#: Seconds of the grace period kept to answer unfinished requests with 503 before the process exits.
ANSWER_RESERVE_S = 0.5


class Phase(enum.Enum):
    STARTING = "starting"  # loading the bundle and warming up: not ready
    READY = "ready"
    DRAINING = "draining"  # SIGTERM or shutdown: finish admitted work, refuse new work
    FAILED = "failed"  # start-up failed or the batch loop died


class Admission:
    """One admitted classify request's slot, held until ``close`` (or the ``with`` block ends)."""

    def __init__(self, runtime: Runtime, classifier: Classifier) -> None:
        self._runtime = runtime
        self.classifier = classifier
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self._runtime._release()

    def __enter__(self) -> Classifier:
        return self.classifier

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Runtime:
    """See the module docstring. Built once per app from its settings; ``start`` loads the model."""

    def __init__(
        self, settings: Settings, metrics: ServiceMetrics, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.limit = settings.max_concurrent_requests
        self.classifier: Classifier | None = None
        #: Feedback, prediction monitoring and the shadow (started with the classifier).
        self.production: ProductionLoop | None = None
        self.phase = Phase.STARTING
        #: Classify requests admitted and not yet answered (the drain waits for 0).
        self.in_progress = 0
        self._clock = clock
        self._finished: deque[float] = deque(maxlen=256)  # when recent admissions closed
        self._idle = asyncio.Event()
        self._idle.set()
        self._drain_deadline: float | None = None

    # -- lifecycle -------------------------------------------------------------------------------------

    async def start(self, preloaded: Classifier | None = None) -> None:
        """Load and warm up the bundle (unless ``preloaded`` is one already warmed up), start the batcher
        and the production loop; READY on success, FAILED (and the error raised) otherwise."""
        settings = self.settings
        try:
            classifier = preloaded
            if classifier is None:
                classifier = await asyncio.to_thread(Classifier.load, settings.model_dir, settings)
                await asyncio.to_thread(classifier.warm_up)
            classifier.set_observer(self.metrics)
            await classifier.start()
            self.production = await ProductionLoop.start(settings, classifier, self.metrics)
        except Exception:
            self.phase = Phase.FAILED
            raise
        batcher = classifier.batcher
        assert batcher is not None
        self.metrics.bind_queue(
            lambda: batcher.queued_items, lambda: batcher.inflight_items, batcher.oldest_queued_age
        )
        self.metrics.bind_model_seconds(lambda: dict(batcher.model_seconds))
        self.metrics.set_model(classifier.bundle.name, classifier.bundle.version)
        self.classifier = classifier
        if self.phase is Phase.STARTING:
            self.phase = Phase.READY
        logger.info(
            "ready",
            extra={
                "model": classifier.bundle.name,
                "version": classifier.bundle.version,
                "path": str(classifier.bundle.path),
            },
        )

    def begin_drain(self, grace_s: float | None = None) -> None:
        """Refuse new work from now on (readiness fails); admitted work goes on. The grace period
        (default ``graceful_timeout_s``) is fixed by the first call; later calls change nothing."""
        if self.phase in (Phase.STARTING, Phase.READY):
            self.phase = Phase.DRAINING
            logger.info("draining: refusing new work, finishing admitted work")
        if self._drain_deadline is None:
            grace = self.settings.graceful_timeout_s if grace_s is None else grace_s
            self._drain_deadline = self._clock() + max(0.0, grace)

    def grace_left_s(self) -> float:
        """Seconds left of the drain's grace period (the whole period before a drain began)."""
        if self._drain_deadline is None:
            return max(0.0, self.settings.graceful_timeout_s)
        return max(0.0, self._drain_deadline - self._clock())

    async def drain(self, grace_s: float | None = None) -> bool:
        """Drain: wait until no admitted request is in progress. If the grace period runs out first
        (less ``ANSWER_RESERVE_S``), unfinished work is answered 503 ("retry on another replica") so its
        callers get an answer rather than a cut connection. True if everything finished in time."""
        self.begin_drain(grace_s)
        if await self.wait_idle(max(0.0, self.grace_left_s() - ANSWER_RESERVE_S)):
            return True
        logger.error("graceful timeout reached with work in flight; answering it 503 and stopping")
        batcher = self.classifier.batcher if self.classifier is not None else None
        if batcher is not None:
            await batcher.stop(
                UnavailableError(
                    "shutting down: the grace period ended before this request finished; "
                    "retry on another replica"
                )
            )
        await self.wait_idle(self.grace_left_s())
        return False

    async def wait_idle(self, timeout_s: float) -> bool:
        """True once no admitted request is in progress (at once if none is); False after ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        """End of the process's life: stop taking work, let the batcher finish what it holds within what
        is left of the grace period (then fail the rest), and stop the production loop."""
        self.begin_drain()
        if self.classifier is None:
            return
        try:
            await asyncio.wait_for(self.classifier.drain(), timeout=max(self.grace_left_s(), 0.1))
        except TimeoutError:
            logger.error("drain timed out; stopping with work still queued")
            batcher = self.classifier.batcher
            if batcher is not None:
                await batcher.stop()
        if self.production is not None:
            await self.production.stop()

    # -- state -----------------------------------------------------------------------------------------

    def ready_classifier(self) -> Classifier:
        """The classifier, if the process may take new work now; else ``UnavailableError`` (503)."""
        if self.phase is Phase.DRAINING:
            raise UnavailableError("the server is draining; retry on another replica")
        if self.phase is not Phase.READY or self.classifier is None:
            raise UnavailableError(f"not ready ({self.phase.value})")
        batcher = self.classifier.batcher
        if batcher is None or not batcher.healthy:
            raise UnavailableError("the batch loop is not running")
        return self.classifier

    @property
    def healthy(self) -> bool:
        """False once something is broken beyond recovery in this process (liveness should restart it)."""
        if self.phase is Phase.FAILED:
            return False
        if self.phase is Phase.READY and self.classifier is not None:
            batcher = self.classifier.batcher
            return batcher is not None and batcher.healthy
        return True

    def readiness(self) -> tuple[bool, str]:
        """``(ready, why)``: the readiness probe's answer."""
        try:
            self.ready_classifier()
        except UnavailableError as error:
            return False, error.message
        return True, Phase.READY.value

    # -- admission -------------------------------------------------------------------------------------

    def admit(self) -> Admission:
        """One slot for a classify request, or the refusal (see the module docstring)."""
        if self.phase is Phase.DRAINING:
            self.metrics.rejected("draining")
        classifier = self.ready_classifier()
        if self.in_progress >= self.limit:
            self.metrics.rejected("concurrency")
            wait = self.retry_after_s()
            raise OverloadedError(
                f"{self.in_progress} requests in progress, the limit is {self.limit}; retry after {wait} s",
                retry_after_s=wait,
            )
        self.in_progress += 1
        self._idle.clear()
        return Admission(self, classifier)

    def retry_after_s(self) -> int:
        """Seconds until the requests in progress are done, at the recent completion rate (1-60)."""
        if len(self._finished) < 2:
            return retry_after(self.in_progress, None)
        rate = len(self._finished) / max(self._clock() - self._finished[0], 1e-3)
        return retry_after(self.in_progress, rate)

    def _release(self) -> None:
        self.in_progress -= 1
        self._finished.append(self._clock())
        if self.in_progress == 0:
            self._idle.set()
