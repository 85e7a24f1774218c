"""The HTTP API over the real tiny ONNX bundle: schema, every error code, headers, probes, metrics."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from service import metrics as metric_names
from service.api import create_app, runtime_of
from service.settings import Settings
from tests.service.fakes import until


@asynccontextmanager
async def serving(bundle: Path, **overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    # One engine lane unless a test asks for more: tests that hold the model hold all of it.
    overrides.setdefault("engine_lanes", 1)
    app = create_app(Settings(model_dir=bundle, **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


def body(*texts: str, top_k: int = 1) -> dict[str, Any]:
    return {"transactions": [{"id": f"t{i}", "text": text} for i, text in enumerate(texts)], "top_k": top_k}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    return dict(error)


def classifier_engine(app: FastAPI) -> Any:
    runtime = runtime_of(app)
    assert runtime.classifier is not None
    return runtime.classifier._engine


async def test_classify_answers_in_request_order(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (_, client):
        response = await client.post(
            "/v1/classify",
            json=body("POS PURCHASE STARBUCKS #1234", "uber trip", "salary acme", top_k=3),
            headers={"X-Request-Id": "req-123"},
        )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["model"] == {"name": "txclassify-tiny", "version": "0.0.0"}
    assert [result["id"] for result in payload["results"]] == ["t0", "t1", "t2"]
    for result in payload["results"]:
        assert set(result) == {"id", "label", "confidence", "abstained", "top_k"}
        assert len(result["top_k"]) == 3
        assert result["top_k"][0] == {"label": result["label"], "confidence": result["confidence"]}
        assert 0.0 < result["confidence"] <= 1.0
    assert response.headers["X-Request-Id"] == "req-123"
    assert float(response.headers["X-Queue-Time-Ms"]) >= 0.0
    assert float(response.headers["X-Inference-Time-Ms"]) > 0.0


async def test_abstained_follows_the_threshold(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (app, client):
        response = await client.post("/v1/classify", json=body(*(f"merchant {i}" for i in range(40))))
        threshold = app.state.runtime.classifier.bundle.abstain_threshold
    results = response.json()["results"]
    assert all(result["abstained"] == (result["confidence"] < threshold) for result in results)
    assert {result["abstained"] for result in results} == {True, False}  # the fixture gives both


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"transactions": []}, ["transactions"]),
        (body(""), ["transactions", 0, "text"]),
        (body("   \t "), ["transactions", 0, "text"]),
        (body("\x00\x01"), ["transactions", 0, "text"]),
        (body("fine", "x" * 513), ["transactions", 1, "text"]),
        ({"transactions": [{"id": "", "text": "a"}]}, ["transactions", 0, "id"]),
        ({"transactions": [{"id": "a" * 129, "text": "a"}]}, ["transactions", 0, "id"]),
        ({"transactions": [{"text": "a"}]}, ["transactions", 0, "id"]),
        ({"transactions": [{"id": "a", "text": 5}]}, ["transactions", 0, "text"]),
        ({"transactions": [{"id": "a", "text": "b", "extra": 1}]}, ["transactions", 0, "extra"]),
        (
            {"transactions": [{"id": "a", "text": "b"}, {"id": "c", "text": "d", "direction": "DEBIT"}]},
            ["transactions", 1, "direction"],
        ),
        ({"transactions": [{"id": "a", "text": "b", "direction": 1}]}, ["transactions", 0, "direction"]),
        ({"transactions": [{"id": "a", "text": "b", "direction": ""}]}, ["transactions", 0, "direction"]),
        ({"transactions": "nope"}, ["transactions"]),
        ({**body("a"), "top_k": 0}, ["top_k"]),
        ({**body("a"), "top_k": 17}, ["top_k"]),
        ({"transactions": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}, []),
    ],
)
async def test_invalid_input_is_422_naming_the_item(
    tiny_bundle: Path, payload: dict[str, Any], where: list[Any]
) -> None:
    async with serving(tiny_bundle) as (_, client):
        response = await client.post("/v1/classify", json=payload)
    error = assert_error(response, 422, "invalid_input")
    assert error["details"], error
    if where:
        assert error["details"][0]["loc"][: len(where)] == where
    else:
        assert "repeats" in error["details"][0]["message"]


async def test_broken_json_and_bad_headers_are_422(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (_, client):
        broken = await client.post(
            "/v1/classify", content=b'{"transactions": [', headers={"content-type": "application/json"}
        )
        timeout = await client.post("/v1/classify", json=body("a"), headers={"X-Request-Timeout-Ms": "soon"})
        client_id = await client.post("/v1/classify", json=body("a"), headers={"X-Client-Id": "c" * 200})
    assert_error(broken, 422, "invalid_input")
    assert_error(timeout, 422, "invalid_input")
    assert_error(client_id, 422, "invalid_input")


async def test_too_many_transactions_is_413(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle, max_request_items=10) as (_, client):
        response = await client.post("/v1/classify", json=body(*(f"t{i}" for i in range(11))))
        fine = await client.post("/v1/classify", json=body(*(f"t{i}" for i in range(10))))
    assert_error(response, 413, "too_large")
    assert fine.status_code == 200


async def test_oversized_bodies_are_413_before_parsing(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle, max_body_bytes=2048) as (_, client):
        declared = await client.post(
            "/v1/classify", content=b"x" * 5000, headers={"content-type": "application/json"}
        )

        async def stream() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"x" * 1000

        streamed = await client.post(
            "/v1/classify", content=stream(), headers={"content-type": "application/json"}
        )
        fine = await client.post("/v1/classify", json=body("small"))
    assert "content-length" not in streamed.request.headers
    assert_error(declared, 413, "too_large")
    assert_error(streamed, 413, "too_large")
    assert fine.status_code == 200


async def test_queue_full_is_429_with_retry_after(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle, max_queue_items=5, max_request_items=10) as (_, client):
        response = await client.post("/v1/classify", json=body(*(f"t{i}" for i in range(6))))
        metrics = (await client.get("/metrics")).text
    assert_error(response, 429, "overloaded")
    assert int(response.headers["Retry-After"]) >= 1
    assert f'{metric_names.REJECTED_TOTAL}{{reason="queue_full"}} 1.0' in metrics


async def test_not_ready_before_warm_up_then_ready(tiny_bundle: Path) -> None:
    app = create_app(Settings(model_dir=tiny_bundle))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert_error(await client.get("/readyz"), 503, "unavailable")
        assert_error(await client.post("/v1/classify", json=body("a")), 503, "unavailable")
        assert (await client.get("/healthz")).status_code == 200  # starting is alive
        async with app.router.lifespan_context(app):
            assert (await client.get("/readyz")).json() == {"status": "ready"}
            assert (await client.post("/v1/classify", json=body("a"))).status_code == 200


async def test_draining_refuses_new_work(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (app, client):
        runtime_of(app).begin_drain()
        ready = await client.get("/readyz")
        classify = await client.post("/v1/classify", json=body("a"))
        alive = await client.get("/healthz")
    assert "draining" in assert_error(ready, 503, "unavailable")["message"]
    assert_error(classify, 503, "unavailable")
    assert alive.status_code == 200


async def test_deadline_is_504_and_the_next_request_still_works(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tiny_bundle) as (app, client):
        engine = classifier_engine(app)
        release = threading.Event()
        real_run = engine.run

        def held_run(sequences: list[np.ndarray]) -> np.ndarray:
            release.wait(timeout=30)
            result: np.ndarray = real_run(sequences)
            return result

        monkeypatch.setattr(engine, "run", held_run)
        try:
            response = await client.post(
                "/v1/classify", json=body("held up"), headers={"X-Request-Timeout-Ms": "50"}
            )
        finally:
            release.set()
        after = await client.post("/v1/classify", json=body("next one"))
    assert_error(response, 504, "deadline_exceeded")
    assert after.status_code == 200


async def test_a_failing_batch_is_500_with_a_request_id(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tiny_bundle) as (app, client):
        engine = classifier_engine(app)
        real_run = engine.run
        calls = {"n": 0}

        def fails_once(sequences: list[np.ndarray]) -> np.ndarray:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("simulated runtime fault")
            result: np.ndarray = real_run(sequences)
            return result

        monkeypatch.setattr(engine, "run", fails_once)
        failed = await client.post("/v1/classify", json=body("a"), headers={"X-Request-Id": "boom-1"})
        after = await client.post("/v1/classify", json=body("b"))
        ready = await client.get("/readyz")
    error = assert_error(failed, 500, "inference_failed")
    assert "boom-1" in error["message"]
    assert after.status_code == 200
    assert ready.status_code == 200


async def test_models_and_probes(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (_, client):
        models = (await client.get("/v1/models")).json()["models"]
        health = await client.get("/healthz")
        missing = await client.get("/nope")
        openapi = (await client.get("/openapi.json")).json()
    assert models[0]["name"] == "txclassify-tiny"
    assert len(models[0]["labels"]) == 16
    assert models[0]["card"]["model_sha256"]
    assert health.json() == {"status": "ok"}
    assert_error(missing, 404, "not_found")
    assert "/v1/classify" in openapi["paths"]


async def test_metrics_are_exported_and_move(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (_, client):
        before = (await client.get("/metrics")).text
        await client.post("/v1/classify", json=body("one", "two", "two"))
        await client.post("/v1/classify", json=body("one"))
        after = (await client.get("/metrics")).text
    for name in (
        metric_names.QUEUE_WAIT_SECONDS,
        metric_names.BATCH_SIZE,
        metric_names.BATCH_TOKENS,
        metric_names.INFERENCE_SECONDS,
        metric_names.REQUEST_SECONDS,
        metric_names.QUEUE_ITEMS,
        metric_names.INFLIGHT_ITEMS,
        metric_names.OLDEST_QUEUED_ITEM_AGE_SECONDS,
        metric_names.CACHE_HITS_TOTAL,
        metric_names.MODEL_INFO,
    ):
        assert f"# TYPE {name}" in after, name
    assert f"{metric_names.QUEUE_WAIT_SECONDS}_count 0.0" in before
    assert f"{metric_names.QUEUE_WAIT_SECONDS}_count 3.0" in after
    assert f'{metric_names.ITEMS_TOTAL}{{outcome="ok"}} 3.0' in after
    assert f'{metric_names.ITEMS_TOTAL}{{outcome="cached"}} 1.0' in after
    assert f"{metric_names.CACHE_HITS_TOTAL} 1.0" in after
    assert f'{metric_names.MODEL_INFO}{{name="txclassify-tiny",version="0.0.0"}} 1.0' in after
    assert f'{metric_names.REQUEST_SECONDS}_count{{route="/v1/classify",status="200"}} 2.0' in after
    assert f"{metric_names.QUEUE_ITEMS} 0.0" in after


async def test_a_client_that_disconnects_never_reaches_the_model(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tiny_bundle) as (app, client):
        engine = classifier_engine(app)
        release = threading.Event()
        seen: list[int] = []
        real_run = engine.run

        def held_run(sequences: list[np.ndarray]) -> np.ndarray:
            seen.append(len(sequences))
            release.wait(timeout=30)
            result: np.ndarray = real_run(sequences)
            return result

        monkeypatch.setattr(engine, "run", held_run)
        batcher = app.state.runtime.classifier.batcher
        holder = asyncio.ensure_future(client.post("/v1/classify", json=body("holds the model")))
        await until(lambda: len(seen) == 1)

        # A raw ASGI call whose client hangs up after sending its body.
        hang_up = asyncio.Event()
        payload = json.dumps(body(*(f"never scored {i}" for i in range(7)))).encode()
        messages = [{"type": "http.request", "body": payload, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await hang_up.wait()
            return {"type": "http.disconnect"}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/classify", "raw_path": b"/v1/classify", "query_string": b"",
            "root_path": "", "headers": [(b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1), "server": ("test", 80),
        }  # fmt: skip
        gone = asyncio.ensure_future(app(scope, receive, send))
        await until(lambda: batcher.queued_items == 7)
        hang_up.set()
        await gone
        assert batcher.queued_items == 0
        release.set()
        assert (await holder).status_code == 200
        after = await client.post("/v1/classify", json=body("after"))
    assert after.status_code == 200
    assert seen == [1, 1]  # the holder and "after": the 7 withdrawn texts never ran
    assert sent[0]["status"] == 499


@pytest.mark.parametrize(
    ("content", "headers", "status", "named"),
    [
        (b'{"transactions": [{"id": "a", "text": "caf\xe9"}]}', {}, 422, "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, {}, 422, "nested too deeply"),
        (
            b'{"transactions": [{"id": "a", "text": "b"}]}',
            {"content-type": "text/plain"},
            415,
            "application/json",
        ),
    ],
)
async def test_unparsable_bodies_are_4xx_naming_the_problem(
    tiny_bundle: Path, content: bytes, headers: dict[str, str], status: int, named: str
) -> None:
    async with serving(tiny_bundle) as (_, client):
        response = await client.post(
            "/v1/classify", content=content, headers={"content-type": "application/json", **headers}
        )
    assert response.status_code == status, response.text
    assert named in response.json()["error"]["message"]


async def test_the_drain_waits_for_admitted_requests(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tiny_bundle) as (app, client):
        engine = classifier_engine(app)
        entered, release = threading.Event(), threading.Event()
        real_run = engine.run

        def held_run(sequences: list[np.ndarray]) -> np.ndarray:
            entered.set()
            release.wait(timeout=30)
            result: np.ndarray = real_run(sequences)
            return result

        monkeypatch.setattr(engine, "run", held_run)
        admitted = asyncio.ensure_future(client.post("/v1/classify", json=body("in flight")))
        await asyncio.to_thread(entered.wait, 30)
        runtime_of(app).begin_drain()
        assert not await runtime_of(app).wait_idle(0.0)
        late = await client.post("/v1/classify", json=body("late"))
        release.set()
        assert await runtime_of(app).wait_idle(30)
        response = await admitted
    assert response.status_code == 200
    assert late.status_code == 503


MODELS = Path(__file__).resolve().parents[2] / "models"


async def test_directions_are_optional_per_item_and_reach_the_model(hinted_bundle: Path) -> None:
    items = [
        {"id": "a", "text": "TESCO STORES 3297", "direction": "debit"},
        {"id": "b", "text": "zelle from ann", "direction": "credit"},
        {"id": "c", "text": "uber trip", "direction": None},
        {"id": "d", "text": "boots"},
    ]
    async with serving(hinted_bundle) as (app, client):
        seen: list[str] = []
        tokenizer = app.state.runtime.classifier._tokenizer
        encode = tokenizer.encode

        def spy(texts: list[str]) -> Any:
            seen.extend(texts)
            return encode(texts)

        tokenizer.encode = spy
        response = await client.post("/v1/classify", json={"transactions": items})
    assert response.status_code == 200, response.text
    assert [result["id"] for result in response.json()["results"]] == ["a", "b", "c", "d"]
    assert sorted(seen) == sorted(
        [
            "debit | food and drink | tesco stores 3297",
            "credit | zelle from ann",
            "uber trip",
            "medical | boots",
        ]
    )


async def test_models_report_what_the_model_reads(hinted_bundle: Path, tiny_bundle: Path) -> None:
    async with serving(hinted_bundle) as (_, client):
        (hinted,) = (await client.get("/v1/models")).json()["models"]
    async with serving(tiny_bundle) as (_, client):
        (plain,) = (await client.get("/v1/models")).json()["models"]
    assert hinted["normalization"] == "txc-norm-2"
    assert hinted["inputs"] == {
        "direction": True,
        "gazetteer": {"source": "tests 1", "entries": 4, "matching": "exact"},
    }
    assert plain["inputs"] == {"direction": False, "gazetteer": None}


async def test_shipped_1_2_0_still_serves_and_reports_direction_ignored() -> None:
    async with serving(MODELS / "txclassify-1.2.0") as (_, client):
        (model,) = (await client.get("/v1/models")).json()["models"]
        items = [
            {"id": "a", "text": "POS PURCHASE STARBUCKS #1234 SEATTLE WA", "direction": "debit"},
            {"id": "b", "text": "POS PURCHASE STARBUCKS #1234 SEATTLE WA", "direction": "credit"},
            {"id": "c", "text": "POS PURCHASE STARBUCKS #1234 SEATTLE WA"},
        ]
        response = await client.post("/v1/classify", json={"transactions": items})
    assert model["version"] == "1.2.0"
    assert model["normalization"] == "txc-norm-1"
    assert model["inputs"] == {"direction": False, "gazetteer": None}
    results = response.json()["results"]
    assert results[0]["label"] == "FOOD_AND_DRINK"
    assert {(r["label"], r["confidence"]) for r in results} == {
        (results[0]["label"], results[0]["confidence"])
    }


async def test_openapi_documents_the_direction(tiny_bundle: Path) -> None:
    async with serving(tiny_bundle) as (_, client):
        openapi = (await client.get("/openapi.json")).json()
    direction = openapi["components"]["schemas"]["Transaction"]["properties"]["direction"]
    assert {"enum": ["debit", "credit"], "type": "string"} in direction["anyOf"]
    assert "inputs.direction" in direction["description"]


async def test_a_request_may_say_whether_it_is_interactive(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tiny_bundle) as (app, client):
        classifier = app.state.runtime.classifier
        seen: list[bool | None] = []
        original = classifier.aclassify_with_timings

        async def recording(*args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs.get("interactive"))
            return await original(*args, **kwargs)

        monkeypatch.setattr(classifier, "aclassify_with_timings", recording)
        for priority in ("interactive", "bulk", None):
            headers = {} if priority is None else {"X-Request-Priority": priority}
            reply = await client.post("/v1/classify", json=body("uber trip"), headers=headers)
            assert reply.status_code == 200, reply.text
        assert seen == [True, False, None]
        refused = await client.post(
            "/v1/classify", json=body("uber trip"), headers={"X-Request-Priority": "urgent"}
        )
        assert_error(refused, 422, "invalid_input")


async def test_two_engine_lanes_run_two_batches_at_once_with_the_same_answers(
    tiny_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = body("uber trip", "tesco stores 3297"), body("netflix.com", "shell oil 5512")
    async with serving(tiny_bundle) as (_, client):
        alone = [(await client.post("/v1/classify", json=b)).json()["results"] for b in (first, second)]
    async with serving(tiny_bundle, engine_lanes=2) as (app, client):
        engine = classifier_engine(app)
        both_inside = threading.Barrier(2, timeout=30)
        seen: list[int] = []
        real_run = engine.run

        def meets_the_other_lane(sequences: list[np.ndarray]) -> np.ndarray:
            seen.append(len(sequences))
            both_inside.wait()  # breaks (and the batch fails) unless two batches run at once
            result: np.ndarray = real_run(sequences)
            return result

        monkeypatch.setattr(engine, "run", meets_the_other_lane)
        held = asyncio.ensure_future(client.post("/v1/classify", json=first))
        await until(lambda: len(seen) == 1)
        other = await client.post("/v1/classify", json=second)
        replies = [await held, other]
    assert [reply.status_code for reply in replies] == [200, 200]
    assert [reply.json()["results"] for reply in replies] == alone
