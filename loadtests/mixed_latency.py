"""Small requests beside bulk load: the latency budget's trade-off curve (docs/batching.md).

For each setting, ``txclassify serve`` starts as a child process (result cache off, so every text costs
model time), then ``--bulk-requests`` requests of ``--bulk-size`` texts start together and, while any of
them runs, ``--small-size``-text requests arrive open-loop (Poisson, ``--small-rate`` per second).
One row per setting: the small requests' p50/p99/max, the bulk requests' wall time (first start to
last answer), and any non-200::

    .venv/bin/python -m loadtests.mixed_latency --budgets 0,10,20,40 --out reports/mixed-latency.json

A budget of 0 turns latency-aware cuts off (full batches always: the 1.2.0 behaviour with the
pipeline change). ``--extra-env`` adds settings to every row, e.g. ``TXC_MAX_BATCH_TOKENS=1024``;
``--threads 2 --lanes 1`` serves as 1.2.0 did (one batch at a time over both cores).

Besides the JSON (``--out``), ``--plot`` (default reports/mixed-latency.png) draws each small request's
latency against when it was sent in its round, all rounds overlaid, one panel per row: where in a round
the slow ones are (while the bulk bodies are parsed and prepared, or while their answers are rendered)
shows at a glance.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from loadtests.benchmark import default_model_dir, machine_info, number_cell, write_results
from loadtests.servers import REPO_ROOT, RunningServer, ServerSpec
from loadtests.traffic import NarrationPool, classify_body

__all__ = ["main", "plot_timeline", "run_mixed"]

#: The issue's target for small requests beside bulk load: p99 at most this (docs/batching.md).
TARGET_MS = 50.0


async def run_mixed(
    base_url: str,
    texts: Sequence[str],
    *,
    bulk_requests: int,
    bulk_size: int,
    small_size: int,
    small_rate: float,
    seed: int,
) -> dict[str, Any]:
    """One round: the bulk requests together, small ones arriving while any bulk request runs."""
    rng = random.Random(seed)
    cursor = 0

    def take(count: int) -> list[str]:
        nonlocal cursor
        chunk = [texts[(cursor + i) % len(texts)] for i in range(count)]
        cursor += count
        return chunk

    #: (total, queue, inference) ms of each answered small request, and when it was sent (s into the round).
    small_parts: list[tuple[float, float, float, float]] = []
    statuses: dict[str, int] = {}
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def post(body: bytes) -> tuple[int, float, float, float, float]:
            """Status, seconds as the client saw them, the server's X-Queue-Time-Ms and
            X-Inference-Time-Ms (the batcher's part: waiting for and inside model batches), and the
            clock when the answer was in."""
            started = time.perf_counter()
            async with session.post(base_url + "/v1/classify", data=body, headers=JSON) as reply:
                await reply.read()
                ended = time.perf_counter()
                return (
                    reply.status,
                    ended - started,
                    float(reply.headers.get("X-Queue-Time-Ms", "nan")),
                    float(reply.headers.get("X-Inference-Time-Ms", "nan")),
                    ended,
                )

        async def small(body: bytes) -> None:
            sent = time.perf_counter() - round_started
            status, seconds, queue_ms, inference_ms, _ = await post(body)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 200:
                small_parts.append((seconds * 1000, queue_ms, inference_ms, sent))

        # Bodies are serialised before the clock starts: encoding 5,000 transactions takes the client's
        # loop ~20 ms, which would otherwise land on the first small requests' latency.
        bulk_bodies = [_encoded(take(bulk_size)) for _ in range(bulk_requests)]
        round_started = time.perf_counter()
        bulk = [asyncio.ensure_future(post(body)) for body in bulk_bodies]
        smalls: list[asyncio.Task[None]] = []
        while not all(task.done() for task in bulk):
            await asyncio.sleep(rng.expovariate(small_rate))
            smalls.append(asyncio.ensure_future(small(_encoded(take(small_size)))))
        bulk_results = [task.result() for task in bulk]
        # First start to last answer (not to the end of the sleep that noticed it).
        bulk_wall = max(ended for *_, ended in bulk_results) - round_started
        await asyncio.gather(*smalls)
    for status, *_ in bulk_results:
        statuses[f"bulk {status}"] = statuses.get(f"bulk {status}", 0) + 1
    small_ms = sorted(total for total, *_ in small_parts)
    batcher_ms = sorted(queue + inference for _, queue, inference, _ in small_parts)
    return {
        "small_requests": len(small_ms),
        "small_p50_ms": statistics.median(small_ms) if small_ms else None,
        "small_p99_ms": _percentile(small_ms, 0.99),
        "small_max_ms": small_ms[-1] if small_ms else None,
        "bulk_wall_s": bulk_wall,
        "bulk_max_s": max(seconds for _, seconds, *_ in bulk_results),
        # The batcher's part of the small requests' latency; the rest is HTTP, parsing, the event loop
        # and the client.
        "small_batcher_p50_ms": statistics.median(batcher_ms) if batcher_ms else None,
        "small_batcher_p99_ms": _percentile(batcher_ms, 0.99),
        # Every answered small request: [seconds into the round when sent, total ms, batcher ms], in
        # sending order (``plot_timeline`` draws them; the slow ones cluster where the bulk work is).
        "small_timeline": [
            [round(sent, 3), round(total, 1), round(queue + inference, 1)]
            for total, queue, inference, sent in sorted(small_parts, key=lambda part: part[3])
        ],
        "small_slowest_ms": [
            {"total": round(total, 1), "queue": queue, "inference": inference, "sent_s": round(sent, 3)}
            for total, queue, inference, sent in sorted(small_parts, reverse=True)[:5]
        ],
        "statuses": statuses,
    }


JSON = {"Content-Type": "application/json"}


def _encoded(texts: list[str]) -> bytes:
    return json.dumps(classify_body(texts)).encode()


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    """The value at rank ``int(q * n)`` of ``ordered`` (sorted ascending; None when empty)."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def plot_timeline(results: dict[str, Any], path: Path, target_ms: float = TARGET_MS) -> None:
    """One panel per row: each small request's latency against when it was sent in its round (all
    rounds overlaid), its batcher part beneath, the target, and the bulk requests' median wall time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["rows"]
    figure, panels = plt.subplots(
        len(rows), 1, figsize=(11, 3.2 * max(1, len(rows))), squeeze=False, sharex=True
    )
    for panel, row in zip(panels[:, 0], rows, strict=True):
        points = [point for measured in row["rounds"] for point in measured.get("small_timeline", [])]
        if points:
            panel.scatter(
                [p[0] for p in points], [max(p[1], 0.1) for p in points], s=8, label="small request"
            )
            panel.scatter(
                [p[0] for p in points],
                [max(p[2], 0.1) for p in points],
                s=4,
                color="grey",
                alpha=0.6,
                label="of which in the batcher",
            )
        walls = [measured["bulk_wall_s"] for measured in row["rounds"]]
        if walls:
            panel.axvline(statistics.median(walls), color="black", linestyle="--", label="bulk done (median)")
        panel.axhline(target_ms, color="red", linestyle=":", label=f"target {target_ms:g} ms")
        extra = " ".join(f"{k}={v}" for k, v in row.get("extra_env", {}).items())
        panel.set_title(f"latency budget {row['latency_budget_ms']:g} ms {extra}".strip(), fontsize=9)
        panel.set_yscale("log")
        panel.set_ylabel("ms (log)")
        panel.grid(True, which="both", alpha=0.3)
        panel.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    panels[-1, 0].set_xlabel("seconds into the round (bulk requests sent at 0)")
    figure.suptitle(
        f"Small requests beside bulk load, {results['machine']['cores']} cores, {results['date'][:10]}",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=None, help="bundle (default: models/index.json)")
    parser.add_argument("--budgets", default="0,10,20,40", help="TXC_LATENCY_BUDGET_MS values, one row each")
    parser.add_argument("--extra-env", action="append", default=[], help="NAME=VALUE for every row")
    parser.add_argument("--bulk-requests", type=int, default=4)
    parser.add_argument("--bulk-size", type=int, default=5000)
    parser.add_argument("--small-size", type=int, default=5)
    parser.add_argument("--small-rate", type=float, default=20.0, help="small requests per second")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per row (all kept)")
    parser.add_argument(
        "--threads", type=int, default=None, help="TXC_INTRA_OP_THREADS (default: the service's, 1)"
    )
    parser.add_argument(
        "--lanes", type=int, default=None, help="TXC_ENGINE_LANES (default: the service's, cores / threads)"
    )
    parser.add_argument("--pool", type=int, default=40000, help="narrations generated")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports/mixed-latency.json")
    parser.add_argument(
        "--plot",
        type=Path,
        default=REPO_ROOT / "reports/mixed-latency.png",
        help="PNG: each small request's latency against when it was sent (plot_timeline)",
    )
    parser.add_argument("--log-dir", type=Path, default=REPO_ROOT / "reports/mixed-latency-logs")
    args = parser.parse_args(argv)

    model_dir = (args.model_dir or default_model_dir()).resolve()
    texts = NarrationPool.generate(args.pool, args.seed).texts
    extra = dict(item.split("=", 1) for item in args.extra_env)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_before": os.getloadavg(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "rows": [],
    }
    print(
        "| budget ms | extra | round | small n | small p50 ms | small p99 ms | small max ms "
        "| small p99 in batcher ms | bulk wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for budget in [float(b) for b in args.budgets.split(",")]:
        env = {
            "TXC_MODEL_DIR": str(model_dir),
            "TXC_LOG_LEVEL": "warning",
            "TXC_CACHE_SIZE": "0",
            "TXC_MAX_QUEUE_ITEMS": str(max(20_000, 2 * args.bulk_requests * args.bulk_size)),
            "TXC_LATENCY_BUDGET_MS": str(budget),
            **({} if args.threads is None else {"TXC_INTRA_OP_THREADS": str(args.threads)}),
            **({} if args.lanes is None else {"TXC_ENGINE_LANES": str(args.lanes)}),
            **extra,
        }
        command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
        spec = ServerSpec(f"budget-{budget:g}", command, "txclassify", env)
        with RunningServer(spec, args.log_dir / f"{spec.name}.log") as server:
            rounds = []
            for repeat in range(args.repeats + 1):  # round 0 warms up and teaches the cost model
                measured = asyncio.run(
                    run_mixed(
                        server.base_url,
                        texts,
                        bulk_requests=args.bulk_requests,
                        bulk_size=args.bulk_size,
                        small_size=args.small_size,
                        small_rate=args.small_rate,
                        seed=args.seed + repeat,
                    )
                )
                if repeat == 0:
                    continue
                rounds.append(measured)
                print(
                    f"| {budget:g} | {' '.join(args.extra_env) or '-'} | {repeat} | "
                    f"{measured['small_requests']} | "
                    f"{number_cell(measured['small_p50_ms'], 1)} | "
                    f"{number_cell(measured['small_p99_ms'], 1)} | "
                    f"{number_cell(measured['small_max_ms'], 1)} | "
                    f"{number_cell(measured['small_batcher_p99_ms'], 1)} | {measured['bulk_wall_s']:.2f} |",
                    flush=True,
                )
        results["rows"].append(
            {"latency_budget_ms": budget, "env": env, "extra_env": extra, "rounds": rounds}
        )
    write_results(results, args.out)
    plot_timeline(results, args.plot)
    print(f"wrote {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
