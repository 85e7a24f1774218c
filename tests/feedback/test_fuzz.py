"""Fuzzing ``POST /v1/feedback`` with schemathesis on a real server with a SQLite store: no 5xx, and
every response as the OpenAPI schema documents it (the same checks as tests/hardening/test_fuzz.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis

from tests.hardening.server import ServerProcess
from tests.hardening.test_fuzz import _fuzz

FEEDBACK_CASES = 300


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_in_feedback(
    server_env: dict[str, str], sqlite_dsn: str, tmp_path: Path
) -> None:
    with ServerProcess({**server_env, "TXC_FEEDBACK_DSN": sqlite_dsn}, tmp_path) as server:
        server.wait_ready()
        schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
        seen: Counter[str] = Counter()
        _fuzz(schema, "/v1/feedback", "POST", FEEDBACK_CASES, seen)
        output = server.output()
    print(f"schemathesis {schemathesis.__version__}: {sum(seen.values())} cases", dict(sorted(seen.items())))
    assert sum(seen.values()) >= FEEDBACK_CASES
    assert any(key.endswith(" 200") for key in seen), "no valid correction was generated"
    assert not [key for key in seen if key.split()[-1].startswith("5")], seen
    assert "Traceback" not in output, output[-3000:]
