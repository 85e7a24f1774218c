"""The server process's edge: what ``DrainingServer.serve`` sets up for the server's life only."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import pytest
import uvicorn

from service import Classifier
from service.api import create_app
from service.server import DrainingServer
from service.settings import Settings


def test_serve_applies_the_switch_interval_and_restores_it(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.defaults(switch_interval_ms=0.25)
    classifier = Classifier.load(tiny_bundle, settings)
    app = create_app(settings, classifier)
    server = DrainingServer(uvicorn.Config(app, lifespan="off"), app)
    seen: list[float] = []

    async def serve(self: uvicorn.Server, sockets: list[socket.socket] | None = None) -> None:
        seen.append(sys.getswitchinterval())

    monkeypatch.setattr(uvicorn.Server, "serve", serve)
    before = sys.getswitchinterval()
    asyncio.run(server.serve())
    assert seen == [pytest.approx(0.00025)]
    assert sys.getswitchinterval() == before


def test_the_switch_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="switch_interval_ms"):
        Settings.defaults(switch_interval_ms=0)
