"""The one error table: every domain error has a status, the README and OpenAPI say what it says, and
one renderer answers for exception handlers, ASGI guards and the HTTP protocol alike."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import service.errors as domain
from service.api import create_app
from service.api.errors import ERROR_TABLE, openapi_responses, render, send_error, status_for
from service.errors import (
    ConfigurationError,
    ErrorDetail,
    InferenceError,
    OverloadedError,
    ServiceError,
    StoreUnavailableError,
    TooManyConnectionsError,
    UnauthorizedError,
    UnavailableError,
)
from service.protocol import _raw_response
from service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def _error_classes() -> list[type[ServiceError]]:
    found = [getattr(domain, name) for name in domain.__all__]
    return [kind for kind in found if isinstance(kind, type) and issubclass(kind, ServiceError)]


def test_every_error_the_service_sends_has_its_own_row() -> None:
    rows = {kind.error for kind in ERROR_TABLE}
    # ConfigurationError ends start-up with one line; it is never an answer.
    answers = [kind for kind in _error_classes() if kind is not ConfigurationError]
    missing = [kind.__name__ for kind in answers if kind not in rows]
    assert missing == []
    # A subclass's row must come before its parent's, or the parent's status would win.
    for position, kind in enumerate(ERROR_TABLE):
        earlier = ERROR_TABLE[:position]
        assert not any(issubclass(kind.error, row.error) for row in earlier), kind.error.__name__


def test_the_readme_table_is_the_error_table() -> None:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Errors") :]
    documented = set(re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", section, flags=re.MULTILINE))
    table = {(str(kind.status), kind.code) for kind in ERROR_TABLE}
    assert documented == table


def test_retry_after_goes_with_every_error_that_carries_it() -> None:
    for error in (
        OverloadedError("full", retry_after_s=7),
        TooManyConnectionsError("too many", retry_after_s=7),
        StoreUnavailableError("down", retry_after_s=7),
    ):
        assert ("retry-after", "7") in render(error).headers
    assert not any(name == "retry-after" for name, _ in render(UnavailableError("draining")).headers)


def test_the_body_names_code_message_and_details() -> None:
    rendered = render(OverloadedError("queue full", retry_after_s=2, details=[ErrorDetail(("a", 1), "b")]))
    assert rendered.status == 429
    details = [{"loc": ["a", 1], "message": "b"}]
    assert json.loads(rendered.body) == {
        "error": {"code": "overloaded", "message": "queue full", "details": details}
    }


def test_an_unexpected_5xx_names_the_request_id_and_an_expected_one_does_not() -> None:
    failed = render(InferenceError("batch failed"), request_id="req-9")
    assert json.loads(failed.body)["error"]["message"] == "batch failed (request id req-9)"
    assert ("x-request-id", "req-9") in failed.headers
    unavailable = render(UnavailableError("not ready"), request_id="req-9")
    assert json.loads(unavailable.body)["error"]["message"] == "not ready"
    assert status_for(ServiceError("anything else")) == 500


def test_a_401_says_how_to_authenticate() -> None:
    assert ("www-authenticate", 'Bearer realm="txclassify"') in render(UnauthorizedError("no key")).headers


async def test_an_asgi_guard_sends_what_the_renderer_renders() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    error = OverloadedError("memory budget in use", retry_after_s=1)
    await send_error(send, error, close=True)
    start, body = sent
    assert start["status"] == 429
    headers = dict(start["headers"])
    assert headers[b"retry-after"] == b"1"
    assert headers[b"connection"] == b"close"
    assert body["body"] == render(error).body


def test_the_protocol_answers_raw_http_with_the_same_rendering() -> None:
    error = TooManyConnectionsError("too many open connections; retry later", retry_after_s=1)
    raw = _raw_response(error)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
    assert b"retry-after: 1\r\n" in head
    assert body == render(error).body


def test_openapi_error_responses_come_from_the_table(tiny_bundle: Path) -> None:
    document = create_app(Settings(model_dir=tiny_bundle)).openapi()
    classify = document["paths"]["/v1/classify"]["post"]["responses"]
    documented = {int(status) for status in classify if status.isdigit() and int(status) >= 400}
    statuses = {kind.status for kind in ERROR_TABLE}
    assert documented <= statuses
    assert {401, 413, 415, 422, 429, 431, 500, 503, 504} <= documented
    assert classify["429"]["description"] == openapi_responses(429)[429]["description"]
    # Each route documents the errors it can raise: the feedback store's 503 only on /v1/feedback.
    assert "feedback store" not in classify["503"]["description"]
    feedback = document["paths"]["/v1/feedback"]["post"]["responses"]
    assert "feedback store" in feedback["503"]["description"]
    with pytest.raises(ValueError, match="not in ERROR_TABLE"):
        openapi_responses(418)
