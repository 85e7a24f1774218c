"""Logs: structured JSON with a request id, no request bodies, long digit runs masked everywhere.

A real server handles requests whose narrations and ids carry a marker word and card/account numbers,
including requests that fail validation (error paths are where bodies tend to leak into logs). Then its
whole output is read as a log collector would.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.hardening.server import ServerProcess

MARKER = "zebraquokka"
CARD = "4111111111111111"
ACCOUNT = "99887766554433"


@pytest.mark.slow
def test_logs_are_json_with_request_ids_and_never_hold_bodies_or_long_digit_runs(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**server_env, "TXC_JSON_LOGS": "true", "TXC_LOG_LEVEL": "debug"}
    with ServerProcess(env, tmp_path) as server:
        server.wait_ready()
        url = f"{server.base_url}/v1/classify"
        good = {"transactions": [{"id": f"acct-{ACCOUNT}", "text": f"POS {MARKER} CARD {CARD} LONDON"}]}
        invalid = {"transactions": [{"id": "a", "text": f"{MARKER} {CARD}" * 100}, {"id": "a", "text": ""}]}
        responses = [
            httpx.post(url, json=good, timeout=30),
            httpx.post(url, json=invalid, timeout=30),
            httpx.post(url, json={"transactions": [{"id": ACCOUNT, "text": 12345678901}]}, timeout=30),
            httpx.post(
                url,
                content=f"{MARKER} {CARD} not json".encode(),
                headers={"content-type": "application/json"},
            ),
            httpx.post(url, json=good, headers={"x-client-id": f"client-{ACCOUNT}"}, timeout=30),
            httpx.get(f"{server.base_url}/v1/models?account={ACCOUNT}", timeout=30),
        ]
        server.terminate()
        server.wait_exit(30)
        output = server.output()

    assert [r.status_code for r in responses][:3] == [200, 422, 422]
    assert MARKER not in output, "a request body (or a narration from it) reached the log"
    for digits in (CARD, ACCOUNT, CARD[:6], ACCOUNT[:6]):
        assert digits not in output, f"the digit run {digits} reached the log unmasked"

    records = []
    for line in output.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line that is not JSON: {line[:300]!r}")
    request_ids = {r.headers.get("x-request-id") for r in responses}
    assert None not in request_ids, "every response carries an X-Request-Id"
    logged_ids = {str(record.get("request_id")) for record in records}
    assert request_ids <= logged_ids, f"request ids missing from the log: {request_ids - logged_ids}"
