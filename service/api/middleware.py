"""Pure-ASGI middlewares: request context (id, arrival time, access log, request metrics), the header
guard that refuses a request from its head alone (431, or 400 for a repeated singleton header), and
the limit on requests in progress (429), which sits inside the body guard (``service/api/body.py``)
so that a request counts only once its body is in.

Pure ASGI rather than ``BaseHTTPMiddleware``: none may buffer responses or break client-disconnect
detection.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections import deque
from collections.abc import Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_body
from service.api.replies import send_error
from service.errors import ErrorDetail
from service.logs import REQUEST_ID
from service.metrics import ServiceMetrics

__all__ = [
    "SINGLETON_HEADERS",
    "ConcurrencyLimitMiddleware",
    "HeaderLimitMiddleware",
    "RequestContextMiddleware",
    "arrived_at",
]

access_logger = logging.getLogger("txclassify.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
#: Headers the service reads one value of: a request that repeats one is refused (400), so that no two
#: layers can read different values of it.
SINGLETON_HEADERS = ("x-client-id", "x-request-id", "x-request-timeout-ms", "content-type", "content-length")
#: Status logged for a request whose client went away before it was answered (nginx's convention).
_CLIENT_GONE = 499


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
            payload = error_body(
                "bad_request",
                f"header {repeated} is given more than once; send it once",
                [ErrorDetail(("header", repeated), "repeated")],
            )
            await send_error(send, 400, payload)
            return
        name, value = max(headers, key=lambda header: len(header[1]))
        largest = name.decode("latin-1")[:64]
        payload = error_body(
            "headers_too_large",
            f"request headers take {total} bytes, over the limit of {self.max_bytes}; "
            f"the largest is {largest} ({len(value)} bytes)",
            [ErrorDetail(("header", largest), f"all headers together may take {self.max_bytes} bytes")],
        )
        await send_error(send, 431, payload)


def _repeated_singleton(headers: list[tuple[bytes, bytes]]) -> str | None:
    seen: set[bytes] = set()
    for name, _ in headers:
        if name.decode("latin-1") in SINGLETON_HEADERS:
            if name in seen:
                return name.decode("latin-1")
            seen.add(name)
    return None


class ConcurrencyLimitMiddleware:
    """At most ``limit`` requests to ``paths`` in progress; more get 429 at once. It runs inside the body
    guard, so a request counts once its body is in: a trickling upload holds no slot.

    The batcher admits by queued items, but a request also costs event-loop time before it reaches the
    queue (reading and parsing its body, validation, tokenisation) and after (its response). Offered
    more requests than that stage serves, one process shares its loop among all of them and every
    request slows down: at 3x capacity, p50 7 s and not one 429 before this limit (docs/hardening.md).
    Turning the excess away here keeps admitted latency near ``limit / throughput`` (Little's law).
    ``Retry-After`` is the time the requests in progress need at the recent completion rate (1-60 s).
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        metrics: ServiceMetrics,
        paths: frozenset[str] = frozenset({"/v1/classify"}),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limit = limit
        self.metrics = metrics
        self.paths = paths
        self.active = 0
        self._clock = clock
        # The last completions, to estimate the rate at which requests in progress finish.
        self._finished: deque[float] = deque(maxlen=256)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        if self.active >= self.limit:
            self.metrics.rejected("concurrency")
            retry_after = self.retry_after_s()
            payload = error_body(
                "overloaded",
                f"{self.active} requests in progress, the limit is {self.limit}; retry after {retry_after} s",
            )
            headers = [(b"retry-after", str(retry_after).encode())]
            # The body is already read, so the connection stays: under overload, a new connection per
            # refusal would cost the loop more than the refusal itself.
            await send_error(send, 429, payload, headers, close=False)
            return
        self.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= 1
            self._finished.append(self._clock())

    def retry_after_s(self) -> int:
        if len(self._finished) < 2:
            return 1
        rate = len(self._finished) / max(self._clock() - self._finished[0], 1e-3)
        return int(min(60, max(1, math.ceil(self.active / rate))))
