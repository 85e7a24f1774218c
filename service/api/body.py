"""The request-body guard: what a body may cost before the app sees it.

For a ``POST``: a body that is not JSON gets 415 and one over ``max_bytes`` 413 (by ``Content-Length``
when given, else counted while streaming). Then the request reserves its estimated peak memory from
the shared ``MemoryBudget`` (``service/memory.py``) *before* its body is stored: a request that does
not fit gets 429 with ``Retry-After``. The body must arrive within ``timeout_s`` (else 408), so a
trickling upload cannot hold a request slot: the requests-in-progress limit sits inside this guard
and counts a request only once its body is in. The reservation is released when the response is done.

Refusals of a body the client is still sending (415, 429) read and discard it first, up to
``max_bytes``: a client that writes its whole body before reading (urllib, requests) then gets the
answer, where closing with unread data made the kernel reset the connection under it.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import send_error
from service.api.schemas import MAX_REQUEST_ITEMS
from service.errors import (
    ErrorDetail,
    OverloadedError,
    RequestTimeoutError,
    ServiceError,
    TooLargeError,
    UnsupportedMediaTypeError,
)
from service.memory import HeapTrimmer, MemoryBudget, estimate_request_bytes
from service.metrics import ServiceMetrics

__all__ = ["BodyLimitMiddleware"]

#: The budget of a streamed body (no Content-Length) grows in steps of this many body bytes.
_STREAM_STEP = 256 * 1024


class _Refusal(Exception):
    """The body guard refuses the request with ``error``."""

    def __init__(self, error: ServiceError) -> None:
        super().__init__(error.message)
        self.error = error


class BodyLimitMiddleware:
    """Guards request bodies (see the module docstring). ``max_items`` goes to the request model,
    which refuses a longer transaction list (413) before validating a single item."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_items: int,
        timeout_s: float,
        budget: MemoryBudget,
        memory_factor: float,
        metrics: ServiceMetrics,
        trimmer: HeapTrimmer | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.timeout_s = timeout_s
        self.budget = budget
        self.memory_factor = memory_factor
        self.metrics = metrics
        self.trimmer = trimmer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        MAX_REQUEST_ITEMS.set(self.max_items)
        # Only POST takes a body here; other methods go on to routing (405 or 404, never 415).
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared_text = headers.get("content-length")
        declared = int(declared_text) if declared_text is not None and declared_text.isdigit() else None
        reservation = _Reservation(self)
        try:
            media_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json" and not media_type.endswith("+json"):
                raise _Refusal(_unsupported(media_type))
            if declared is not None and declared > self.max_bytes:
                raise _Refusal(self._too_large(declared))
            reservation.grow_to(declared or 0)
            body = await self._read(receive, reservation, streamed=declared is None)
        except _Refusal as refusal:
            reservation.release()
            await self._refuse(receive, send, refusal, declared)
            return
        except _Disconnected:
            reservation.release()
            scope.setdefault("state", {})["client_gone"] = True
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await self.app(scope, replay, send)
        finally:
            reservation.release()

    # -- reading -----------------------------------------------------------------------------------------

    async def _read(self, receive: Receive, reservation: _Reservation, *, streamed: bool) -> bytes:
        """The whole body, within ``timeout_s`` and ``max_bytes``; a streamed body's reservation grows
        with it in steps (429 once it no longer fits)."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _Refusal(self._too_large(size))
                    if streamed and size > reservation.body_bytes:
                        step = max(size, reservation.body_bytes + _STREAM_STEP)
                        reservation.grow_to(min(self.max_bytes, step))
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise _Refusal(
                RequestTimeoutError(
                    f"the request body did not arrive within {self.timeout_s:g} s ({size} bytes received)",
                    [ErrorDetail(("body",), f"send the whole body within {self.timeout_s:g} s")],
                )
            ) from None

    async def _refuse(self, receive: Receive, send: Send, refusal: _Refusal, declared: int | None) -> None:
        # Read and drop the rest of a body we may read (a refused 413 or 408 is not read further).
        readable = isinstance(refusal.error, UnsupportedMediaTypeError | OverloadedError)
        drain = readable and (declared is None or declared <= self.max_bytes)
        if drain and not await _discard_body(receive, self.max_bytes, self.timeout_s):
            drain = False
        await send_error(send, refusal.error, close=not drain)

    def _too_large(self, size: int) -> TooLargeError:
        return TooLargeError(
            f"request body of at least {size} bytes exceeds the limit of {self.max_bytes} bytes",
            [ErrorDetail(("body",), f"limit is {self.max_bytes} bytes")],
        )


class _Reservation:
    """One request's share of the budget: its estimate for ``body_bytes``, grown as needed."""

    def __init__(self, guard: BodyLimitMiddleware) -> None:
        self._guard = guard
        self.body_bytes = 0
        self.nbytes = 0

    def grow_to(self, body_bytes: int) -> None:
        """Reserve the estimate for a body of ``body_bytes``; refuses with 429 when it does not fit."""
        guard = self._guard
        wanted = estimate_request_bytes(body_bytes, guard.memory_factor)
        if wanted > self.nbytes and not guard.budget.try_reserve(wanted - self.nbytes):
            guard.metrics.rejected("memory")
            budget = guard.budget
            message = (
                f"memory budget in use: {budget.reserved_bytes >> 20} of {budget.limit_bytes >> 20} MiB "
                f"reserved by requests in flight, this one needs {wanted >> 20} MiB; retry after 1 s"
            )
            raise _Refusal(OverloadedError(message, retry_after_s=1))
        self.nbytes = max(self.nbytes, wanted)
        self.body_bytes = max(self.body_bytes, body_bytes)

    def release(self) -> None:
        if self.nbytes:
            self._guard.budget.release(self.nbytes)
            if self._guard.trimmer is not None:
                self._guard.trimmer.released(self.nbytes)
            self.nbytes = 0


class _Disconnected(Exception):
    """The client went away while sending its body."""


async def _discard_body(receive: Receive, limit: int, timeout_s: float) -> bool:
    """Read the rest of the body and drop it; True once it ended within ``limit`` bytes and ``timeout_s``."""
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return False
                size += len(message.get("body", b""))
                if size > limit:
                    return False
                if not message.get("more_body", False):
                    return True
    except TimeoutError:
        return False


def _unsupported(media_type: str) -> UnsupportedMediaTypeError:
    shown = media_type[:100] or "none"
    return UnsupportedMediaTypeError(
        f"content-type must be application/json, got {shown}",
        [ErrorDetail(("header", "content-type"), "expected application/json")],
    )
