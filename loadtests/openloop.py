"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the server does.

A closed loop (N clients, each waiting for its answer) slows down with the server and hides queueing
("coordinated omission"). Here arrivals follow a seeded Poisson process at a given rate, each request's
latency is measured from its *scheduled* departure, and the same seed sends the same texts in the same
order to every server, so rows of the benchmark are comparable. Request bodies and answer checks are
per wire format (``WireFormat``), since each peer server speaks its own protocol.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from loadtests.requestlog import percentile_ms
from loadtests.traffic import SizeRange, classify_body

__all__ = [
    "WIRE_FORMATS",
    "LoadResult",
    "Schedule",
    "WireFormat",
    "build_schedule",
    "run_open_loop",
]


class WireFormat(Protocol):
    path: str

    def body(self, texts: Sequence[str]) -> dict[str, Any]: ...

    def count_results(self, answer: Any) -> int: ...


class TxclassifyFormat:
    """Our ``POST /v1/classify`` (also spoken by the naive FastAPI baseline)."""

    path = "/v1/classify"

    def body(self, texts: Sequence[str]) -> dict[str, Any]:
        return classify_body(texts)

    def count_results(self, answer: Any) -> int:
        return len(answer["results"])


class TextsListFormat:
    """``{"texts": [...]}`` in, a JSON list (or ``{"results": [...]}``) out: BentoML and Ray Serve peers."""

    def __init__(self, path: str) -> None:
        self.path = path

    def body(self, texts: Sequence[str]) -> dict[str, Any]:
        return {"texts": list(texts)}

    def count_results(self, answer: Any) -> int:
        return len(answer["results"] if isinstance(answer, dict) else answer)


class OpenInferenceFormat:
    """The Open Inference (KServe V2) protocol that MLServer speaks."""

    def __init__(self, model_name: str) -> None:
        self.path = f"/v2/models/{model_name}/infer"

    def body(self, texts: Sequence[str]) -> dict[str, Any]:
        return {"inputs": [{"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": list(texts)}]}

    def count_results(self, answer: Any) -> int:
        outputs = {output["name"]: output for output in answer["outputs"]}
        return len(outputs["label"]["data"])


WIRE_FORMATS: dict[str, WireFormat] = {
    "txclassify": TxclassifyFormat(),
    "bentoml": TextsListFormat("/classify"),
    "ray": TextsListFormat("/classify"),
    "mlserver": OpenInferenceFormat("txclassify"),
}


@dataclass(frozen=True)
class Schedule:
    """Departure offsets (seconds from the start) and the texts each request carries."""

    offsets_s: tuple[float, ...]
    requests: tuple[tuple[str, ...], ...]

    @property
    def texts(self) -> int:
        return sum(len(texts) for texts in self.requests)


def build_schedule(
    texts: Sequence[str], rate_per_s: float, duration_s: float, sizes: SizeRange, seed: int, start: int = 0
) -> Schedule:
    """Poisson arrivals at ``rate_per_s`` for ``duration_s``; texts taken in order from ``texts[start:]``
    (wrapping around), so consecutive schedules can be given fresh texts."""
    rng = random.Random(seed)
    offsets: list[float] = []
    requests: list[tuple[str, ...]] = []
    clock, cursor = rng.expovariate(rate_per_s), start
    while clock < duration_s:
        size = sizes.draw(rng)
        requests.append(tuple(texts[(cursor + i) % len(texts)] for i in range(size)))
        cursor += size
        offsets.append(clock)
        clock += rng.expovariate(rate_per_s)
    return Schedule(tuple(offsets), tuple(requests))


@dataclass(frozen=True)
class LoadResult:
    rate_per_s: float
    requests: int
    failures: int
    texts_ok: int
    elapsed_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failure_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def texts_per_s(self) -> float:
        return self.texts_ok / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


async def _send(
    session: aiohttp.ClientSession, url: str, wire: WireFormat, payload: bytes, expected: int, due: float
) -> tuple[str, float, float]:
    """Wait for the departure time, post, and return (outcome, latency from ``due``, completion time);
    the outcome is ``"ok"``, ``"HTTP <status>"``, ``"short answer"`` or the exception's class name."""
    await asyncio.sleep(max(0.0, due - time.perf_counter()))
    try:
        async with session.post(url, data=payload, headers={"content-type": "application/json"}) as response:
            raw = await response.read()
            if response.status != 200:
                outcome = f"HTTP {response.status}"
            elif wire.count_results(json.loads(raw)) != expected:
                outcome = "short answer"
            else:
                outcome = "ok"
    except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as error:
        outcome = type(error).__name__
    done = time.perf_counter()
    return outcome, done - due, done


async def run_open_loop(
    base_url: str, wire: WireFormat, schedule: Schedule, rate_per_s: float, timeout_s: float = 30.0
) -> LoadResult:
    """Send ``schedule`` to ``base_url``; failures include timeouts, non-200s and short answers."""
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    connector = aiohttp.TCPConnector(limit=512, force_close=False)
    url = base_url.rstrip("/") + wire.path
    # Serialised before the clock starts, so the generator spends its CPU on sending, not encoding.
    payloads = [json.dumps(wire.body(texts)).encode() for texts in schedule.requests]
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter() + 0.05
        outcomes = await asyncio.gather(
            *(
                _send(session, url, wire, payload, len(texts), start + offset)
                for offset, payload, texts in zip(
                    schedule.offsets_s, payloads, schedule.requests, strict=True
                )
            )
        )
    latencies = [latency for outcome, latency, _ in outcomes if outcome == "ok"]
    texts_ok = sum(
        len(texts)
        for (outcome, _, _), texts in zip(outcomes, schedule.requests, strict=True)
        if outcome == "ok"
    )
    last_done = max((done for _, _, done in outcomes), default=start)
    scheduled_span = schedule.offsets_s[-1] if schedule.offsets_s else 0.0
    return LoadResult(
        rate_per_s=rate_per_s,
        requests=len(outcomes),
        failures=len(outcomes) - len(latencies),
        texts_ok=texts_ok,
        elapsed_s=max(scheduled_span, last_done - start),
        p50_ms=percentile_ms(latencies, 50),
        p95_ms=percentile_ms(latencies, 95),
        p99_ms=percentile_ms(latencies, 99),
        failure_reasons=dict(Counter(outcome for outcome, _, _ in outcomes if outcome != "ok")),
    )
