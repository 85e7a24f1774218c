"""Fuzzing: schemathesis against the service's own OpenAPI schema, on a real server process.

At least 2,000 generated cases for ``POST /v1/classify`` (valid ones, and invalid ones that must be
refused with a 4xx), plus every other operation: no 5xx, every status code documented, every response
body and header as the schema says. Derandomised, so a CI failure reproduces; run the schemathesis CLI
for open-ended exploration (docs/hardening.md).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hardening.server import ServerProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CLASSIFY_CASES = 2_000
OTHER_CASES = 25


def _asked_for_a_tiny_deadline(case: schemathesis.Case[Any], response: schemathesis.Response) -> bool:
    headers = {name.lower(): value for name, value in (case.headers or {}).items()}
    try:
        deadline_ms = float(headers.get("x-request-timeout-ms", "inf"))
    except ValueError:
        return False
    return deadline_ms < 1_000 and json.loads(response.content)["error"]["code"] == "deadline_exceeded"


def _fuzz(schema: schemathesis.BaseSchema, path: str, method: str, examples: int, seen: Counter[str]) -> None:
    operation = schema[path][method]
    session = requests.Session()  # keep-alive: the cases, not connection set-up, take the time
    modes = st.sampled_from([schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        mode = data.draw(modes)
        case = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call(session=session, timeout=60)
        checks = CHECKS
        status = str(response.status_code)
        if response.status_code == 504 and _asked_for_a_tiny_deadline(case, response):
            # The caller asked for a deadline of a few ms and got the documented 504 for it.
            checks = [check for check in CHECKS if check is not not_a_server_error]
            status = "504-own-deadline"
        seen[f"{method} {path} {mode.value} {status}"] += 1
        case.validate_response(response, checks=checks)

    run()


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    with ServerProcess(server_env, tmp_path) as server:
        server.wait_ready()
        schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
        seen: Counter[str] = Counter()
        _fuzz(schema, "/v1/classify", "POST", CLASSIFY_CASES, seen)
        for path, method in (
            ("/v1/models", "GET"),
            ("/healthz", "GET"),
            ("/readyz", "GET"),
            ("/metrics", "GET"),
        ):
            _fuzz(schema, path, method, OTHER_CASES, seen)
        output = server.output()

    classify = sum(count for key, count in seen.items() if key.startswith("POST /v1/classify"))
    print(f"schemathesis {schemathesis.__version__}: {sum(seen.values())} cases", dict(sorted(seen.items())))
    assert classify >= CLASSIFY_CASES, f"only {classify} classify cases ran"
    assert not [key for key in seen if key.split()[-1] in {"500", "501", "502", "503", "504"}], seen
    assert "Traceback" not in output, output[-3000:]
