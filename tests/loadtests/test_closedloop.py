"""The closed loop's CPU accounting (server process, its main thread, the load generator) and the
empty FastAPI floor it can run against."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from loadtests.closedloop import CpuTimes, run_closed_loop
from loadtests.openloop import WIRE_FORMATS
from loadtests.peers.empty_fastapi import create_app


def test_cpu_per_request_is_the_difference_over_the_requests() -> None:
    before = CpuTimes(server=1.0, server_main_thread=0.5, client=2.0)
    after = CpuTimes(server=1.5, server_main_thread=0.7, client=2.1)
    assert after.per_request_ms(before, 100) == {"server": 5.0, "server_main_thread": 2.0, "client": 1.0}
    # No server process to read (a peer that is not a child of ours), or no requests: nothing to say.
    assert CpuTimes(None, None, 2.5).per_request_ms(CpuTimes(None, None, 2.0), 10)["server"] is None
    assert after.per_request_ms(before, 0) == {"server": None, "server_main_thread": None, "client": None}


def test_cpu_times_of_a_live_process_grow_with_its_work() -> None:
    before = CpuTimes.now(os.getpid())
    sum(i * i for i in range(2_000_000))
    after = CpuTimes.now(os.getpid())
    assert before.server is not None
    assert after.server is not None
    assert after.server > before.server
    assert after.client > before.client
    assert after.server_main_thread is not None
    assert before.server_main_thread is not None
    assert after.server_main_thread >= before.server_main_thread
    assert CpuTimes.now(2**22 + 12345).server is None  # no such process: None, not an error


async def test_the_empty_floor_speaks_our_wire_format() -> None:
    wire = WIRE_FORMATS["txclassify"]
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://floor") as client:
        reply = await client.post(wire.path, json=wire.body(["card payment tesco", "uber trip"]))
    assert reply.status_code == 200
    assert wire.count_results(reply.json()) == 2
    assert [result["id"] for result in reply.json()["results"]] == ["t0", "t1"]


@pytest.mark.slow
def test_the_closed_loop_counts_every_answer_of_the_floor(tmp_path: Path) -> None:
    import asyncio

    from loadtests.benchmark import FLOOR_ROWS, server_specs
    from loadtests.servers import REPO_ROOT, RunningServer

    assert FLOOR_ROWS == ("fastapi-empty",)
    spec = server_specs(REPO_ROOT / "models" / "txclassify-1.2.0", None, 2, tmp_path)["fastapi-empty"]
    with RunningServer(spec, tmp_path / "fastapi-empty.log") as server:
        before = CpuTimes.now(server.pid)
        run = asyncio.run(
            run_closed_loop(server.base_url, spec.wire_format, ["a b", "c d"], clients=4, size=3, seconds=0.5)
        )
        cpu = CpuTimes.now(server.pid).per_request_ms(before, run["requests"])
    assert run["failures"] == 0
    assert run["requests"] > 0
    assert run["texts_per_s"] > 0
    assert cpu["server"] is not None
    assert cpu["server"] > 0
