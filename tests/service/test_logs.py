from __future__ import annotations

import json
import logging

from service.logs import REQUEST_ID, JsonFormatter


def record(message: str, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("txclassify.test", logging.INFO, __file__, 1, message, (), None)
    entry.__dict__.update(extra)
    return entry


def test_json_lines_carry_the_request_id_and_extras() -> None:
    token = REQUEST_ID.set("req-9")
    try:
        line = json.loads(JsonFormatter().format(record("hello", status=200)))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "req-9"
    assert line["status"] == 200
    assert line["level"] == "info"
    assert line["message"] == "hello"


def test_card_numbers_never_reach_a_log_line() -> None:
    line = JsonFormatter().format(record("card 4111111111111111 at shop", note="acct 12345678"))
    assert "4111111111111111" not in line
    assert "12345678" not in line
    assert json.loads(line)["message"] == "card # at shop"
