"""``HEAD`` on the probe routes: answered as ``GET`` without a body (load balancers and some
monitors probe with ``HEAD``; the routes are declared for ``GET`` only, which made it 405)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["PROBE_PATHS", "ProbeHeadMiddleware"]

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class ProbeHeadMiddleware:
    """Routes ``HEAD /healthz`` and ``HEAD /readyz`` as ``GET``. The server still sees a ``HEAD``
    request and sends the status and headers only (uvicorn drops the body of a response to ``HEAD``)."""

    def __init__(self, app: ASGIApp, paths: frozenset[str] = PROBE_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD" or scope.get("path") not in self.paths:
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send)
        finally:
            if "route" in as_get:
                scope["route"] = as_get["route"]  # for the access log and request metrics
