"""What the production loop costs the served path: a shadow bundle, and feedback writes.

Starts ``txclassify serve`` (the indexed bundle, result cache off so every text costs model time),
finds its capacity, then runs seeded open-loop traffic and prints one table row per configuration:

* no shadow vs a shadow bundle at 50% of capacity (served p50/p99), and both at 150% (the shadow must
  shed: dropped share, while the primary keeps its throughput);
* feedback to SQLite and to PostgreSQL (``--postgres-dsn``) alone, and classify at 50% with and
  without feedback beside it. These servers keep the result cache on and the corrected texts were
  classified first, as in production (a correction follows an answer), so the rows measure the store;
  a correction whose answer fell out of the cache also costs its model time, like a classify.

    python -m loadtests.bench_loop --shadow-model-dir models/txclassify-1.1.0 \\
        [--postgres-dsn postgresql://user@127.0.0.1:5432/db] [--seconds 30]

Numbers go into docs/operations.md with the machine and the date.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loadtests.openloop import LoadResult, TxclassifyFormat, build_schedule, run_open_loop
from loadtests.servers import RunningServer, ServerSpec
from loadtests.traffic import NarrationPool, SizeRange

__all__ = ["FeedbackFormat", "main"]

LABELS = ("FOOD_AND_DRINK", "TRANSPORTATION", "GENERAL_MERCHANDISE", "TRANSFER_OUT")


class FeedbackFormat:
    """``POST /v1/feedback`` with ids unique across the whole run (every request stores new rows)."""

    path = "/v1/feedback"

    def __init__(self) -> None:
        self._ids = itertools.count()

    def body(self, texts: Sequence[str]) -> dict[str, Any]:
        return {
            "feedback": [
                {"id": f"bench-{next(self._ids)}", "text": text, "label": LABELS[i % len(LABELS)]}
                for i, text in enumerate(texts)
            ]
        }

    def count_results(self, answer: Any) -> int:
        return int(answer["accepted"])


def _spec(name: str, env: dict[str, str]) -> ServerSpec:
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    return ServerSpec(name, command, "txclassify", {"TXC_CACHE_SIZE": "0", "TXC_LOG_LEVEL": "warning", **env})


def _warm(base_url: str, texts: Sequence[str]) -> None:
    """Classify ``texts`` once, so that their answers are in the result cache."""
    for start in range(0, len(texts), 100):
        chunk = texts[start : start + 100]
        body = json.dumps({"transactions": [{"id": str(i), "text": t} for i, t in enumerate(chunk)]})
        request = urllib.request.Request(
            f"{base_url}/v1/classify", data=body.encode(), headers={"content-type": "application/json"}
        )
        for _ in range(30):  # a busy server may refuse (429): wait as told, then retry
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                break
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    raise
                time.sleep(float(error.headers.get("Retry-After") or 1))


def _metric(base_url: str, name: str, labels: str = "") -> float:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    prefix = f"{name}{{{labels}}}" if labels else name
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix + " "))


def _run(
    base_url: str, texts: list[str], rate: float, seconds: float, sizes: SizeRange, seed: int
) -> LoadResult:
    schedule = build_schedule(texts, rate, seconds, sizes, seed)
    return asyncio.run(run_open_loop(base_url, TxclassifyFormat(), schedule, rate))


def _row(name: str, result: LoadResult, extra: str = "") -> str:
    row = (
        f"| {name} | {result.rate_per_s:.1f} | {result.texts_per_s:.0f} | {result.p50_ms:.1f} | "
        f"{result.p99_ms:.1f} | {result.error_rate:.1%} | {extra}{_reasons(result)} |"
    )
    print(row, flush=True)  # as it comes: a run cut short keeps its finished rows
    return row


def _reasons(result: LoadResult) -> str:
    return "".join(f" {reason}: {count}" for reason, count in sorted(result.failure_reasons.items()))


def _capacity(base_url: str, texts: list[str], sizes: SizeRange, seconds: float) -> float:
    """Texts per second served when offered far more (3,000 texts/s, a short overload run)."""
    mean_size = (sizes.low + sizes.high) / 2
    return _run(base_url, texts, 3000 / mean_size, seconds, sizes, seed=99).texts_per_s


async def _both(
    base_url: str, classify: Any, feedback: Any, rates: tuple[float, float]
) -> tuple[LoadResult, LoadResult]:
    first, second = await asyncio.gather(
        run_open_loop(base_url, TxclassifyFormat(), classify, rates[0]),
        run_open_loop(base_url, FeedbackFormat(), feedback, rates[1]),
    )
    return first, second


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shadow-model-dir", type=Path, required=True)
    parser.add_argument("--postgres-dsn", default=None)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--sizes", type=SizeRange.parse, default=SizeRange(1, 20))
    parser.add_argument(
        "--feedback-rate", type=float, default=10.0, help="feedback requests/s (10 items each)"
    )
    args = parser.parse_args(argv)
    texts = NarrationPool.generate(30_000, seed=7).texts
    mean_size = (args.sizes.low + args.sizes.high) / 2
    logs = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    rows = [
        "| configuration | requests/s | texts/s | p50 ms | p99 ms | errors | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    report: dict[str, Any] = {}

    with RunningServer(_spec("primary", {}), logs / "primary.log") as server:
        capacity = _capacity(server.base_url, texts, args.sizes, min(args.seconds, 15))
        half = 0.5 * capacity / mean_size
        report["capacity_texts_per_s"] = capacity
        alone = _run(server.base_url, texts, half, args.seconds, args.sizes, seed=1)
        rows.append(_row("no shadow, 50% load", alone))
        over = _run(server.base_url, texts, 3 * half, args.seconds, args.sizes, seed=2)
        rows.append(_row("no shadow, 150% load", over))
        report["no_shadow"] = {"p50": alone.p50_ms, "p99": alone.p99_ms, "over_texts_per_s": over.texts_per_s}

    env = {"TXC_SHADOW_MODEL_DIR": str(args.shadow_model_dir)}
    with RunningServer(_spec("shadow", env), logs / "shadow.log") as server:
        shadowed = _run(server.base_url, texts, half, args.seconds, args.sizes, seed=1)
        time.sleep(2)  # let the shadow finish its queue before reading its counters
        scored = _metric(server.base_url, "txclassify_shadow_items_total", 'agreed="true"') + _metric(
            server.base_url, "txclassify_shadow_items_total", 'agreed="false"'
        )
        dropped = _metric(server.base_url, "txclassify_shadow_dropped_items_total")
        rows.append(_row("shadow, 50% load", shadowed, f"shadow scored {scored:.0f}, dropped {dropped:.0f}"))
        over_shadowed = _run(server.base_url, texts, 3 * half, args.seconds, args.sizes, seed=2)
        dropped_after = _metric(server.base_url, "txclassify_shadow_dropped_items_total") - dropped
        scored_after = (
            _metric(server.base_url, "txclassify_shadow_items_total", 'agreed="true"')
            + _metric(server.base_url, "txclassify_shadow_items_total", 'agreed="false"')
            - scored
        )
        share = dropped_after / max(1.0, dropped_after + scored_after)
        rows.append(_row("shadow, 150% load", over_shadowed, f"shadow dropped {share:.0%} of offered texts"))
        report["shadow"] = {
            "p50": shadowed.p50_ms, "p99": shadowed.p99_ms, "dropped_50": dropped,
            "over_texts_per_s": over_shadowed.texts_per_s, "dropped_share_150": share,
        }  # fmt: skip

    stores = {"sqlite": f"sqlite:///{logs / 'feedback.db'}"}
    if args.postgres_dsn:
        stores["postgresql"] = args.postgres_dsn
    feedback_sizes = SizeRange(10, 10)
    corrected = int(args.feedback_rate * args.seconds * 10 * 1.2)
    for store, dsn in stores.items():
        env = {"TXC_FEEDBACK_DSN": dsn, "TXC_CACHE_SIZE": "100000"}
        with RunningServer(_spec(store, env), logs / f"{store}.log") as server:
            _warm(server.base_url, texts[:corrected])
            # Corrections of texts answered before (cached); classify traffic on texts never seen.
            schedule = build_schedule(texts, args.feedback_rate, args.seconds, feedback_sizes, seed=3)
            alone_fb = asyncio.run(
                run_open_loop(server.base_url, FeedbackFormat(), schedule, args.feedback_rate)
            )
            rows.append(_row(f"feedback only ({store})", alone_fb, "10 corrections per request"))
            fresh = build_schedule(texts, half, args.seconds, args.sizes, seed=1, start=10_000)
            alone_cls = asyncio.run(run_open_loop(server.base_url, TxclassifyFormat(), fresh, half))
            rows.append(_row(f"classify 50%, no feedback ({store} server)", alone_cls))
            classify = build_schedule(texts, half, args.seconds, args.sizes, seed=1, start=20_000)
            feedback = build_schedule(texts, args.feedback_rate, args.seconds, feedback_sizes, seed=4)
            with_cls, with_fb = asyncio.run(
                _both(server.base_url, classify, feedback, (half, args.feedback_rate))
            )
            rows.append(_row(f"classify 50% + feedback ({store})", with_cls, "classify requests"))
            rows.append(_row(f"feedback beside classify ({store})", with_fb, "feedback requests"))
            report[store] = {
                "feedback_p50": alone_fb.p50_ms, "feedback_p99": alone_fb.p99_ms,
                "classify_p99_alone": alone_cls.p99_ms, "classify_p99_with_feedback": with_cls.p99_ms,
                "feedback_p99_with_classify": with_fb.p99_ms,
            }  # fmt: skip

    print(
        f"capacity: {capacity:.0f} texts/s; 50% load = {half:.1f} requests/s "
        f"of {args.sizes.low}-{args.sizes.high} texts"
    )
    print("\n".join(rows))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
