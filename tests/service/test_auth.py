"""API keys: off by default; when configured, every non-open path needs one, checked before the body."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.api.auth import ApiKeys
from service.errors import ConfigurationError
from service.settings import Settings
from tests.service.test_api import body, serving


async def test_keys_guard_everything_but_the_open_paths(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle, api_keys="alpha, bravo") as (_, client):
        missing = await client.post("/v1/classify", json=body("a"))
        wrong = await client.post("/v1/classify", json=body("a"), headers={"Authorization": "Bearer nope"})
        bearer = await client.post("/v1/classify", json=body("a"), headers={"Authorization": "Bearer alpha"})
        header = await client.get("/v1/models", headers={"X-API-Key": "bravo"})
        probes = [await client.get(path) for path in ("/healthz", "/readyz", "/metrics")]
    assert missing.status_code == wrong.status_code == 401
    assert missing.content == wrong.content
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "X-Request-Id" in missing.headers
    assert bearer.status_code == header.status_code == 200
    assert [probe.status_code for probe in probes] == [200, 200, 200]


def test_no_keys_means_no_authentication() -> None:
    assert ApiKeys.from_settings(Settings(api_keys=" , ")) is None


def test_key_file_comments_and_blank_lines_are_ignored(tmp_path: Path) -> None:
    secret = tmp_path / "keys"
    secret.write_text("# rotated\nalpha\n\n  bravo  \n")
    keys = ApiKeys.from_settings(Settings(api_keys_file=secret))
    assert keys is not None
    assert keys.accepts("alpha")
    assert keys.accepts("bravo")
    assert not keys.accepts("# rotated")
    assert not keys.accepts("")


@pytest.mark.parametrize(("content", "problem"), [(None, "not found"), ("# none yet\n", "no API key")])
def test_an_unusable_key_file_fails_closed(tmp_path: Path, content: str | None, problem: str) -> None:
    secret = tmp_path / "keys"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(ConfigurationError, match=problem) as error:
        ApiKeys.from_settings(Settings(api_keys_file=secret))
    assert str(secret) in str(error.value)
