"""Benchmark the batching knobs in-process (no HTTP): texts/s and latency for each setting.

    python scripts/bench_batcher.py BUNDLE_DIR [--seconds 4] [--tokens 1024,2048,4096]
        [--sizes 32,64,128] [--waits 0,2,5]

The workload mixes, concurrently, interactive callers (1-20 texts, back to back) and statement callers
(500 texts). The cache is off so every text reaches the model. Prints one row per setting: throughput,
interactive p50/p95 latency, statement p50 latency, mean batch rows and padded tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.narrations import narrations
from service.classifier import Classifier
from service.metrics import ServiceMetrics
from service.settings import Settings


async def run_setting(
    bundle: Path, tokens: int, size: int, wait_ms: float, seconds: float, interactive: int, statements: int
) -> dict[str, float]:
    settings = Settings(
        model_dir=bundle, cache_size=0, max_batch_tokens=tokens, max_batch_size=size, max_wait_ms=wait_ms
    )
    classifier = Classifier.load(bundle, settings)
    metrics = ServiceMetrics()
    classifier.set_observer(metrics)
    classifier.warm_up()
    pool = narrations(20_000, seed=1)
    latencies: dict[str, list[float]] = {"interactive": [], "statement": []}
    texts_done = 0
    stop_at = time.perf_counter() + seconds

    async def caller(kind: str, seed: int) -> None:
        nonlocal texts_done
        rng = random.Random(seed)
        while time.perf_counter() < stop_at:
            count = rng.randint(1, 20) if kind == "interactive" else 500
            texts = rng.choices(pool, k=count)
            started = time.perf_counter()
            await classifier.aclassify(texts)
            latencies[kind].append(time.perf_counter() - started)
            texts_done += count

    started = time.perf_counter()
    await asyncio.gather(
        *(caller("interactive", i) for i in range(interactive)),
        *(caller("statement", 1000 + i) for i in range(statements)),
    )
    elapsed = time.perf_counter() - started
    await classifier.drain()
    batches = next(iter(metrics.batch_size.collect())).samples
    count = next(s.value for s in batches if s.name.endswith("_count"))
    rows = next(s.value for s in batches if s.name.endswith("_sum"))
    token_samples = next(iter(metrics.batch_tokens.collect())).samples
    padded = next(s.value for s in token_samples if s.name.endswith("_sum"))

    def pct(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")

    return {
        "texts_per_s": texts_done / elapsed,
        "interactive_p50_ms": pct(latencies["interactive"], 50),
        "interactive_p95_ms": pct(latencies["interactive"], 95),
        "statement_p50_ms": pct(latencies["statement"], 50),
        "mean_batch_items": rows / count if count else 0.0,
        "mean_padded_tokens": padded / count if count else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--tokens", default="1024,2048,4096")
    parser.add_argument("--sizes", default="32,64,128")
    parser.add_argument("--waits", default="2")
    parser.add_argument("--interactive", type=int, default=8, help="concurrent interactive callers")
    parser.add_argument("--statements", type=int, default=2, help="concurrent 500-text callers")
    args = parser.parse_args()
    grid = itertools.product(
        [int(x) for x in args.tokens.split(",")],
        [int(x) for x in args.sizes.split(",")],
        [float(x) for x in args.waits.split(",")],
    )
    print(f"bundle {args.bundle}, {args.seconds:.0f} s per setting, {args.interactive} interactive + "
          f"{args.statements} statement callers, cache off")  # fmt: skip
    header = ("max_batch_tokens", "max_batch_size", "max_wait_ms", "texts/s", "int p50 ms", "int p95 ms",
              "stmt p50 ms", "batch items", "padded tok")  # fmt: skip
    print(" | ".join(header))
    for tokens, size, wait in grid:
        row = asyncio.run(
            run_setting(args.bundle, tokens, size, wait, args.seconds, args.interactive, args.statements)
        )
        print(
            f"{tokens} | {size} | {wait:g} | {row['texts_per_s']:.0f} | {row['interactive_p50_ms']:.1f} | "
            f"{row['interactive_p95_ms']:.1f} | {row['statement_p50_ms']:.0f} | "
            f"{row['mean_batch_items']:.1f} | {row['mean_padded_tokens']:.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
