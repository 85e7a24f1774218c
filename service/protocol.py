"""uvicorn's httptools protocol with the limits a slow or silent client must not escape.

uvicorn bounds only the idle time *after* a response (``timeout_keep_alive``, and any byte cancels it).
A connection that never sends a request, a request whose headers trickle in a byte at a time
(slowloris), headers of unbounded size (httptools reads them all), and a client that never reads its
response were all kept open for good (docs/hardening.md, wave 2). This subclass adds, per connection:

- a **header timeout**: from the connection's start, and from the end of each response, the next
  request's headers must be complete within ``header_timeout_s`` (else 408 and close);
- a **header size bound** while reading, before the headers are complete (431 and close);
- a **write timeout**: once the transport's buffer is full, the client must read some of it within
  ``write_timeout_s``, else the connection is aborted, which frees the buffered response at once;
- a **connection bound**: past ``max_connections`` open connections, a new one is answered 429
  (Retry-After) and closed before anything is read from it;
- malformed HTTP gets the service's JSON error body (400), not uvicorn's plain text.

The request *body* timeout lives in the ASGI guard (``BodyLimitMiddleware``), which can answer it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.api.errors import render
from service.errors import (
    BadRequestError,
    HeadersTooLargeError,
    RequestTimeoutError,
    ServiceError,
    TooManyConnectionsError,
)

__all__ = ["ConnectionLimits", "GuardedHttpToolsProtocol", "protocol_factory"]

logger = logging.getLogger("txclassify.protocol")
#: Bytes of request line and framing allowed on top of the header limit before the read is cut.
_FRAMING_ALLOWANCE = 8 * 1024


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float
    write_timeout_s: float
    max_connections: int
    max_header_bytes: int


def _raw_response(error: ServiceError) -> bytes:
    """``error`` as raw HTTP/1.1 bytes, rendered by the one error renderer, then the connection closes."""
    rendered = render(error)
    head = "".join(f"{name}: {value}\r\n" for name, value in rendered.headers)
    return (
        f"HTTP/1.1 {rendered.status} {rendered.reason}\r\n{head}"
        f"content-length: {len(rendered.body)}\r\nconnection: close\r\n\r\n"
    ).encode("latin-1") + rendered.body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """One connection. ``limits`` is set on a subclass made by ``protocol_factory``."""

    limits: ConnectionLimits

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._header_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._reading_headers = True

    # -- connection ------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Counted before this one is added: at the bound, refuse without reading a byte.
        over = len(self.connections) >= self.limits.max_connections
        super().connection_made(transport)
        if over:
            logger.warning("connection refused: %d connections open", len(self.connections) - 1)
            # Overload, like every other refusal of work: 429 with Retry-After (issue 15), not 503.
            self._answer_and_close(
                TooManyConnectionsError("too many open connections; retry later", retry_after_s=1)
            )
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    # -- headers ---------------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        reading_headers = self._reading_headers
        super().data_received(data)
        # Counted after the parser ran: a chunk that completes the headers also carries body bytes.
        if reading_headers and self._reading_headers and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self.limits.max_header_bytes + _FRAMING_ALLOWANCE:
                self._answer_and_close(
                    HeadersTooLargeError(
                        f"request headers are over the limit of {self.limits.max_header_bytes} bytes"
                    )
                )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_headers = True
        if self._header_timer is None:
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._header_bytes = 0
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._reading_headers = True
            self._header_bytes = 0
            self._arm_header_timer()

    def send_400_response(self, msg: str) -> None:
        self._answer_and_close(BadRequestError(f"malformed HTTP request: {msg}"))

    # -- writing ---------------------------------------------------------------------------------------

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.limits.write_timeout_s, self._write_timed_out)

    def resume_writing(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        super().resume_writing()

    # -- timers ------------------------------------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.limits.header_timeout_s, self._header_timed_out)

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served; its own timeouts apply
        self._answer_and_close(
            RequestTimeoutError(f"no complete request headers within {self.limits.header_timeout_s:g} s")
        )

    def _write_timed_out(self) -> None:
        self._write_timer = None
        logger.warning("write timeout: the client read nothing for %g s", self.limits.write_timeout_s)
        # abort, not close: close would keep the unsent response buffered until the client reads.
        self.transport.abort()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._write_timer = None

    def _answer_and_close(self, error: ServiceError) -> None:
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.write(_raw_response(error))
            self.transport.close()


def protocol_factory(limits: ConnectionLimits) -> type[GuardedHttpToolsProtocol]:
    """A protocol class bound to ``limits`` (uvicorn builds one instance per connection)."""
    return type("BoundGuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
