"""Optional API-key authentication: keys from env or a mounted secret file, one answer for every refusal.

Contract (the chart's Secret wires the file): ``TXC_API_KEYS`` (comma-separated) and/or
``TXC_API_KEYS_FILE`` (one key per line, ``#`` comments and blank lines ignored); no key configured means
no authentication. Clients send ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``. ``TXC_AUTH_OPEN_PATHS``
(comma-separated, default ``/healthz,/readyz,/metrics``) stay open for probes and scraping.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.hardening.inprocess import error_text, running_app, settings_for
from tests.hardening.server import ServerProcess

KEY_A = "txc-key-alpha-0123456789abcdef"
KEY_B = "txc-key-bravo-fedcba9876543210"
BODY = {"transactions": [{"id": "t1", "text": "STARBUCKS LONDON"}]}


async def test_no_key_configured_means_no_authentication(tiny_bundle: Path) -> None:
    async with running_app(settings_for(tiny_bundle)) as api:
        assert (await api.post("/v1/classify", json=BODY)).status_code == 200


async def test_keys_from_env_refuse_missing_and_wrong_keys_alike(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TXC_API_KEYS", f"{KEY_A}, {KEY_B}")
    async with running_app(settings_for(tiny_bundle)) as api:
        refusals = [
            await api.post("/v1/classify", json=BODY),
            await api.post("/v1/classify", json=BODY, headers={"authorization": "Bearer not-a-key"}),
            await api.post("/v1/classify", json=BODY, headers={"x-api-key": KEY_A[:-1]}),
            await api.post("/v1/classify", json=BODY, headers={"authorization": KEY_A}),  # no scheme
            await api.get("/v1/models", headers={"x-api-key": KEY_A + "x"}),
        ]
        accepted = [
            await api.post("/v1/classify", json=BODY, headers={"authorization": f"Bearer {KEY_A}"}),
            await api.post("/v1/classify", json=BODY, headers={"x-api-key": KEY_B}),
        ]

    for response in refusals:
        assert response.status_code == 401, response.text
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer")
        error_text(response)
        assert response.json()["error"]["details"] == [], "a refusal must not say why the key was refused"
    assert len({r.content for r in refusals}) == 1, "missing and wrong keys must get the same answer"
    assert [r.status_code for r in accepted] == [200, 200]


async def test_keys_from_a_mounted_secret_file(
    tiny_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "api-keys"
    secret.write_text(f"# rotated 2026-11-24\n{KEY_A}\n\n  {KEY_B}  \n")
    monkeypatch.setenv("TXC_API_KEYS_FILE", str(secret))
    async with running_app(settings_for(tiny_bundle)) as api:
        for key, status in ((KEY_A, 200), (KEY_B, 200), ("# rotated 2026-11-24", 401), ("", 401)):
            response = await api.post("/v1/classify", json=BODY, headers={"x-api-key": key})
            assert response.status_code == status, (key, response.text)


async def test_probe_and_scrape_paths_are_open_by_default_and_can_be_closed(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TXC_API_KEYS", KEY_A)
    async with running_app(settings_for(tiny_bundle)) as api:
        for path in ("/healthz", "/readyz", "/metrics"):
            assert (await api.get(path)).status_code == 200, path
        for path in ("/v1/models", "/openapi.json", "/docs"):
            assert (await api.get(path)).status_code == 401, path

    monkeypatch.setenv("TXC_AUTH_OPEN_PATHS", "/healthz,/readyz")
    async with running_app(settings_for(tiny_bundle)) as api:
        assert (await api.get("/readyz")).status_code == 200
        assert (await api.get("/metrics")).status_code == 401
        assert (await api.get("/metrics", headers={"x-api-key": KEY_A})).status_code == 200


async def test_unauthenticated_body_is_not_read(tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller without a key cannot make the server read (or parse) a large body."""
    monkeypatch.setenv("TXC_API_KEYS", KEY_A)
    chunks_read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal chunks_read
        for _ in range(64):
            chunks_read += 1
            yield b" " * 65_536

    async with running_app(settings_for(tiny_bundle)) as api:
        response = await api.post(
            "/v1/classify", content=body(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 401
    assert chunks_read <= 1, f"the server read {chunks_read} chunks of an unauthenticated body"


async def test_keys_are_compared_in_constant_time_against_every_key(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every configured key is compared with ``hmac.compare_digest``, even after a match, so neither the
    key's content nor its position in the list shows in the response time."""
    from service.api import auth

    calls: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(left: bytes, right: bytes) -> bool:
        calls.append((left, right))
        return compare_digest(left, right)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)  # type: ignore[attr-defined]
    monkeypatch.setenv("TXC_API_KEYS", f"{KEY_A},{KEY_B}")
    async with running_app(settings_for(tiny_bundle)) as api:
        for key, status in ((KEY_A, 200), (KEY_B, 200), ("wrong", 401)):
            calls.clear()
            response = await api.post("/v1/classify", json=BODY, headers={"x-api-key": key})
            assert response.status_code == status
            assert len(calls) == 2, f"{len(calls)} comparisons for 2 configured keys"
            assert {len(left) for left, _ in calls} == {len(right) for _, right in calls} == {32}, (
                "compare fixed-length digests, so a key's length does not show either"
            )


@pytest.mark.parametrize(
    ("secret", "problem"),
    [("missing", "not found|missing|no such|cannot"), ("empty", "no key|empty|no api key")],
)
def test_a_configured_but_unusable_key_file_stops_start_up(
    server_env: dict[str, str], tmp_path: Path, secret: str, problem: str
) -> None:
    """Fail closed: a configured secret that yields no keys must never start an open server."""
    path = tmp_path / "api-keys"
    if secret == "empty":
        path.write_text("# nothing here yet\n\n")
    with ServerProcess({**server_env, "TXC_API_KEYS_FILE": str(path)}, tmp_path) as server:
        code = server.wait_exit(60)
        output = server.output()
    assert code != 0, output
    assert "Traceback" not in output, output
    assert any(str(path) in line and re.search(problem, line, re.I) for line in output.splitlines()), output
