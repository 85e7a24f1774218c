"""Overload soak: open-loop load at a multiple of measured capacity against one real server.

What it proves (issue 6, "Overload"): a server offered more work than it can do answers only 200 or 429
(every 429 with a ``Retry-After``), admitted requests keep the SLA's interactive p99, resident memory
stays flat, and the server is healthy afterwards.

How it measures:
1. starts ``txclassify serve`` on 127.0.0.1 (a free port, the settings given with ``--env``) and waits for
   ``/readyz``; or uses a server already running on 127.0.0.1 (``--url`` and ``--pid``);
2. measures capacity closed-loop: ``--concurrency`` clients post requests of ``--items`` distinct
   narrations back to back for ``--capacity-s`` seconds (requests/s completed);
3. offers ``--factor`` × that rate open-loop for ``--duration`` seconds: requests leave on a fixed
   schedule whether or not earlier ones have been answered, as independent users would send them;
4. prints status counts, p50/p95/p99 of admitted (200) requests, ``Retry-After`` coverage, RSS before,
   peak and after, and a post-soak health check; exits 1 if any check fails.

Bounded: loopback only, at most ``--max-requests`` requests, and a wall-clock cap of the duration plus
the client timeout. Usage (from the repository root)::

    .venv/bin/python scripts/overload_soak.py                     # the default bundle, 60 s at 3x
    .venv/bin/python scripts/overload_soak.py --model-dir DIR --duration 10 --env TXC_MAX_QUEUE_ITEMS=400

The CI test ``tests/hardening/test_overload.py`` runs the same functions for a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
CLIENT_TIMEOUT_S = 60.0
_MERCHANTS = ("STARBUCKS", "SHELL", "TESCO", "UBER", "NETFLIX", "AMAZON", "LIDL", "VODAFONE", "IKEA", "ZARA")
_serial = itertools.count()


@dataclass(frozen=True)
class Sample:
    """One request: when it was due and when it left (s after start), its status (0: no answer), latency."""

    due_s: float
    sent_s: float
    status: int
    latency_s: float
    retry_after: str | None


@dataclass
class SoakReport:
    offered_rps: float
    duration_s: float
    samples: list[Sample] = field(default_factory=list)
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0

    @property
    def status_counts(self) -> Counter[int]:
        return Counter(sample.status for sample in self.samples)

    def admitted_latencies_s(self) -> list[float]:
        return sorted(sample.latency_s for sample in self.samples if sample.status == 200)

    def rejections_without_retry_after(self) -> int:
        return sum(1 for s in self.samples if s.status == 429 and not _is_delay_seconds(s.retry_after))

    def achieved_rps(self) -> float:
        """Requests actually sent per second: proof that the generator kept up with the schedule."""
        if len(self.samples) < 2:
            return 0.0
        sent = [sample.sent_s for sample in self.samples]
        return (len(sent) - 1) / max(max(sent) - min(sent), 1e-9)

    def send_lag_s(self, fraction: float) -> float:
        """How late requests left against their schedule (a percentile): the generator's own delay."""
        return percentile(sorted(s.sent_s - s.due_s for s in self.samples), fraction)


def _is_delay_seconds(value: str | None) -> bool:
    return value is not None and value.isdigit() and int(value) >= 1


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when empty)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def classify_body(items: int) -> dict[str, object]:
    """A request of ``items`` distinct narrations, so neither the cache nor dedup flatters capacity."""
    transactions = []
    for index in range(items):
        serial = next(_serial)
        merchant = _MERCHANTS[serial % len(_MERCHANTS)]
        transactions.append(
            {"id": f"t{index}", "text": f"POS PURCHASE {merchant} STORE {serial} REF X{serial}"}
        )
    return {"transactions": transactions, "top_k": 1}


