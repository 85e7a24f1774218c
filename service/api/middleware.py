"""Pure-ASGI middlewares: request context (id, access log, request metrics), then guards that refuse a
request from its head alone, before its body is read: header size (431), requests in progress (429),
content type (415) and body size (413).

Pure ASGI rather than ``BaseHTTPMiddleware``: the body limit must stop reading a stream part-way, and
none may buffer responses or break client-disconnect detection.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_body
from service.api.schemas import MAX_REQUEST_ITEMS
from service.errors import ErrorDetail
from service.logs import REQUEST_ID
from service.metrics import ServiceMetrics

__all__ = [
    "BodyLimitMiddleware",
    "ConcurrencyLimitMiddleware",
    "HeaderLimitMiddleware",
    "RequestContextMiddleware",
]

access_logger = logging.getLogger("txclassify.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
#: A refused request keeps its connection if its unread body is at most this large.
_KEEP_ALIVE_UNREAD_BYTES = 64 * 1024


class RequestContextMiddleware:
    """Gives each request an id (``X-Request-Id`` in, or a new one; always echoed), times it, counts it
    in ``txclassify_request_seconds{route,status}`` and writes one access log line (never the body)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _SAFE_REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            route_label = getattr(route, "path", "unmatched")
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
                    "client_id": headers.get(b"x-client-id", b"").decode("latin-1")[:128] or None,
                },
            )
            REQUEST_ID.reset(token)


class HeaderLimitMiddleware:
    """Refuses requests whose headers take more than ``max_bytes`` in all with 431, naming the largest.

    uvicorn's default parser (httptools) accepts header values of any size: a 50 MB one was taken, at
    6 s of event-loop time (docs/hardening.md). This bounds what the app does with them; a proxy in
    front should bound the bytes read as well.
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
            await self.app(scope, receive, send)
            return
        name, value = max(headers, key=lambda header: len(header[1]))
        largest = name.decode("latin-1")[:64]
        payload = error_body(
            "headers_too_large",
            f"request headers take {total} bytes, over the limit of {self.max_bytes}; "
            f"the largest is {largest} ({len(value)} bytes)",
            [ErrorDetail(("header", largest), f"all headers together may take {self.max_bytes} bytes")],
        )
        await _send_error(send, 431, payload)


class ConcurrencyLimitMiddleware:
    """At most ``limit`` requests to ``paths`` in progress; more get 429 at once, before their body is read.

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
            # Keep the connection when the unread body is small (the parser skips it): under overload,
            # a new connection per refusal would cost the loop more than the refusal itself.
            declared = dict(scope.get("headers", [])).get(b"content-length", b"")
            keep_alive = declared.isdigit() and int(declared) <= _KEEP_ALIVE_UNREAD_BYTES
            await _send_error(send, 429, payload, headers, close=not keep_alive)
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


class BodyLimitMiddleware:
    """Guards request bodies before the app parses them. Refuses a body that is not JSON with 415 (by
    its content type, unread), and one over ``max_bytes`` with 413: by ``Content-Length`` when given,
    else by counting streamed bytes (reading stops at the limit). An accepted body is replayed to the
    app in one message. It also hands ``max_items`` to the request model, which refuses a longer
    transaction list (413) before validating a single item."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_items: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_items = max_items

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The request model counts transactions against this before validating them.
        MAX_REQUEST_ITEMS.set(self.max_items)
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if media_type != b"application/json" and not media_type.endswith(b"+json"):
            shown = media_type.decode("latin-1")[:100] or "none"
            await _send_error(
                send,
                415,
                error_body(
                    "unsupported_media_type",
                    f"content-type must be application/json, got {shown}",
                    [ErrorDetail(("header", "content-type"), "expected application/json")],
                ),
            )
            return
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send, size)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, size: int) -> None:
        payload = error_body(
            "too_large",
            f"request body of at least {size} bytes exceeds the limit of {self.max_bytes} bytes",
            [ErrorDetail(("body",), f"limit is {self.max_bytes} bytes")],
        )
        await _send_error(send, 413, payload)


async def _send_error(
    send: Send,
    status: int,
    payload: dict[str, Any],
    extra_headers: list[tuple[bytes, bytes]] | None = None,
    *,
    close: bool = True,
) -> None:
    content = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    if close:
        # Do not read (possibly megabytes of) a refused body just to keep the connection.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": content})
