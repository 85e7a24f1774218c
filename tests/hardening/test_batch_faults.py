"""Batch faults: an exception inside inference fails only that batch's waiters; the next batches succeed.

The fault is real, not mocked: once the app is up, its tokenizer is replaced by one that maps one word
past the model's embedding table, so ONNX Runtime itself raises inside any batch that holds the word
(see ``conftest.poisoned_bundle``). The swap happens after start-up because start-up now refuses such a
tokenizer outright (test_model_faults.py); at run time it stands for any input the model chokes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from service.tokenization import TextTokenizer
from tests.hardening.conftest import POISON_WORD
from tests.hardening.inprocess import error_text, running, settings_for

pytestmark = pytest.mark.asyncio(loop_scope="module")

POISON = {"transactions": [{"id": "p", "text": f"POS {POISON_WORD.upper()} LONDON"}]}


def _clean(index: int, items: int = 5) -> dict[str, object]:
    return {"transactions": [{"id": f"c{i}", "text": f"TESCO STORE {index} AISLE {i}"} for i in range(items)]}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def api(tiny_bundle: Path, poisoned_bundle: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings_for(tiny_bundle)) as (app, client):
        classifier = app.state.runtime.classifier
        # The one private poke of this suite: put the fault inside the running model's path.
        classifier._tokenizer = TextTokenizer.from_file(
            poisoned_bundle / "tokenizer.json", classifier.bundle.max_seq_len
        )
        yield client


async def _assert_serving(api: httpx.AsyncClient, rounds: int = 5) -> None:
    for index in range(rounds):
        response = await api.post("/v1/classify", json=_clean(index))
        assert response.status_code == 200, f"a clean batch after a failed one: {response.text[:300]}"
        assert [r["id"] for r in response.json()["results"]] == [f"c{i}" for i in range(5)]
    assert (await api.get("/readyz")).status_code == 200, "one failed batch must not make the pod unready"


async def test_failed_batch_answers_500_with_a_request_id(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/classify", json=POISON)

    assert response.status_code == 500, response.text[:300]
    said = error_text(response)
    assert response.json()["error"]["code"] == "inference_failed", said
    request_id = response.headers.get("x-request-id", "")
    assert request_id, "a 500 must carry the request id, so the failure can be found in the logs"
    assert request_id in response.text, (
        "the error body must repeat the request id for the caller's bug report"
    )
    await _assert_serving(api)


async def test_failure_is_not_cached(api: httpx.AsyncClient) -> None:
    """A failed text is scored again next time (and fails again): never a cached or made-up answer."""
    for _ in range(3):
        assert (await api.post("/v1/classify", json=POISON)).status_code == 500


async def test_a_poisoned_item_fails_its_whole_request_not_a_partial_answer(api: httpx.AsyncClient) -> None:
    body = _clean(99, items=20)
    body["transactions"].insert(7, {"id": "p", "text": POISON_WORD})  # type: ignore[attr-defined]
    response = await api.post("/v1/classify", json=body)

    assert response.status_code == 500, response.text[:300]
    assert "results" not in response.json()
    await _assert_serving(api)


async def test_concurrent_faults_leave_later_batches_untouched(api: httpx.AsyncClient) -> None:
    """Failures among concurrent requests stay with the requests in the failed batches."""
    poisoned = [api.post("/v1/classify", json=POISON) for _ in range(5)]
    clean = [api.post("/v1/classify", json=_clean(index)) for index in range(20)]
    responses = await asyncio.gather(*poisoned, *clean)

    assert [r.status_code for r in responses[:5]] == [500] * 5
    assert {r.status_code for r in responses[5:]} <= {200, 500}, (
        "only a shared batch may fail a clean request"
    )
    for response in responses[5:]:
        if response.status_code == 200:
            assert len(response.json()["results"]) == 5
    await _assert_serving(api, rounds=10)
