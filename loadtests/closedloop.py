"""The benchmark's closed-loop mode: N keep-alive clients, each sending its next request as soon as the
last one answered, beside the raw engine on the same texts.

Open-loop rates (``loadtests.benchmark``) show latency under a fixed offer; a closed loop shows the
most a server serves to a fixed number of callers, which is how a batch job or an app fleet behaves::

    .venv/bin/python -m loadtests.closedloop --rows raw,ours-nocache,mlserver --clients 24 --sizes 1,20

Rows and their settings are the benchmark's (``server_specs``); every row gets the same texts in the
same order. Prints one Markdown row per (row, size) and writes ``--out`` (JSON, default reports/).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from loadtests.benchmark import (
    ALL_ROWS,
    FLOOR_ROWS,
    default_model_dir,
    machine_info,
    measure_raw_engine,
    naive_checkpoint,
    number_cell,
    resolve_lanes,
    server_specs,
    write_results,
)
from loadtests.openloop import WireFormat
from loadtests.requestlog import percentile_ms
from loadtests.servers import REPO_ROOT, RunningServer
from loadtests.traffic import NarrationPool

__all__ = ["CpuTimes", "main", "run_closed_loop"]


async def run_closed_loop(
    base_url: str, wire: WireFormat, texts: Sequence[str], *, clients: int, size: int, seconds: float
) -> dict[str, Any]:
    """``clients`` callers back to back for ``seconds``; texts taken in order, each used once per pass."""
    cursor = 0
    latencies: list[float] = []
    answered = failures = 0
    bodies_sent = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def caller() -> None:
            nonlocal cursor, answered, failures, bodies_sent
            while time.perf_counter() < stop_at:
                chunk = [texts[(cursor + i) % len(texts)] for i in range(size)]
                cursor += size
                payload = json.dumps(wire.body(chunk)).encode()
                began = time.perf_counter()
                bodies_sent += 1
                try:
                    async with session.post(
                        base_url + wire.path, data=payload, headers={"content-type": "application/json"}
                    ) as reply:
                        answer = await reply.read()
                        ok = reply.status == 200 and wire.count_results(json.loads(answer)) == size
                except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - began)
                    answered += size
                else:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "size": size,
        "requests": bodies_sent,
        "failures": failures,
        "texts_per_s": answered / elapsed,
        "p50_ms": percentile_ms(latencies, 50) if latencies else None,
        "p99_ms": percentile_ms(latencies, 99) if latencies else None,
    }


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds (user + system) used so far by the server process, by its main thread (the event
    loop, for the Python servers) and by this process (the load generator), from /proc."""

    server: float | None
    server_main_thread: float | None
    client: float

    @classmethod
    def now(cls, pid: int | None) -> CpuTimes:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return cls(
            _proc_cpu_s(f"/proc/{pid}/stat") if pid else None,
            _proc_cpu_s(f"/proc/{pid}/task/{pid}/stat") if pid else None,
            usage.ru_utime + usage.ru_stime,
        )

    def per_request_ms(self, before: CpuTimes, requests: int) -> dict[str, float | None]:
        """Milliseconds of CPU per request since ``before``; None where /proc could not be read."""

        def share(now: float | None, then: float | None) -> float | None:
            if now is None or then is None or not requests:
                return None
            return round((now - then) * 1000 / requests, 4)

        return {
            "server": share(self.server, before.server),
            "server_main_thread": share(self.server_main_thread, before.server_main_thread),
            "client": share(self.client, before.client),
        }


def _proc_cpu_s(path: str) -> float | None:
    try:
        fields = Path(path).read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime, in ticks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="raw,ours,ours-nocache", help="benchmark rows to run")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--checkpoint", type=Path, default=None, help="the naive row's student")
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--sizes", default="1,20", help="texts per request, one run each")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="cores in all")
    parser.add_argument(
        "--lanes", type=int, default=None, help="engine lanes (default --threads; see loadtests.benchmark)"
    )
    parser.add_argument("--raw-batch", type=int, default=64)
    parser.add_argument("--pool", type=int, default=40000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports/closed-loop.json")
    parser.add_argument("--log-dir", type=Path, default=REPO_ROOT / "reports/closed-loop-logs")
    args = parser.parse_args(argv)
    lanes = resolve_lanes(parser, args)
    rows = [row.strip() for row in args.rows.split(",") if row.strip()]
    known = ALL_ROWS + FLOOR_ROWS
    unknown = sorted(set(rows) - set(known))
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)}; choose from {', '.join(known)}")
    sizes = [int(size) for size in args.sizes.split(",")]
    model_dir = (args.model_dir or default_model_dir()).resolve()
    texts = NarrationPool.generate(args.pool, args.seed).texts
    args.log_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = naive_checkpoint(model_dir, args.checkpoint, recover="naive" in rows)
    specs = server_specs(model_dir, checkpoint, args.threads, args.log_dir, lanes)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_before": os.getloadavg(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "rows": {},
    }
    print(
        "| row | clients | texts/request | served texts/s | p50 ms | p99 ms | failed requests | vs raw "
        "| CPU ms/request: server, its main thread, client |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    raw: float | None = None
    if "raw" in rows:
        raw = float(
            measure_raw_engine(model_dir, texts, args.raw_batch, args.threads, args.seconds, lanes=lanes)[
                "texts_per_s"
            ]
        )
        results["raw"] = raw
        print(f"| raw | - | {args.raw_batch} | {raw:.0f} | | | | 1.00 |", flush=True)
    for name in rows:
        if name == "raw":
            continue
        spec = specs[name]
        runs = []
        with RunningServer(spec, args.log_dir / f"{name}.log") as server:
            for size in sizes:
                for seconds in (args.warmup_s, args.seconds):  # a warm-up run, then the measured one
                    before = CpuTimes.now(server.pid)
                    run = asyncio.run(
                        run_closed_loop(
                            server.base_url,
                            spec.wire_format,
                            texts,
                            clients=args.clients,
                            size=size,
                            seconds=seconds,
                        )
                    )
                    run["cpu_ms_per_request"] = CpuTimes.now(server.pid).per_request_ms(
                        before, run["requests"]
                    )
                runs.append(run)
                ratio = f"{run['texts_per_s'] / raw:.2f}" if raw else "-"
                p50, p99 = number_cell(run["p50_ms"], 1), number_cell(run["p99_ms"], 1)
                cpu = run["cpu_ms_per_request"]
                print(
                    f"| {name} | {args.clients} | {size} | {run['texts_per_s']:.0f} | {p50} | {p99} | "
                    f"{run['failures']}/{run['requests']} | {ratio} | "
                    f"{number_cell(cpu['server'], 3)}, {number_cell(cpu['server_main_thread'], 3)}, "
                    f"{number_cell(cpu['client'], 3)} |",
                    flush=True,
                )
        results["rows"][name] = {"env": dict(spec.env), "runs": runs}
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
