"""Optional API-key authentication, checked before a request body is read.

Keys come from ``TXC_API_KEYS`` and/or the file ``TXC_API_KEYS_FILE`` (a mounted Secret). With none
configured, authentication is off. Clients send ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``.
The presented key and every configured key are compared as SHA-256 digests with
``hmac.compare_digest``, all of them every time, so neither a key's content, length nor position shows in
the response time. Every refusal gets the same 401 body, whatever was wrong.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from service.api.errors import send_error
from service.errors import ConfigurationError, UnauthorizedError
from service.settings import Settings

__all__ = ["ApiKeyMiddleware", "ApiKeys", "presented_key"]


@dataclass(frozen=True)
class ApiKeys:
    """SHA-256 digests of the accepted keys (the keys themselves are not kept)."""

    digests: tuple[bytes, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys | None:
        """The configured keys, or None when authentication is off.

        Raises ``ConfigurationError`` (one line naming the file) if a configured key file is missing,
        unreadable or holds no key: a secret that failed to mount must not start an open server.
        """
        keys = [key.strip() for key in (settings.api_keys or "").split(",") if key.strip()]
        if settings.api_keys_file is not None:
            keys += _read_key_file(settings.api_keys_file)
        if not keys:
            return None
        return cls(tuple(dict.fromkeys(_digest(key) for key in keys)))

    def accepts(self, presented: str) -> bool:
        candidate = _digest(presented)
        accepted = False
        for digest in self.digests:  # no early exit: the time does not depend on which key matched
            accepted |= hmac.compare_digest(candidate, digest)
        return accepted and bool(presented)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _read_key_file(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: API key file not found (TXC_API_KEYS_FILE)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path}: cannot read the API key file ({error})") from None
    keys = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise ConfigurationError(
            f"{path}: no API key in the file (TXC_API_KEYS_FILE); refusing to start open"
        )
    return keys


class ApiKeyMiddleware:
    """Refuses requests without a valid key (401) before anything reads their body."""

    def __init__(self, app: ASGIApp, keys: ApiKeys, open_paths: frozenset[str]) -> None:
        self.app = app
        self.keys = keys
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.open_paths or self._authorised(scope):
            await self.app(scope, receive, send)
            return
        await send_error(send, UnauthorizedError("missing or invalid API key"), close=False)

    def _authorised(self, scope: Scope) -> bool:
        return self.keys.accepts(presented_key(scope))


def presented_key(scope: Scope) -> str:
    """The key a request presents (``X-API-Key``, else ``Authorization: Bearer``); "" for none."""
    headers = dict(scope.get("headers", []))
    presented = headers.get(b"x-api-key")
    if presented is None:
        scheme, _, token = headers.get(b"authorization", b"").partition(b" ")
        presented = token.strip() if scheme.lower() == b"bearer" else b""
    return presented.decode("latin-1")
