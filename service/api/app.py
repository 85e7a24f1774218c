"""The FastAPI app factory and its lifespan: load, warm up, serve, drain."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.responses import Response

from service.api.auth import ApiKeyMiddleware, ApiKeys
from service.api.body import BodyLimitMiddleware
from service.api.docs import install_offline_docs
from service.api.errors import install_error_handlers
from service.api.feedback import router as feedback_router
from service.api.middleware import (
    ConcurrencyLimitMiddleware,
    HeaderLimitMiddleware,
    RequestContextMiddleware,
)
from service.api.probes import ProbeHeadMiddleware
from service.api.routes import ClientDisconnectedError, router
from service.api.schemas import bound_top_k
from service.api.state import AppState, Phase
from service.classifier import Classifier
from service.errors import ConfigurationError, UnavailableError
from service.memory import HeapTrimmer, MemoryBudget, estimate_request_bytes
from service.metrics import ServiceMetrics
from service.probe_server import Check, LoopHeartbeat
from service.production import ProductionLoop
from service.settings import Settings

__all__ = ["abandon_admitted_work", "create_app", "probe_checks", "start_draining", "wait_until_idle"]

logger = logging.getLogger("txclassify.app")


def create_app(settings: Settings | None = None, classifier: Classifier | None = None) -> FastAPI:
    """A new app with its own metrics registry. The model loads in the lifespan, not here, unless
    ``classifier`` is one already loaded and warmed up: ``txclassify serve`` does that before binding
    the port, so a model that cannot serve ends the process with one clear line, not a traceback."""
    settings = settings or Settings()
    api_keys = ApiKeys.from_settings(settings)  # fails closed on an unusable key file
    largest = estimate_request_bytes(settings.max_body_bytes, settings.request_memory_factor)
    if largest > settings.memory_budget_bytes:
        raise ConfigurationError(
            f"TXC_MEMORY_BUDGET_MB={settings.memory_budget_mb} cannot hold one largest request "
            f"({largest / 2**20:.0f} MiB: TXC_MAX_BODY_BYTES x TXC_REQUEST_MEMORY_FACTOR)"
        )
    metrics = ServiceMetrics()
    state = AppState(settings=settings, metrics=metrics)
    budget = MemoryBudget(settings.memory_budget_bytes)

    heartbeat = LoopHeartbeat()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _start(state, classifier)
        beating = asyncio.create_task(heartbeat.run(), name="txclassify-heartbeat")
        try:
            yield
        finally:
            beating.cancel()
            await _stop(state)

    app = FastAPI(
        title="txclassify",
        summary="Classifies bank-transaction narrations into the served model's categories (GET /v1/models).",
        version="1.0",
        lifespan=lifespan,
        # No redirect from /readyz/ to /readyz: it was built from the client's Host header.
        redirect_slashes=False,
        docs_url=None,  # served offline by install_offline_docs (service/api/docs.py)
        redoc_url=None,
    )
    install_offline_docs(app)
    app.state.txc = state
    app.state.heartbeat = heartbeat
    app.state.memory_budget = budget
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # top_k's bound is the loaded bundle's label count (known once the lifespan has loaded it).
        document = generate_openapi()
        return (
            document
            if state.classifier is None
            else bound_top_k(document, len(state.classifier.bundle.labels))
        )

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(router)
    app.include_router(feedback_router)
    install_error_handlers(app)
    app.add_exception_handler(ClientDisconnectedError, _client_gone)
    # Added last = outermost. Request context first, so every response (every refusal included) carries
    # a request id and its arrival time; then the header limit; then the key check, so an
    # unauthenticated request reserves nothing and its body is never read; then the body guard (size,
    # memory budget, read timeout); innermost the limit on requests in progress, which therefore
    # counts only requests whose body is in.
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.max_concurrent_requests, metrics=metrics)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        max_items=settings.max_request_items,
        timeout_s=settings.body_timeout_s,
        budget=budget,
        memory_factor=settings.request_memory_factor,
        metrics=metrics,
        trimmer=HeapTrimmer(budget),
    )
    if api_keys is not None:
        open_paths = frozenset(path.strip() for path in settings.auth_open_paths.split(",") if path.strip())
        app.add_middleware(ApiKeyMiddleware, keys=api_keys, open_paths=open_paths)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=settings.max_header_bytes)
    app.add_middleware(ProbeHeadMiddleware)
    # The routes' paths label requests that end before routing (an upload the client abandoned).
    app.add_middleware(
        RequestContextMiddleware, metrics=metrics, known_paths=frozenset(app.openapi()["paths"])
    )
    return app


def probe_checks(app: FastAPI) -> tuple[Check, Check]:
    """(liveness, readiness) for the probe port: the main port's rules, read from another thread, and
    both failing once the event loop has stalled for ``loop_stall_s``."""
    state: AppState = app.state.txc
    heartbeat: LoopHeartbeat = app.state.heartbeat
    stall_s = state.settings.loop_stall_s

    def loop_stalled() -> str | None:
        age = heartbeat.age_s()
        return f"the event loop has not run for {age:.1f} s" if age > stall_s else None

    def alive() -> tuple[bool, str]:
        stalled = loop_stalled()
        if stalled is not None:
            return False, stalled
        return (True, "ok") if state.alive else (False, "the service is broken; restart it")

    def ready() -> tuple[bool, str]:
        stalled = loop_stalled()
        if stalled is not None:
            return False, stalled
        try:
            state.ready_classifier()
        except UnavailableError as error:
            return False, error.message
        return True, Phase.READY.value

    return alive, ready


def start_draining(app: FastAPI) -> None:
    """Readiness turns 503 and new requests are refused; admitted work goes on. Called on SIGTERM."""
    state: AppState = app.state.txc
    if state.phase is Phase.READY:
        state.phase = Phase.DRAINING
        logger.info("draining: refusing new work, finishing admitted work")


async def wait_until_idle(app: FastAPI, timeout_s: float) -> bool:
    """Wait until no classify request is in progress and the batcher is empty; False on timeout."""
    state: AppState = app.state.txc
    deadline = time.monotonic() + timeout_s
    while True:
        batcher = state.classifier.batcher if state.classifier is not None else None
        busy = batcher is not None and (batcher.queued_items > 0 or batcher.inflight_items > 0)
        if state.active_requests == 0 and not busy:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)  # polled: the drain runs once per process, not per request


async def abandon_admitted_work(app: FastAPI) -> None:
    """End a drain whose grace period ran out: queued work fails now with 503 (retry elsewhere), so its
    callers get an answer instead of a connection cut when the process exits."""
    state: AppState = app.state.txc
    batcher = state.classifier.batcher if state.classifier is not None else None
    if batcher is not None:
        await batcher.stop(
            UnavailableError(
                "shutting down: the grace period ended before this request finished; retry on another replica"
            )
        )


async def _start(state: AppState, preloaded: Classifier | None) -> None:
    settings = state.settings
    try:
        classifier = preloaded
        if classifier is None:
            classifier = await asyncio.to_thread(Classifier.load, settings.model_dir, settings)
            await asyncio.to_thread(classifier.warm_up)
        classifier.set_observer(state.metrics)
        await classifier.start()
        state.production = await ProductionLoop.start(settings, classifier, state.metrics)
    except Exception:
        state.phase = Phase.FAILED
        raise
    batcher = classifier.batcher
    assert batcher is not None
    state.metrics.bind_queue(
        lambda: batcher.queued_items, lambda: batcher.inflight_items, batcher.oldest_queued_age
    )
    state.metrics.bind_model_seconds(lambda: dict(batcher.model_seconds))
    state.metrics.set_model(classifier.bundle.name, classifier.bundle.version)
    state.classifier = classifier
    state.phase = Phase.READY
    logger.info(
        "ready",
        extra={
            "model": classifier.bundle.name,
            "version": classifier.bundle.version,
            "path": str(classifier.bundle.path),
        },
    )


async def _stop(state: AppState) -> None:
    if state.phase is not Phase.FAILED:
        state.phase = Phase.DRAINING
    if state.classifier is None:
        return
    try:
        await asyncio.wait_for(state.classifier.drain(), timeout=max(state.settings.graceful_timeout_s, 0.1))
    except TimeoutError:
        logger.error("drain timed out; stopping with work still queued")
        batcher = state.classifier.batcher
        if batcher is not None:
            await batcher.stop()
    if state.production is not None:
        await state.production.stop()


async def _client_gone(request: object, error: Exception) -> Response:
    # Status 499 (nginx's "client closed request"): nobody reads it, but logs and metrics show it.
    return Response(status_code=499)
