"""The one way the ASGI guards answer a refusal: the JSON error body, sent before the app runs."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Send

__all__ = ["send_error"]


async def send_error(
    send: Send,
    status: int,
    payload: dict[str, Any],
    extra_headers: list[tuple[bytes, bytes]] | None = None,
    *,
    close: bool = True,
) -> None:
    """Send ``payload`` (an ``error_body``) with ``status``; ``close`` ends the connection after it
    (for a request whose unread body must not be read)."""
    content = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
    await send({"type": "http.response.body", "body": content})
