"""Graceful shutdown: SIGTERM with requests in flight loses none of them.

A real ``txclassify serve`` gets several seconds of classification work, then SIGTERM, as the kubelet
sends it. The test counts: readiness turns 503 at once, a new request gets 503, every admitted request
completes with its real result (compared with the in-process engine), zero are lost, and the process
exits within the configured grace.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.hardening.metrics import metric_sum
from tests.hardening.server import ServerProcess

T = TypeVar("T")
GRACE_S = 30.0
#: One item per batch makes this several seconds of work on 2 busy cores (about 1 s on 16 free ones).
REQUESTS = 8
ITEMS_PER_REQUEST = 600


async def apoll(probe: Callable[[], Awaitable[T | None]], *, timeout_s: float, what: str) -> T:
    """Await ``probe`` until it returns something other than ``None``; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what}")
        await asyncio.sleep(0.01)


def _body(request: int, items: int) -> dict[str, object]:
    return {
        "transactions": [
            {"id": f"r{request}-{i}", "text": f"CARD PAYMENT SHOP {request} BRANCH {i} CITY {i % 97}"}
            for i in range(items)
        ]
    }


def _fresh() -> httpx.AsyncClient:
    """A client that opens a new connection per request, like a kubelet probe or a new caller."""
    return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)


@pytest.mark.slow
async def test_sigterm_drains_in_flight_requests_and_loses_none(
    server_env: dict[str, str], tiny_bundle: Path, tmp_path: Path
) -> None:
    # One item per model batch: the same work takes several seconds, while admitting it (parsing and
    # tokenising) stays quick, so every request is admitted well before any could finish.
    env = {
        **server_env,
        "TXC_GRACEFUL_TIMEOUT_S": str(GRACE_S),
        "TXC_CACHE_SIZE": "0",
        "TXC_MAX_QUEUE_ITEMS": "1000000",
        "TXC_MAX_BATCH_SIZE": "1",
    }
    with ServerProcess(env, tmp_path) as server:
        server.wait_ready()
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=GRACE_S * 2, limits=limits) as client:
            bodies = [_body(r, ITEMS_PER_REQUEST) for r in range(REQUESTS)]
            sent = REQUESTS * ITEMS_PER_REQUEST
            done_before = metric_sum((await client.get("/metrics")).text, "txclassify_items_total")
            tasks = [asyncio.create_task(client.post("/v1/classify", json=b)) for b in bodies]

            async def all_admitted() -> bool | None:
                exposition = (await client.get("/metrics")).text
                accounted = sum(
                    metric_sum(exposition, name)
                    for name in (
                        "txclassify_queue_items",
                        "txclassify_inflight_items",
                        "txclassify_items_total",
                    )
                )
                # The next batch, assembled while the current one runs, is counted by no gauge: with
                # one item per batch, that is one item.
                return True if accounted - done_before >= sent - 1 else None

            await apoll(all_admitted, timeout_s=60, what=f"all {sent} items to be admitted")
            done_at_sigterm = sum(task.done() for task in tasks)
            terminated_at = time.monotonic()
            server.terminate()

            async with _fresh() as fresh:

                async def readiness_503() -> bool | None:
                    try:
                        status = (await fresh.get(f"{server.base_url}/readyz")).status_code
                    except httpx.TransportError as error:
                        raise AssertionError(
                            f"the server stopped listening while draining: {error!r}\n"
                            f"{server.output()[-3000:]}"
                        ) from None
                    return True if status == 503 else None

                await apoll(readiness_503, timeout_s=1.0, what="/readyz to answer 503 after SIGTERM")
                ready_503_after = time.monotonic() - terminated_at
                in_flight = sum(not task.done() for task in tasks)
                late = await fresh.post(f"{server.base_url}/v1/classify", json=_body(999, 3))

            responses = await asyncio.gather(*tasks, return_exceptions=True)
        code = await asyncio.to_thread(server.wait_exit, GRACE_S + 10)
        exited_after = time.monotonic() - terminated_at
        output = server.output()

    assert in_flight > 0, (
        f"the work finished before SIGTERM took effect ({done_at_sigterm} of {len(tasks)} done at SIGTERM, "
        f"readiness 503 after {ready_503_after:.2f} s); the test proved nothing"
    )
    assert late.status_code == 503, late.text
    assert late.json()["error"]["code"] in {"unavailable", "draining"}, late.text
    completed = [r for r in responses if isinstance(r, httpx.Response) and r.status_code == 200]
    lost = len(responses) - len(completed)
    print(
        f"requests {len(responses)} items {sent} in flight at SIGTERM {in_flight} "
        f"completed {len(completed)} lost {lost}; readiness 503 after {ready_503_after * 1000:.0f} ms; "
        f"exit {code} after {exited_after:.1f} s"
    )
    assert lost == 0, [
        r if not isinstance(r, httpx.Response) else (r.status_code, r.text[:200]) for r in responses
    ]
    for body, response in zip(bodies, completed, strict=True):
        results = response.json()["results"]
        assert [r["id"] for r in results] == [t["id"] for t in body["transactions"]]  # type: ignore[attr-defined]
    await _assert_real_results(tiny_bundle, bodies[0], completed[0])
    assert code == 0, output[-3000:]
    assert exited_after <= GRACE_S, f"exit took {exited_after:.1f} s, grace is {GRACE_S} s"
    assert "Traceback" not in output, output[-3000:]
    # The signal arrived while requests ran; the drain's log line must not carry one of their ids.
    draining = [
        json.loads(line) for line in output.splitlines() if line.startswith("{") and '"draining:' in line
    ]
    assert len(draining) == 1, output[-3000:]
    assert draining[0]["request_id"] == "-", draining[0]


