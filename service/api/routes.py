"""The routes: validate, make one call, return a schema. Errors are raised as domain errors."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.api.errors import openapi_responses
from service.api.lean_route import LeanRoute
from service.api.middleware import admitted_classifier, arrived_at
from service.api.responses import classify_response
from service.api.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    InputsOut,
    ModelInfo,
    ModelsResponse,
    StatusResponse,
)
from service.errors import (
    ClientGoneError,
    ErrorDetail,
    InvalidInputError,
    StoreUnavailableError,
    TooLargeError,
    UnavailableError,
)
from service.runtime import Phase, Runtime

__all__ = ["router"]

T = TypeVar("T")
router = APIRouter()


async def _runtime(request: Request) -> Runtime:
    # async: FastAPI runs a plain ``def`` dependency in its thread pool, one hand-off per request
    # (py-spy: a fifth of a one-transaction request's samples, docs/profiling.md).
    runtime: Runtime = request.app.state.runtime
    return runtime


State = Annotated[Runtime, Depends(_runtime)]
# The feedback store's 503 is the feedback route's alone.
_ERRORS = openapi_responses(401, 408, 413, 415, 422, 429, 431, 500, 503, 504, exclude=[StoreUnavailableError])
_UNAVAILABLE = openapi_responses(503, exclude=[StoreUnavailableError])


async def classify(
    body: ClassifyRequest,
    request: Request,
    state: State,
    x_client_id: Annotated[str | None, Header(max_length=128)] = None,
    x_request_timeout_ms: Annotated[
        float | None,
        Header(
            gt=0,
            allow_inf_nan=False,
            description="This request's deadline in ms (capped at the server's maximum).",
        ),
    ] = None,
    x_request_priority: Annotated[
        Literal["interactive", "bulk"] | None,
        Header(
            description="`interactive`: served first, in batches cut to the latency budget; `bulk`: "
            "not. Default: by size (at most TXC_INTERACTIVE_MAX_ITEMS transactions is interactive). "
            "Answers never depend on it.",
        ),
    ] = None,
) -> Response:
    """Classify 1 to 5,000 transactions; results come back in request order.

    Each transaction may say its `direction` (`"debit"` or `"credit"`); a model reads it only when
    GET /v1/models reports `inputs.direction` true. The same text and direction always get the same
    answer, whatever else is in the request.
    """
    classifier = admitted_classifier(request.scope)  # admitted (and counted) by AdmissionMiddleware
    settings = state.settings
    if len(body.transactions) > settings.max_request_items:
        raise TooLargeError(
            f"{len(body.transactions)} transactions; at most {settings.max_request_items} per request",
            [ErrorDetail(("transactions",), f"at most {settings.max_request_items} items")],
        )
    labels = len(classifier.bundle.labels)
    if body.top_k > labels:
        raise InvalidInputError(
            f"top_k {body.top_k} exceeds the model's {labels} labels",
            [ErrorDetail(("top_k",), f"must be between 1 and {labels}")],
        )
    timeout_s = _timeout_s(x_request_timeout_ms, settings.request_timeout_ms, settings.max_request_timeout_ms)
    # The deadline counts from the request's arrival: reading and parsing its body took part of it.
    timeout_s -= time.monotonic() - arrived_at(request.scope)
    texts = [transaction["text"] for transaction in body.transactions]
    directions = [transaction.get("direction") for transaction in body.transactions]
    try:
        outcome = await _unless_disconnected(
            request,
            classifier.aclassify_with_timings(
                texts,
                directions=directions,
                client_id=x_client_id,
                timeout_s=timeout_s,
                interactive=None if x_request_priority is None else x_request_priority == "interactive",
            ),
        )
    except InvalidInputError as error:
        raise InvalidInputError(
            error.message, [_transaction_loc(detail) for detail in error.details]
        ) from None
    if state.production is not None:
        state.production.served(texts, directions, outcome.predictions)
    headers = {
        "X-Queue-Time-Ms": f"{outcome.queue_seconds * 1000:.3f}",
        "X-Inference-Time-Ms": f"{outcome.inference_seconds * 1000:.3f}",
    }
    # Built as plain JSON, not through the response model (5,000 results x top_k validated pydantic
    # objects cost more CPU than the model itself), and off the event loop (service/api/responses.py).
    return await classify_response(
        classifier.bundle.name,
        classifier.bundle.version,
        [transaction["id"] for transaction in body.transactions],
        outcome.predictions,
        body.top_k,
        headers,
    )


# The hot route's parameters are solved by LeanRoute, not by FastAPI's general handler: a fifth of a
# one-transaction request's loop samples went there (service/api/lean_route.py, docs/profiling.md).
router.add_api_route(
    "/v1/classify",
    classify,
    methods=["POST"],
    response_model=ClassifyResponse,
    responses=_ERRORS,
    tags=["classify"],
    route_class_override=LeanRoute,
)

_TRANSACTION_FIELDS = {"texts": "text", "directions": "direction"}


def _transaction_loc(detail: ErrorDetail) -> ErrorDetail:
    """The classifier's ``("texts", i)`` / ``("directions", i)`` as the request's path."""
    if len(detail.loc) == 2 and detail.loc[0] in _TRANSACTION_FIELDS:
        field = _TRANSACTION_FIELDS[str(detail.loc[0])]
        return ErrorDetail(("transactions", detail.loc[1], field), detail.message)
    return detail


@router.get("/v1/models", response_model=ModelsResponse, responses=_UNAVAILABLE, tags=["models"])
async def models(state: State) -> ModelsResponse:
    """The loaded bundle, what its model reads (`inputs`) and its model card."""
    if state.classifier is None:
        raise UnavailableError("no model loaded yet")
    bundle = state.classifier.bundle
    info = ModelInfo(
        name=bundle.name,
        version=bundle.version,
        labels=list(bundle.labels),
        max_seq_len=bundle.max_seq_len,
        abstain_threshold=bundle.abstain_threshold,
        normalization=bundle.normalization,
        inputs=InputsOut.model_validate(bundle.inputs.as_card()),
        card=dict(bundle.card),
    )
    return ModelsResponse(models=[info])


@router.get("/healthz", response_model=StatusResponse, responses=_UNAVAILABLE, tags=["probes"])
async def healthz(state: State) -> StatusResponse:
    """Liveness: fails only when this process cannot recover (start-up failed, batch loop died)."""
    if not state.healthy:
        raise UnavailableError("the service is broken; restart it")
    return StatusResponse(status="ok")


@router.get("/readyz", response_model=StatusResponse, responses=_UNAVAILABLE, tags=["probes"])
async def readyz(state: State) -> StatusResponse:
    """Readiness: 200 only after the model is loaded and warmed up, 503 while starting or draining."""
    state.ready_classifier()
    return StatusResponse(status=Phase.READY.value)


@router.get("/metrics", tags=["probes"], response_class=Response)
async def metrics(state: State) -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _timeout_s(header_ms: float | None, default_ms: float, max_ms: float) -> float:
    """The request's deadline in seconds: the header (a finite number > 0, by its declaration) or the
    default, capped at ``max_ms``."""
    return min(default_ms if header_ms is None else header_ms, max_ms) / 1000.0


async def _unless_disconnected(request: Request, work: Awaitable[T]) -> T:
    """Await ``work``; if the client disconnects first, cancel it (its queued items are withdrawn)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise ClientGoneError("client disconnected before the results were ready")
    return task.result()


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
