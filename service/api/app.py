"""The FastAPI app factory: routes, error handlers, guards, and a lifespan that starts and stops the
runtime (``service/runtime.py``: load, warm up, serve, drain)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from service.api.auth import ApiKeyMiddleware, ApiKeys
from service.api.body import BodyLimitMiddleware
from service.api.docs import install_offline_docs
from service.api.errors import install_error_handlers
from service.api.feedback import router as feedback_router
from service.api.middleware import (
    AdmissionMiddleware,
    HeaderLimitMiddleware,
    RequestContextMiddleware,
)
from service.api.probes import ProbeHeadMiddleware
from service.api.routes import router
from service.api.schemas import bound_top_k
from service.classifier import Classifier
from service.errors import ConfigurationError
from service.memory import HeapTrimmer, MemoryBudget, estimate_request_bytes
from service.metrics import ServiceMetrics
from service.probe_server import Check, LoopHeartbeat
from service.runtime import Runtime
from service.settings import Settings

__all__ = ["create_app", "probe_checks", "runtime_of"]

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
    runtime = Runtime(settings, metrics)
    budget = MemoryBudget(settings.memory_budget_bytes)

    heartbeat = LoopHeartbeat()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start(classifier)
        beating = asyncio.create_task(heartbeat.run(), name="txclassify-heartbeat")
        try:
            yield
        finally:
            beating.cancel()
            await runtime.stop()

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
    app.state.runtime = runtime
    app.state.heartbeat = heartbeat
    app.state.memory_budget = budget
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # top_k's bound is the loaded bundle's label count (known once the lifespan has loaded it).
        document = generate_openapi()
        return (
            document
            if runtime.classifier is None
            else bound_top_k(document, len(runtime.classifier.bundle.labels))
        )

    app.openapi = openapi  # type: ignore[method-assign]
    app.include_router(router)
    app.include_router(feedback_router)
    install_error_handlers(app)
    # Added last = outermost. Request context first, so every response (every refusal included) carries
    # a request id and its arrival time; then the header limit; then the key check, so an
    # unauthenticated request reserves nothing and its body is never read; then the body guard (size,
    # memory budget, read timeout); innermost the runtime's admission (ready, requests in progress),
    # which therefore counts only requests whose body is in.
    app.add_middleware(AdmissionMiddleware, runtime=runtime)
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
    runtime = runtime_of(app)
    heartbeat: LoopHeartbeat = app.state.heartbeat
    stall_s = runtime.settings.loop_stall_s

    def loop_stalled() -> str | None:
        age = heartbeat.age_s()
        return f"the event loop has not run for {age:.1f} s" if age > stall_s else None

    def alive() -> tuple[bool, str]:
        stalled = loop_stalled()
        if stalled is not None:
            return False, stalled
        return (True, "ok") if runtime.healthy else (False, "the service is broken; restart it")

    def ready() -> tuple[bool, str]:
        stalled = loop_stalled()
        return (False, stalled) if stalled is not None else runtime.readiness()

    return alive, ready


def runtime_of(app: FastAPI) -> Runtime:
    """The app's runtime: its lifecycle and admission (``service/runtime.py``)."""
    runtime: Runtime = app.state.runtime
    return runtime
