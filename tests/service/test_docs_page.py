"""/docs and /redoc work offline: every asset they load is served by the app itself."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from service.api import create_app
from service.api.docs import ASSETS_PATH, assets_directory
from service.settings import Settings


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_nothing_from_another_host(tiny_bundle: Path, page: str) -> None:
    app = create_app(Settings(model_dir=tiny_bundle))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            html = await client.get(page)
            assert html.status_code == 200
            sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
            assert sources, html.text
            assert all(source.startswith("/") for source in sources), sources
            for source in sources:
                asset = await client.get(source)
                assert asset.status_code == 200, source
                assert asset.content
            spec = await client.get("/openapi.json")
            assert spec.status_code == 200
            assert "/docs" not in spec.json()["paths"]


def test_the_installed_package_ships_every_asset() -> None:
    names = {path.name for path in assets_directory().iterdir()}
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"} <= names
    assert ASSETS_PATH.startswith("/docs/")
