"""A catalogue of hostile requests: each gets a 4xx whose message names the problem, never a 5xx.

Some entries are odd but valid (emoji, right-to-left scripts, NUL bytes inside a narration): those must be
classified (200, one well-formed result per item), because rejecting a real customer's statement is a bug
too. Everything runs against the real app and the real tiny ONNX bundle, in-process.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.hardening.inprocess import error_text, running_app, settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = {"content-type": "application/json"}


def _body(*texts: str, **extra: object) -> dict[str, object]:
    return {"transactions": [{"id": f"t{i}", "text": text} for i, text in enumerate(texts)], **extra}


def _encoded(document: object) -> bytes:
    return json.dumps(document).encode()


def _with_bad_item(bad: dict[str, object]) -> bytes:
    """Two good items, then the bad one at index 2 (id ``bad-item`` unless the case replaces it)."""
    items: list[dict[str, object]] = [{"id": "a", "text": "TESCO STORES"}, {"id": "b", "text": "SHELL FUEL"}]
    return _encoded({"transactions": [*items, {"id": "bad-item", **bad}]})


def _nested(depth: int) -> bytes:
    return b'{"transactions": ' + b"[" * depth + b"]" * depth + b"}"


@dataclass(frozen=True)
class Hostile:
    name: str
    content: bytes
    #: Statuses that are a correct answer.
    statuses: frozenset[int]
    #: What the error (code, message, details) must say, as a case-insensitive regular expression.
    names: str
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))


_ITEM = r"(\b2\b|bad-item)"  # the bad item is named by its index or its id
_TOO_LONG = r"(long|at most|max|exceed|characters|chars|512)"

CATALOGUE = [
    Hostile("not JSON", b"this is not json", frozenset({400, 422}), r"json"),
    Hostile("truncated JSON", b'{"transactions": [{"id": "a", "text": "TES', frozenset({400, 422}), r"json"),
    Hostile(
        "raw NUL byte in JSON",
        b'{"transactions": [{"id": "a", "text": "A\x00B"}]}',
        frozenset({400, 422}),
        r"json|control",
    ),
    Hostile("JSON array body", b'[{"id": "a", "text": "TESCO"}]', frozenset({422}), r"object|dict|body"),
    Hostile("JSON null body", b"null", frozenset({400, 422}), r"object|dict|body|required|missing"),
    Hostile(
        "wrong content type",
        _encoded(_body("TESCO")),
        frozenset({415}),
        r"content.type|application/json",
        headers={"content-type": "text/plain"},
    ),
    Hostile(
        "form content type",
        b"transactions=TESCO",
        frozenset({415}),
        r"content.type|application/json",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ),
    Hostile(
        "invalid UTF-8",
        b'{"transactions": [{"id": "a", "text": "caf\xe9 \xff\xfe"}]}',
        frozenset({400, 422}),
        r"utf-?8|encod|decod",
    ),
    Hostile("missing transactions", _encoded({"top_k": 1}), frozenset({422}), r"transactions"),
    Hostile(
        "empty list", _encoded({"transactions": []}), frozenset({422}), r"transactions.*(at least|empty|1)"
    ),
    Hostile(
        "5,001 transactions",
        _encoded(_body(*["TESCO STORES"] * 5001)),
        frozenset({413}),
        r"5,?000|5,?001|too many|transactions",
    ),
    Hostile(
        "130,000 tiny transactions under the body limit",
        _encoded({"transactions": [{"id": str(i), "text": "a"} for i in range(130_000)]}),
        frozenset({413}),
        r"130,?000.*5,?000",
    ),
    Hostile("empty text", _with_bad_item({"text": ""}), frozenset({422}), _ITEM + r".*(text|empty)"),
    Hostile(
        "whitespace text",
        _with_bad_item({"text": "  \t\n  "}),
        frozenset({422}),
        _ITEM + r".*(text|empty|blank|whitespace)",
    ),
    Hostile(
        "only control characters",
        _with_bad_item({"text": "\u0000\u0007\u001b"}),
        frozenset({422}),
        _ITEM + r".*(text|empty|blank)",
    ),
    Hostile(
        "10,000-char text", _with_bad_item({"text": "A" * 10_000}), frozenset({422}), _ITEM + ".*" + _TOO_LONG
    ),
    Hostile(
        "duplicate ids",
        _encoded({"transactions": [{"id": "dup", "text": "A"}, {"id": "dup", "text": "B"}]}),
        frozenset({422}),
        r"\bdup\b.*(duplicate|repeat|unique)",
    ),
    Hostile("empty id", _with_bad_item({"id": "", "text": "TESCO"}), frozenset({422}), r"\bid\b"),
    Hostile(
        "129-char id",
        _with_bad_item({"id": "i" * 129, "text": "TESCO"}),
        frozenset({422}),
        r"\bid\b.*" + _TOO_LONG + r"|128",
    ),
    Hostile("missing text", _with_bad_item({}), frozenset({422}), _ITEM + r".*text"),
    Hostile("text is a number", _with_bad_item({"text": 42}), frozenset({422}), _ITEM + r".*(text|string)"),
    Hostile(
        "text is a list", _with_bad_item({"text": ["TESCO"]}), frozenset({422}), _ITEM + r".*(text|string)"
    ),
    Hostile(
        "id is an object", _with_bad_item({"id": {"x": 1}, "text": "TESCO"}), frozenset({422}), r"\bid\b"
    ),
    Hostile(
        "transactions is an object",
        _encoded({"transactions": {"id": "a", "text": "T"}}),
        frozenset({422}),
        r"transactions.*(list|array)",
    ),
    Hostile(
        "transaction is a string",
        _encoded({"transactions": ["TESCO"]}),
        frozenset({422}),
        r"transactions.*(object|dict)",
    ),
    Hostile(
        "deep nesting (1,000)", _nested(1_000), frozenset({400, 413, 422}), r"transactions|nest|deep|depth"
    ),
    Hostile("deep nesting (100,000)", _nested(100_000), frozenset({400, 413, 422}), r"nest|deep|depth|json"),
    Hostile("top_k zero", _encoded(_body("TESCO", top_k=0)), frozenset({422}), r"top_k"),
    Hostile("top_k negative", _encoded(_body("TESCO", top_k=-1)), frozenset({422}), r"top_k"),
    Hostile("top_k above the label count", _encoded(_body("TESCO", top_k=1_000)), frozenset({422}), r"top_k"),
    Hostile("top_k huge", _encoded(_body("TESCO", top_k=10**30)), frozenset({422}), r"top_k"),
    Hostile("top_k a string", _encoded(_body("TESCO", top_k="two")), frozenset({422}), r"top_k"),
    Hostile("top_k a float", _encoded(_body("TESCO", top_k=1.5)), frozenset({422}), r"top_k"),
    Hostile("top_k a boolean", _encoded(_body("TESCO", top_k=True)), frozenset({422}), r"top_k"),
    Hostile("top_k a numeric string", _encoded(_body("TESCO", top_k="2")), frozenset({422}), r"top_k"),
    Hostile(
        "top_k NaN",
        b'{"transactions": [{"id": "a", "text": "T"}], "top_k": NaN}',
        frozenset({400, 422}),
        r"top_k|json|nan",
    ),
    Hostile(
        "huge X-Client-Id",
        _encoded(_body("TESCO")),
        frozenset({400, 422, 431}),
        r"x-client-id",
        headers={**JSON, "x-client-id": "c" * 10_000},
    ),
    Hostile(
        "huge X-Request-Timeout-Ms",
        _encoded(_body("TESCO")),
        frozenset({400, 422}),
        r"x-request-timeout-ms",
        headers={**JSON, "x-request-timeout-ms": "9" * 5_000},
    ),
    Hostile(
        "negative X-Request-Timeout-Ms",
        _encoded(_body("TESCO")),
        frozenset({400, 422}),
        r"x-request-timeout-ms",
        headers={**JSON, "x-request-timeout-ms": "-5"},
    ),
    Hostile(
        "non-numeric X-Request-Timeout-Ms",
        _encoded(_body("TESCO")),
        frozenset({400, 422}),
        r"x-request-timeout-ms",
        headers={**JSON, "x-request-timeout-ms": "soon"},
    ),
]

#: Odd but valid narrations: classified, never rejected.
VALID_ODDITIES = {
    "emoji": "☕ STARBUCKS 🍩 LONDON 💳",
    "arabic (RTL)": "مطعم الشام دبي بطاقة",
    "hebrew with a bidi override": "\u202eקפה ארומה תל אביב\u202c",
    "NUL bytes inside": "TESCO\u0000STORES\u0000 LONDON",
    "zero-width and combining": "TE\u200bSCO e\u0301\u0301\u0301 STORES",
    "card number": "POS 4111111111111111 TESCO",
    "512 chars": ("TESCO STORES " * 40)[:506] + "LONDON",
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tiny_bundle: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(settings_for(tiny_bundle)) as client:
        yield client


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
async def test_hostile_request_gets_a_4xx_that_names_the_problem(
    api: httpx.AsyncClient, case: Hostile
) -> None:
    response = await api.post("/v1/classify", content=case.content, headers=case.headers)

    assert response.status_code < 500, (
        f"{case.name}: server error {response.status_code}: {response.text[:500]}"
    )
    assert response.status_code in case.statuses, f"{case.name}: {response.status_code} {response.text[:500]}"
    said = error_text(response)
    assert re.search(case.names, said, re.IGNORECASE | re.DOTALL), (
        f"{case.name}: the error does not name the problem (/{case.names}/): {said[:800]}"
    )


@pytest.mark.parametrize("text", list(VALID_ODDITIES.values()), ids=list(VALID_ODDITIES))
async def test_odd_but_valid_narration_is_classified(
    api: httpx.AsyncClient, tiny_bundle: Path, text: str
) -> None:
    labels = json.loads((tiny_bundle / "labels.json").read_text())
    response = await api.post(
        "/v1/classify", json={"transactions": [{"id": "odd", "text": text}], "top_k": 3}
    )

    assert response.status_code == 200, response.text[:500]
    (result,) = response.json()["results"]
    assert result["id"] == "odd"
    assert 0.0 <= result["confidence"] <= 1.0
    assert len(result["top_k"]) == 3
    assert result["label"] == result["top_k"][0]["label"]
    assert result["label"] in labels


async def test_5000_transactions_is_accepted(api: httpx.AsyncClient) -> None:
    """The limit is inclusive: the 5,001 case above is rejected by the count, not by something else."""
    response = await api.post("/v1/classify", json=_body(*[f"TESCO STORE {i}" for i in range(5000)]))
    assert response.status_code == 200, response.text[:500]
    assert len(response.json()["results"]) == 5000
