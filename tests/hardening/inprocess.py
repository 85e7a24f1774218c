"""The real app in-process: ``create_app(settings)`` with its lifespan run, reached through httpx.

Faithful for everything above the socket: routing, middleware, validation, the batcher and ONNX Runtime
all run for real; only uvicorn's HTTP parser is skipped (tests that need it start a real process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from service.api import create_app
from service.settings import Settings

__all__ = ["error_text", "running", "running_app", "settings_for"]


def settings_for(bundle: Path, **overrides: Any) -> Settings:
    """Settings for the tiny bundle; ``overrides`` are ``Settings`` field names."""
    fields: dict[str, Any] = {"model_dir": bundle, "intra_op_threads": 1, **overrides}
    return Settings(**fields)


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app after start-up (bundle loaded, warm-up done) and a client for it; shut down on exit.

    ``raise_app_exceptions=False``: an unhandled error reaches the test as the 500 a client would see.
    """
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            yield app, client


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Just the client of ``running``."""
    async with running(settings) as (_, client):
        yield client


def error_text(response: httpx.Response) -> str:
    """The error body's code, message and details as one string; fails if the body is not the error shape."""
    body = response.json()
    assert set(body) == {"error"}, f"error bodies are {{'error': {{...}}}}, got {body!r}"
    error = body["error"]
    for key in ("code", "message"):
        assert isinstance(error.get(key), str), f"error without a {key}: {body!r}"
        assert error[key], f"error with an empty {key}: {body!r}"
    return f"{error['code']} {error['message']} {error.get('details', '')}"
