"""POST /v1/feedback through the real app (tiny ONNX bundle) into real stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.feedback.store import FeedbackRow, open_store
from tests.hardening.inprocess import error_text, running, settings_for

TEXTS = ["POS TESCO STORES 3297 LONDON", "UBER TRIP HELP.UBER.COM", "ACME CORP PAYROLL", "NETFLIX.COM"]
LABELS = ["FOOD_AND_DRINK", "TRANSPORTATION", "INCOME", "ENTERTAINMENT"]


def stored_rows(dsn: str) -> list[FeedbackRow]:
    store = open_store(dsn)
    try:
        return list(store.rows())
    finally:
        store.close()


def feedback_body(texts: list[str] = TEXTS, labels: list[str] = LABELS, prefix: str = "f") -> dict[str, Any]:
    return {
        "feedback": [
            {"id": f"{prefix}{i}", "text": text, "label": label, "direction": "debit" if i % 2 else "credit"}
            for i, (text, label) in enumerate(zip(texts, labels, strict=True))
        ]
    }


async def test_accepted_rows_carry_the_served_answer(tiny_bundle: Path, store_dsn: str) -> None:
    async with running(settings_for(tiny_bundle, feedback_dsn=store_dsn)) as (_, client):
        body = feedback_body()
        served = await client.post(
            "/v1/classify",
            json={
                "transactions": [{k: v for k, v in item.items() if k != "label"} for item in body["feedback"]]
            },
        )
        response = await client.post("/v1/feedback", json=body, headers={"X-Client-Id": "bank-a"})
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 4, "duplicates": 0}
    rows = {r.item_id: r for r in stored_rows(store_dsn)}
    for result, item in zip(served.json()["results"], body["feedback"], strict=True):
        stored = rows[item["id"]]
        assert (stored.client_id, stored.text, stored.label, stored.direction) == (
            "bank-a", item["text"], item["label"], item["direction"],
        )  # fmt: skip
        assert (stored.predicted, stored.confidence) == (result["label"], result["confidence"])
        assert (stored.model_name, stored.model_version) == ("txclassify-tiny", "0.0.0")


async def test_resending_is_idempotent(tiny_bundle: Path, sqlite_dsn: str) -> None:
    async with running(settings_for(tiny_bundle, feedback_dsn=sqlite_dsn)) as (_, client):
        first = await client.post("/v1/feedback", json=feedback_body())
        again = await client.post("/v1/feedback", json=feedback_body())
        other_client = await client.post("/v1/feedback", json=feedback_body(), headers={"X-Client-Id": "b"})
        metrics = (await client.get("/metrics")).text
    assert first.json() == {"accepted": 4, "duplicates": 0}
    assert again.json() == {"accepted": 4, "duplicates": 4}
    assert other_client.json() == {"accepted": 4, "duplicates": 0}
    assert len(stored_rows(sqlite_dsn)) == 8
    counted = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("txclassify_feedback_items_total{")
    )
    assert counted == 8  # the resent request moved no counter


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        ({"label": "GROCERIES"}, ["feedback", 1, "label"]),
        ({"text": "\u0000\u0001"}, ["feedback", 1, "text"]),
        ({"direction": "sideways"}, ["feedback", 1, "direction"]),
        ({"text": ""}, ["feedback", 1, "text"]),
        ({"id": ""}, ["feedback", 1, "id"]),
        ({"extra": 1}, ["feedback", 1, "extra"]),
    ],
)
async def test_invalid_items_are_422_naming_the_item(
    tiny_bundle: Path, sqlite_dsn: str, item: dict[str, Any], loc: list[Any]
) -> None:
    body = feedback_body()
    body["feedback"][1].update(item)
    async with running(settings_for(tiny_bundle, feedback_dsn=sqlite_dsn)) as (_, client):
        response = await client.post("/v1/feedback", json=body)
    assert response.status_code == 422, response.text
    assert loc in [detail["loc"] for detail in response.json()["error"]["details"]]
    assert stored_rows(sqlite_dsn) == []  # nothing of a refused request is stored


async def test_repeated_ids_and_too_many_items_are_refused(tiny_bundle: Path, sqlite_dsn: str) -> None:
    body = feedback_body()
    body["feedback"][2]["id"] = body["feedback"][0]["id"]
    settings = settings_for(tiny_bundle, feedback_dsn=sqlite_dsn, max_request_items=3)
    async with running(settings) as (_, client):
        body3 = feedback_body(TEXTS[:3], LABELS[:3])
        body3["feedback"][2]["id"] = "f0"
        repeated = await client.post("/v1/feedback", json=body3)
        too_many = await client.post("/v1/feedback", json=feedback_body())
    assert repeated.status_code == 422
    assert "repeats feedback[0].id" in error_text(repeated)
    assert too_many.status_code == 413
    assert "at most 3" in error_text(too_many)


async def test_feedback_is_authenticated_like_classify(tiny_bundle: Path, sqlite_dsn: str) -> None:
    key_a, key_b = "a" * 32, "b" * 32
    settings = settings_for(tiny_bundle, feedback_dsn=sqlite_dsn, api_keys=f"{key_a},{key_b}")
    async with running(settings) as (_, client):
        refused = await client.post("/v1/feedback", json=feedback_body())
        as_a = await client.post("/v1/feedback", json=feedback_body(), headers={"X-API-Key": key_a})
        as_b = await client.post(
            "/v1/feedback", json=feedback_body(), headers={"Authorization": f"Bearer {key_b}"}
        )
    assert refused.status_code == 401
    # The same client id under two keys is two clients: neither can shadow the other's corrections.
    assert as_a.json() == {"accepted": 4, "duplicates": 0}
    assert as_b.json() == {"accepted": 4, "duplicates": 0}
    clients = {r.client_id for r in stored_rows(sqlite_dsn)}
    assert len(clients) == 2
    assert all(client.endswith("/anonymous") and key_a not in client for client in clients)


async def test_without_a_store_feedback_is_503_and_classify_works(tiny_bundle: Path) -> None:
    async with running(settings_for(tiny_bundle)) as (_, client):
        response = await client.post("/v1/feedback", json=feedback_body())
        classified = await client.post("/v1/classify", json={"transactions": [{"id": "1", "text": "uber"}]})
    assert response.status_code == 503
    assert "TXC_FEEDBACK_DSN" in error_text(response)
    assert classified.status_code == 200


async def test_store_down_is_503_with_retry_after_and_recovers(tiny_bundle: Path, tmp_path: Path) -> None:
    directory = tmp_path / "not-mounted-yet"
    settings = settings_for(tiny_bundle, feedback_dsn=f"sqlite:///{directory}/feedback.db")
    async with running(settings) as (app, client):
        down = await client.post("/v1/feedback", json=feedback_body())
        classified = await client.post("/v1/classify", json={"transactions": [{"id": "1", "text": "uber"}]})
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "store_unavailable"
        assert int(down.headers["Retry-After"]) >= 1
        assert classified.status_code == 200
        directory.mkdir()
        writer = app.state.runtime.production.recorder.writer
        await _wait_until(lambda: writer.available, seconds=int(down.headers["Retry-After"]) + 2)
        recovered = await client.post("/v1/feedback", json=feedback_body())
        assert recovered.json() == {"accepted": 4, "duplicates": 0}


async def _wait_until(condition: Any, seconds: float) -> None:
    import asyncio
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
