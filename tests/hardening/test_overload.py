"""Overload, short version: open-loop load at ~3x measured capacity for a few seconds.

Uses the load generator of ``scripts/overload_soak.py`` (the one-minute soak) against a real server with
the default admission limits. Only 200s and 429s (each 429 with a ``Retry-After``), admitted requests
within the SLA's interactive p99, memory flat, healthy afterwards.

The p99 is read from the server's own ``txclassify_request_seconds`` histogram (admitted = status 200 on
/v1/classify, overload phase only). The client-side p99 is printed too, but on a 2-core machine the load
generator offering 3x capacity shares the cores with the server, and its own lag (counted from each
request's scheduled departure) is not the server's latency.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from scripts import overload_soak as soak
from service.metrics import REQUEST_BUCKETS, REQUEST_SECONDS
from tests.hardening.metrics import metric_sum
from tests.hardening.server import ServerProcess

ITEMS = 10
FACTOR = 3.0
DURATION_S = 4.0


@pytest.mark.slow
def test_three_times_capacity_gets_only_200_and_429_and_leaves_the_server_healthy(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**server_env, "TXC_CACHE_SIZE": "0"}  # default admission limits
    scrapes: list[str] = []
    with ServerProcess(env, tmp_path) as server:
        server.wait_ready()

        def scrape() -> None:
            scrapes.append(httpx.get(f"{server.base_url}/metrics", timeout=10).text)

        capacity, report = asyncio.run(
            soak.soak(
                server.base_url,
                server.pid,
                factor=FACTOR,
                duration_s=DURATION_S,
                items=ITEMS,
                capacity_s=2.0,
                concurrency=32,
                max_requests=5_000,
                on_capacity_measured=scrape,
            )
        )
        scrape()
        healthy = soak._healthy(server.base_url)
        ready = httpx.get(f"{server.base_url}/readyz", timeout=10).status_code
        output = server.output()

    counts = report.status_counts
    latencies = report.admitted_latencies_s()
    p99_ms = soak.percentile(latencies, 0.99) * 1000
    sla_p99_ms = soak.sla_interactive_p99_ms()
    print(
        f"capacity {capacity:.1f} req/s, offered {report.offered_rps:.1f} req/s for {DURATION_S} s: "
        f"{dict(counts)}; admitted p50 {soak.percentile(latencies, 0.5) * 1000:.0f} ms p99 {p99_ms:.0f} ms; "
        f"RSS {report.rss_before / 2**20:.1f} -> {report.rss_after / 2**20:.1f} MiB "
        f"(peak {report.rss_peak / 2**20:.1f})"
    )
    assert set(counts) <= {200, 429}, f"only 200 and 429 under overload, got {dict(counts)}"
    # A Python load generator on the same two cores cannot always keep 3x the server's pace; what matters
    # is that the server was driven well past its capacity, which 2x proves as well as 3x.
    assert report.achieved_rps() >= 2.0 * capacity, (
        f"the load generator reached only {report.achieved_rps():.0f} req/s: not an overload of a server "
        f"that carries {capacity:.0f} req/s"
    )
    assert counts[429] > 0, "3x capacity must have been turned away in part; the test did not overload"
    assert counts[200] > 0
    assert report.rejections_without_retry_after() == 0, "every 429 needs a Retry-After in whole seconds"
    sla_s = sla_p99_ms / 1000
    assert sla_s in REQUEST_BUCKETS, f"the SLA's p99 ({sla_s} s) must be a bucket bound of {REQUEST_SECONDS}"
    before, after = scrapes

    def admitted(exposition: str, sample: str, **labels: str) -> float:
        return metric_sum(
            exposition, f"{REQUEST_SECONDS}_{sample}", route="/v1/classify", status="200", **labels
        )

    served = admitted(after, "count") - admitted(before, "count")
    within_sla = admitted(after, "bucket", le=str(sla_s)) - admitted(before, "bucket", le=str(sla_s))
    assert served == counts[200], "every admitted request of the overload phase is in the server's histogram"
    assert within_sla >= 0.99 * served, (
        f"only {within_sla:.0f} of {served:.0f} admitted requests took <= {sla_p99_ms:.0f} ms in the server"
    )
    assert report.rss_after <= report.rss_before * 1.10 + 32 * 2**20, "resident memory grew under overload"
    assert healthy
    assert ready == 200
    assert "Traceback" not in output, output[-3000:]
