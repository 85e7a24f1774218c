"""Pure-ASGI middlewares: request context (id, arrival time, access log, request metrics), the header
guard that refuses a request from its head alone (431, or 400 for a repeated singleton header), and
the admission guard (the runtime's door: 503 unless ready, 429 past the requests in progress), which
sits inside the body guard (``service/api/body.py``) so that a request counts only once its body is
in.

Pure ASGI rather than ``BaseHTTPMiddleware``: none may buffer responses or break client-disconnect
detection.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import send_error, status_for
from service.classifier import Classifier
from service.errors import (
    BadRequestError,
    ClientGoneError,
    ErrorDetail,
    HeadersTooLargeError,
    ServiceError,
    UnavailableError,
)
from service.logs import REQUEST_ID
from service.metrics import ServiceMetrics
from service.runtime import Runtime

__all__ = [
    "SINGLETON_HEADERS",
    "AdmissionMiddleware",
    "HeaderLimitMiddleware",
    "RequestContextMiddleware",
    "admitted_classifier",
    "arrived_at",
]

access_logger = logging.getLogger("txclassify.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
#: Headers the service reads one value of: a request that repeats one is refused (400), so that no two
#: layers can read different values of it.
SINGLETON_HEADERS = ("x-client-id", "x-request-id", "x-request-timeout-ms", "content-type", "content-length")
#: Status logged for a request whose client went away before it was answered (nginx's convention).
_CLIENT_GONE = status_for(ClientGoneError("client gone"))


def arrived_at(scope: Scope) -> float:
    """When the request's head arrived (``time.monotonic``), stamped by ``RequestContextMiddleware``;
    deadlines count from here, not from when the body was parsed."""
    stamped = scope.get("state", {}).get("arrived_at")
    return float(stamped) if stamped is not None else time.monotonic()


class RequestContextMiddleware:
    """Gives each request an id (``X-Request-Id`` in, or a new one; always echoed), stamps its arrival
    time, times it, counts it in ``txclassify_request_seconds{route,status}`` and writes one access log
    line (never the body). A request that was never answered because its client left is counted as
    499 under the route it was addressed to, not as ``unmatched`` 500."""

    def __init__(
        self, app: ASGIApp, metrics: ServiceMetrics, known_paths: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.known_paths = known_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)  # the first value of a repeated header, as the routes read it
        offered = headers.get("x-request-id", "")
        request_id = offered if _SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["arrived_at"] = time.monotonic()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal status
            nonlocal answered
            if message["type"] == "http.response.start":
                status = message["status"]
                answered = True
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if not answered and state.get("client_gone"):
                status = _CLIENT_GONE
            route_label = _route_label(scope, self.known_paths)
            self.metrics.request_finished(route_label, status, seconds)
            # Probes and scrapes arrive every few seconds from every pod, and overload refusals by the
            # thousand when it matters most: keep both out of INFO (metrics count them).
            quiet = (route_label in _QUIET_ROUTES and status < 400) or status == 429
            level = logging.DEBUG if quiet else logging.INFO
            access_logger.log(
                level,
                "%s %s %d",
                scope.get("method", "-"),
                route_label,
                status,
                extra={
                    "method": scope.get("method"),
                    "route": route_label,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "client_id": headers.get("x-client-id", "")[:128] or None,
                },
            )
            REQUEST_ID.reset(token)


def _route_label(scope: Scope, known_paths: frozenset[str]) -> str:
    """The matched route's path; for a request that ended before routing (its client left while
    sending the body), its path if that is one of the app's routes; else ``unmatched``."""
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", "unmatched"))
    path = scope.get("path")
    return path if path in known_paths else "unmatched"


class HeaderLimitMiddleware:
    """Refuses requests whose headers take more than ``max_bytes`` in all with 431, naming the largest,
    and requests that repeat one of ``SINGLETON_HEADERS`` with 400.

    uvicorn's default parser (httptools) accepts header values of any size: a 50 MB one was taken, at
    6 s of event-loop time (docs/hardening.md). The guarded protocol (``service/protocol.py``) now cuts
    the read soon after the limit; this check names the header.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        total = sum(len(name) + len(value) for name, value in headers)
        if total <= self.max_bytes:
            repeated = _repeated_singleton(headers)
            if repeated is None:
                await self.app(scope, receive, send)
                return
            error: ServiceError = BadRequestError(
                f"header {repeated} is given more than once; send it once",
                [ErrorDetail(("header", repeated), "repeated")],
            )
            await send_error(send, error)
            return
        name, value = max(headers, key=lambda header: len(header[1]))
        largest = name.decode("latin-1")[:64]
        error = HeadersTooLargeError(
            f"request headers take {total} bytes, over the limit of {self.max_bytes}; "
            f"the largest is {largest} ({len(value)} bytes)",
            [ErrorDetail(("header", largest), f"all headers together may take {self.max_bytes} bytes")],
        )
        await send_error(send, error)


def _repeated_singleton(headers: list[tuple[bytes, bytes]]) -> str | None:
    seen: set[bytes] = set()
    for name, _ in headers:
        if name.decode("latin-1") in SINGLETON_HEADERS:
            if name in seen:
                return name.decode("latin-1")
            seen.add(name)
    return None


class AdmissionMiddleware:
    """The door for classify work: each ``POST`` to ``paths`` is admitted by the runtime
    (``Runtime.admit``: 503 unless ready, 429 past the limit on requests in progress) and holds its slot
    until its response is done. The admitted classifier is left in ``scope["state"]["admitted"]`` for
    the route (``admitted_classifier``), so a drain that begins meanwhile cannot refuse a request
    already admitted. It runs inside the body guard, so a request counts once its body is in: a
    trickling upload holds no slot.

    The batcher admits by queued items, but a request also costs event-loop time before it reaches the
    queue (reading and parsing its body, validation, tokenisation) and after (its response). Offered
    more requests than that stage serves, one process shares its loop among all of them and every
    request slows down: at 3x capacity, p50 7 s and not one 429 before this limit (docs/hardening.md).
    Turning the excess away here keeps admitted latency near ``limit / throughput`` (Little's law).
    """

    def __init__(
        self, app: ASGIApp, runtime: Runtime, paths: frozenset[str] = frozenset({"/v1/classify"})
    ) -> None:
        self.app = app
        self.runtime = runtime
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        try:
            admission = self.runtime.admit()
        except ServiceError as refusal:
            # The body is already read, so the connection stays: under overload, a new connection per
            # refusal would cost the loop more than the refusal itself.
            await send_error(send, refusal, close=False)
            return
        with admission as classifier:
            scope.setdefault("state", {})[_ADMITTED] = classifier
            await self.app(scope, receive, send)


_ADMITTED = "admitted"


def admitted_classifier(scope: Scope) -> Classifier:
    """The classifier ``AdmissionMiddleware`` admitted this request to."""
    classifier = scope.get("state", {}).get(_ADMITTED)
    if not isinstance(classifier, Classifier):
        raise UnavailableError("the request was not admitted (no admission guard on this route)")
    return classifier