async def _assert_real_results(bundle: Path, body: dict[str, object], response: httpx.Response) -> None:
    """The served labels and confidences equal the engine's, text by text (no placeholder answers)."""
    from service import Classifier

    transactions = body["transactions"]
    assert isinstance(transactions, list)
    sample = transactions[:: max(1, len(transactions) // 50)]
    classifier = Classifier.load(bundle)
    expected = classifier.classify([t["text"] for t in sample])
    served = {r["id"]: r for r in response.json()["results"]}
    for transaction, result in zip(sample, expected, strict=True):
        got = served[transaction["id"]]
        assert got["label"] == result.label
        assert got["confidence"] == pytest.approx(result.confidence, abs=1e-5)


@pytest.mark.slow
async def test_sigterm_with_more_work_than_grace_answers_503_and_exits_within_grace(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    """When the grace runs out first, unfinished requests get a clean 503 (retry elsewhere), not a 500 or a
    reset connection, and the process still exits on time."""
    grace = 2.0
    env = {
        **server_env,
        "TXC_GRACEFUL_TIMEOUT_S": str(grace),
        "TXC_CACHE_SIZE": "0",
        "TXC_MAX_QUEUE_ITEMS": "1000000",
        "TXC_MAX_BATCH_SIZE": "1",
        "TXC_MAX_REQUEST_TIMEOUT_MS": "3600000",
    }
    # An hour's deadline: deadline admission would refuse (429) work that cannot finish in time, and
    # this test needs all of it admitted and unfinished when the grace runs out.
    headers = {"X-Request-Timeout-Ms": "3600000"}
    with ServerProcess(env, tmp_path) as server:
        server.wait_ready()
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as client:
            tasks = [
                asyncio.create_task(client.post("/v1/classify", json=_body(r, 5_000), headers=headers))
                for r in range(8)
            ]

            async def queued() -> bool | None:
                exposition = (await client.get("/metrics")).text
                return True if metric_sum(exposition, "txclassify_queue_items") > 0 else None

            await apoll(queued, timeout_s=60, what="work to be queued")
            terminated_at = time.monotonic()
            server.terminate()
            code = await asyncio.to_thread(server.wait_exit, grace + 15)
            exited_after = time.monotonic() - terminated_at
            responses = await asyncio.gather(*tasks, return_exceptions=True)
        output = server.output()

    outcomes = [r.status_code if isinstance(r, httpx.Response) else type(r).__name__ for r in responses]
    print(f"grace {grace} s: exit {code} after {exited_after:.1f} s; outcomes {outcomes}")
    assert set(outcomes) <= {200, 503}, f"unfinished work must end in a clean 503: {outcomes}"
    assert 503 in outcomes, "the work was meant to outlast the grace; the test proved nothing"
    # A second for the process itself to unload after the grace ends (ORT session, threads).
    assert exited_after <= grace + 1.5, f"exit took {exited_after:.1f} s with a grace of {grace} s"
    assert "Traceback" not in output, output[-3000:]