class RawClient:
    """A minimal HTTP/1.1 client on asyncio streams, with a keep-alive pool.

    Hand-written because the load generator shares the machine with the server: httpx spent 2.5x the
    server's CPU to offer 3x its capacity (measured: 18.7 s against 7.6 s), so the client, not the
    server, set every latency. This one does a fraction of that work per request. It speaks only what
    the soak needs: POST with a JSON body, a Content-Length response.
    """

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.hostname not in (LOOPBACK, "localhost") or parts.port is None:
            raise SystemExit(f"refusing to load {base_url}: this script only targets 127.0.0.1:PORT")
        self._host, self._port = parts.hostname, parts.port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post_json(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while self._idle:  # a pooled connection the server has since closed is retried on a new one
            reader, writer = self._idle.pop()
            try:
                return await self._exchange(reader, writer, head + body)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        return await self._exchange(reader, writer, head + body)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        content = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._idle.append((reader, writer))
        return int(status_line.split()[1]), headers, content

    async def aclose(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _post(client: RawClient, items: int, started: float, due: float) -> Sample:
    body = json.dumps(classify_body(items)).encode()
    sent = time.monotonic()
    try:
        status, headers, _ = await asyncio.wait_for(
            client.post_json("/v1/classify", body), timeout=CLIENT_TIMEOUT_S
        )
        retry_after = headers.get("retry-after")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
        status, retry_after = 0, None
    return Sample(due - started, sent - started, status, time.monotonic() - sent, retry_after)


async def measure_capacity(client: RawClient, *, items: int, concurrency: int, duration_s: float) -> float:
    """Completed requests per second with ``concurrency`` clients posting back to back (closed loop)."""
    started = time.monotonic()
    deadline = started + duration_s
    completed = 0

    async def worker() -> None:
        nonlocal completed
        while time.monotonic() < deadline:
            sample = await _post(client, items, started, time.monotonic())
            if sample.status != 200:
                raise RuntimeError(
                    f"capacity probe got HTTP {sample.status}; is the server overloaded already?"
                )
            completed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return completed / (time.monotonic() - started)


async def open_loop(
    client: RawClient, *, rate_rps: float, duration_s: float, items: int, max_requests: int
) -> list[Sample]:
    """Send requests on a fixed schedule (``rate_rps`` for ``duration_s``), never waiting for answers.

    The pacing sleeps only until the next scheduled departure; answers are collected at the end.
    """
    count = min(max_requests, max(1, int(rate_rps * duration_s)))
    started = time.monotonic()
    tasks: list[asyncio.Task[Sample]] = []
    for index in range(count):
        due = started + index / rate_rps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(_post(client, items, started, due)))
    return list(await asyncio.gather(*tasks))


def resident_memory_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def soak(
    base_url: str,
    pid: int,
    *,
    factor: float,
    duration_s: float,
    items: int,
    capacity_s: float,
    concurrency: int,
    max_requests: int,
    on_capacity_measured: Callable[[], None] | None = None,
) -> tuple[float, SoakReport]:
    """Measure capacity, then offer ``factor`` x capacity open-loop; returns (capacity rps, report).

    ``on_capacity_measured`` runs between the two phases (a test scrapes /metrics there, so that the
    server's own histograms can be read for the overload phase alone).
    """
    client = RawClient(base_url)
    try:
        capacity = await measure_capacity(client, items=items, concurrency=concurrency, duration_s=capacity_s)
        if on_capacity_measured is not None:
            on_capacity_measured()
        report = SoakReport(offered_rps=factor * capacity, duration_s=duration_s)
        report.rss_before = report.rss_peak = resident_memory_bytes(pid)

        async def watch_memory() -> None:
            while True:
                report.rss_peak = max(report.rss_peak, resident_memory_bytes(pid))
                await asyncio.sleep(0.25)

        watcher = asyncio.create_task(watch_memory())
        try:
            report.samples = await open_loop(
                client,
                rate_rps=report.offered_rps,
                duration_s=duration_s,
                items=items,
                max_requests=max_requests,
            )
        finally:
            watcher.cancel()
        report.rss_after = resident_memory_bytes(pid)
    finally:
        await client.aclose()
    return capacity, report


def sla_interactive_p99_ms() -> float:
    """The default SLA profile's interactive p99 (``loadtests/sla.yaml``)."""
    import yaml  # the dev extra; only the script needs it

    sla = yaml.safe_load((REPO_ROOT / "loadtests" / "sla.yaml").read_text())
    return float(sla["profiles"][sla["default"]]["classes"]["interactive"]["p99_ms"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def _start_server(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    script = Path(sys.executable).with_name("txclassify")
    entry = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from service.cli import main; main()"]
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*entry, "serve", "--host", LOOPBACK, "--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://{LOOPBACK}:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not become ready; its log:\n{log_path.read_text()[-3000:]}")


def _print_report(capacity: float, report: SoakReport, sla_p99_ms: float, healthy: bool) -> bool:
    latencies = report.admitted_latencies_s()
    counts = report.status_counts
    p99_ms = percentile(latencies, 0.99) * 1000
    checks = {
        "only 200 and 429": set(counts) <= {200, 429},
        "every 429 has Retry-After": report.rejections_without_retry_after() == 0,
        f"admitted p99 <= SLA {sla_p99_ms:.0f} ms": bool(latencies) and p99_ms <= sla_p99_ms,
        "RSS after <= before + 10% + 32 MiB": report.rss_after <= report.rss_before * 1.10 + 32 * 2**20,
        "healthy afterwards": healthy,
        "generator kept up (sent >= 90% of offered rate)": report.achieved_rps() >= 0.9 * report.offered_rps,
    }
    print(f"capacity (closed loop)    {capacity:8.1f} requests/s")
    print(f"offered (open loop)       {report.offered_rps:8.1f} requests/s for {report.duration_s:.0f} s")
    print(
        f"sent (achieved rate)      {report.achieved_rps():8.1f} requests/s, "
        f"send lag p99 {report.send_lag_s(0.99) * 1000:.1f} ms"
    )
    print(f"requests sent             {len(report.samples):8d}")
    for status, count in sorted(counts.items()):
        print(f"  HTTP {status or 'no response'!s:>3}              {count:8d}")
    for name, fraction in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        print(f"admitted {name}              {percentile(latencies, fraction) * 1000:8.1f} ms")
    print(
        f"RSS before / peak / after {report.rss_before / 2**20:.1f} / {report.rss_peak / 2**20:.1f} / "
        f"{report.rss_after / 2**20:.1f} MiB"
    )
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'} {name}")
    return all(checks.values())


def _healthy(base_url: str) -> bool:
    ready = httpx.get(f"{base_url}/readyz", timeout=10).status_code == 200
    answer = httpx.post(f"{base_url}/v1/classify", json=classify_body(3), timeout=30)
    return ready and answer.status_code == 200 and len(answer.json()["results"]) == 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=60.0, help="open-loop seconds (default 60)")
    parser.add_argument("--factor", type=float, default=3.0, help="offered load / capacity (default 3)")
    parser.add_argument("--items", type=int, default=10, help="transactions per request (default 10)")
    parser.add_argument("--capacity-s", type=float, default=5.0, help="closed-loop capacity probe seconds")
    parser.add_argument("--concurrency", type=int, default=32, help="clients of the capacity probe")
    parser.add_argument("--max-requests", type=int, default=100_000, help="hard cap on requests sent")
    parser.add_argument("--model-dir", help="bundle to serve (default: the service's default bundle)")
    parser.add_argument("--env", action="append", default=[], metavar="TXC_KEY=VALUE", help="server setting")
    parser.add_argument("--url", help="use a server already running on 127.0.0.1 (needs --pid)")
    parser.add_argument("--pid", type=int, help="pid of the --url server, for its RSS")
    parser.add_argument("--json", type=Path, help="also write the samples and summary here")
    args = parser.parse_args(argv)

    env = dict(item.split("=", 1) for item in args.env)
    if args.model_dir:
        env["TXC_MODEL_DIR"] = str(Path(args.model_dir).resolve())
    process: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory(prefix="txc-soak-") as scratch:
        if args.url:
            if args.pid is None:
                parser.error("--url needs --pid (to read the server's resident memory)")
            base_url, pid = args.url.rstrip("/"), args.pid
            RawClient(base_url)  # refuses anything but loopback before any load is sent
        else:
            process, base_url = _start_server(env, Path(scratch) / "server.log")
            pid = process.pid
        print(f"server {base_url} pid {pid} settings {env or '(defaults)'}")
        try:
            capacity, report = asyncio.run(
                asyncio.wait_for(
                    soak(
                        base_url,
                        pid,
                        factor=args.factor,
                        duration_s=args.duration,
                        items=args.items,
                        capacity_s=args.capacity_s,
                        concurrency=args.concurrency,
                        max_requests=args.max_requests,
                    ),
                    timeout=args.capacity_s + args.duration + CLIENT_TIMEOUT_S + 30,
                )
            )
            passed = _print_report(capacity, report, sla_interactive_p99_ms(), _healthy(base_url))
            if args.json:
                args.json.write_text(
                    json.dumps(
                        {
                            "capacity_rps": capacity,
                            "offered_rps": report.offered_rps,
                            "status_counts": {str(k): v for k, v in report.status_counts.items()},
                            "rss": [report.rss_before, report.rss_peak, report.rss_after],
                            "samples": [sample.__dict__ for sample in report.samples],
                        }
                    )
                )
        finally:
            if process is not None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
