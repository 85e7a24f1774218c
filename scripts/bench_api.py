"""Served API throughput under concurrent load, next to the raw engine, on this machine.

    python scripts/bench_api.py BUNDLE_DIR [--seconds 8] [--port 18765]

Starts ``txclassify serve`` on the bundle (cache off, so every text reaches the model) as a child
process, drives it with an async HTTP client (pre-serialised bodies, one process), then measures the raw
engine in-process on the same texts. Client and server share the machine's cores, so the served numbers
include the load generator's cost; the table says so. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.narrations import narrations
from service.classifier import Classifier
from service.settings import Settings

#: (label, transactions per request, concurrent clients)
SCENARIOS = (
    ("interactive", 5, 32),
    ("small batches", 50, 16),
    ("statements", 500, 4),
    ("max requests", 5000, 2),
)


def raw_engine(bundle: Path, texts: list[str], batch: int) -> tuple[float, float]:
    """(engine-only texts/s on pre-tokenised, length-sorted batches; full in-process classify() texts/s)."""
    classifier = Classifier.load(
        bundle, Settings(cache_size=0, max_batch_size=batch, max_batch_tokens=1 << 20)
    )
    classifier.warm_up()
    ids = sorted(classifier._tokenizer.encode(texts), key=len)
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        classifier._engine.run(ids[start : start + batch])
    engine_rate = len(ids) / (time.perf_counter() - started)
    started = time.perf_counter()
    classifier.classify(texts)
    return engine_rate, len(texts) / (time.perf_counter() - started)


async def drive(port: int, texts: list[str], size: int, clients: int, seconds: float) -> dict[str, float]:
    rng = random.Random(size)
    bodies = [
        json.dumps(
            {"transactions": [{"id": str(i), "text": t} for i, t in enumerate(rng.choices(texts, k=size))]}
        ).encode()
        for _ in range(16)
    ]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    done = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120) as client:
        stop_at = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            nonlocal done
            turn = index
            while time.perf_counter() < stop_at:
                body = bodies[turn % len(bodies)]
                turn += clients
                started = time.perf_counter()
                response = await client.post(
                    "/v1/classify", content=body, headers={"content-type": "application/json"}
                )
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 200:
                    done += size

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {
        "texts_per_s": done / elapsed,
        "p50_ms": quantiles[49] * 1000,
        "p95_ms": quantiles[94] * 1000,
        "requests": len(latencies),
        "non_200": sum(count for status, count in statuses.items() if status != 200),
    }


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("server not ready after 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--batch", type=int, default=64, help="batch size for the raw engine row")
    args = parser.parse_args()
    texts = narrations(20_000, seed=3)
    env = {**os.environ, "TXC_MODEL_DIR": str(args.bundle), "TXC_CACHE_SIZE": "0", "TXC_LOG_LEVEL": "warning"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(args.port)],
        env=env,
    )
    rows = []
    try:
        wait_ready(args.port, server)
        for label, size, clients in SCENARIOS:
            result = asyncio.run(drive(args.port, texts, size, clients, args.seconds))
            rows.append((label, size, clients, result))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    engine_rate, classify_rate = raw_engine(args.bundle, texts, args.batch)
    cores = len(os.sched_getaffinity(0))
    print(f"\nbundle {args.bundle} | {cores} cores | cache off | {args.seconds:.0f} s per scenario | "
          f"client and server on the same cores\n")  # fmt: skip
    print(
        "| path | texts/request | concurrent clients | texts/s | p50 ms | p95 ms | non-200 | vs raw engine |"
    )
    print("|---|---|---|---|---|---|---|---|")
    raw_label = f"raw engine (pre-tokenised, batch {args.batch}, best of 3)"
    print(f"| {raw_label} | - | - | {engine_rate:.0f} | | | | 100% |")
    classify_label = "in-process classify() (best of 3; scores repeated texts once)"
    share = classify_rate / engine_rate
    print(f"| {classify_label} | {len(texts)} | 1 | {classify_rate:.0f} | | | | {share:.0%} |")
    for label, size, clients, result in rows:
        rate = result["texts_per_s"]
        print(
            f"| HTTP API: {label} | {size} | {clients} | {rate:.0f} | {result['p50_ms']:.1f} | "
            f"{result['p95_ms']:.1f} | {result['non_200']:.0f} | {rate / engine_rate:.0%} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
