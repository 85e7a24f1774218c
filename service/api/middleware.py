"""Two pure-ASGI middlewares: request context (id, access log, request metrics) and the body size limit.

Pure ASGI rather than ``BaseHTTPMiddleware``: the body limit must stop reading a stream part-way, and
neither may buffer responses or break client-disconnect detection.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import error_body
from service.errors import ErrorDetail
from service.logs import REQUEST_ID
from service.metrics import ServiceMetrics

__all__ = ["BodyLimitMiddleware", "RequestContextMiddleware"]

access_logger = logging.getLogger("txclassify.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


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
            # Probes and scrapes arrive every few seconds from every pod: keep them out of INFO.
            level = logging.DEBUG if route_label in _QUIET_ROUTES and status < 400 else logging.INFO
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


class BodyLimitMiddleware:
    """Guards request bodies before the app parses them. Refuses a body that is not JSON with 415 (by
    its content type, unread), and one over ``max_bytes`` with 413: by ``Content-Length`` when given,
    else by counting streamed bytes (reading stops at the limit). An accepted body is replayed to the
    app in one message."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


async def _send_error(send: Send, status: int, payload: dict[str, Any]) -> None:
    content = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                # The unread rest of the body would otherwise be parsed as the next request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
