"""Per-request records of a load test, and the figures the SLA and the MonoHQ report need.

Locust's own stats count requests; the SLA also needs texts per second and exact percentiles per
request class, and the MonoHQ profile needs the small requests' latency *while the big batches were in
flight*. Each completed request is recorded here once (start, duration, texts, outcome).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["ClassSummary", "RequestLog", "RequestRecord", "WindowSummary", "percentile_ms"]


@dataclass(frozen=True)
class RequestRecord:
    request_class: str
    start_s: float
    duration_s: float
    texts: int
    ok: bool

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class ClassSummary:
    """What one request class did over the whole run; latencies in milliseconds."""

    request_class: str
    requests: int
    failures: int
    texts_ok: int
    texts_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class WindowSummary:
    """Latency of one class inside a time window (the MonoHQ batches' lifetime)."""

    window_start_s: float
    window_end_s: float
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile_ms(durations_s: Sequence[float], percent: float) -> float:
    """The ``percent`` percentile of ``durations_s`` in milliseconds (linear interpolation); 0 if empty."""
    if not durations_s:
        return 0.0
    return float(np.percentile(np.asarray(durations_s) * 1000.0, percent))


class RequestLog:
    """An append-only list of completed requests, with summaries by class."""

    def __init__(self) -> None:
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        self._records.append(record)

    def records(self, request_class: str | None = None) -> list[RequestRecord]:
        return [r for r in self._records if request_class is None or r.request_class == request_class]

    def completed(self, request_class: str) -> int:
        return sum(1 for record in self._records if record.request_class == request_class)

    def span_s(self) -> float:
        """Seconds from the first request's start to the last request's end (0 if empty)."""
        if not self._records:
            return 0.0
        return max(r.end_s for r in self._records) - min(r.start_s for r in self._records)

    def summarize(self, request_class: str, duration_s: float | None = None) -> ClassSummary:
        """Summary of one class; texts/s are over ``duration_s`` (default: the whole log's span)."""
        records = self.records(request_class)
        ok = [r for r in records if r.ok]
        seconds = self.span_s() if duration_s is None else duration_s
        texts_ok = sum(r.texts for r in ok)
        durations = [r.duration_s for r in ok]
        return ClassSummary(
            request_class=request_class,
            requests=len(records),
            failures=len(records) - len(ok),
            texts_ok=texts_ok,
            texts_per_s=texts_ok / seconds if seconds > 0 else 0.0,
            p50_ms=percentile_ms(durations, 50),
            p95_ms=percentile_ms(durations, 95),
            p99_ms=percentile_ms(durations, 99),
            max_ms=max(durations, default=0.0) * 1000.0,
        )

    def classes(self) -> list[str]:
        return sorted({r.request_class for r in self._records})

    def window_of(self, request_class: str) -> tuple[float, float] | None:
        """From the first start to the last end of ``request_class``'s requests; None if it has none."""
        records = self.records(request_class)
        if not records:
            return None
        return min(r.start_s for r in records), max(r.end_s for r in records)

    def summarize_window(self, request_class: str, window: tuple[float, float]) -> WindowSummary:
        """Latency of ``request_class``'s requests that overlapped ``window`` at all."""
        start, end = window
        inside = [r for r in self.records(request_class) if r.start_s < end and r.end_s > start]
        durations = [r.duration_s for r in inside if r.ok]
        return WindowSummary(
            window_start_s=start,
            window_end_s=end,
            requests=len(inside),
            failures=sum(1 for r in inside if not r.ok),
            p50_ms=percentile_ms(durations, 50),
            p95_ms=percentile_ms(durations, 95),
            p99_ms=percentile_ms(durations, 99),
        )


CLASS_CSV_FIELDS = tuple(ClassSummary.__dataclass_fields__)


def write_class_csv(path: Path, summaries: Iterable[ClassSummary]) -> None:
    """Write one row per class (the ``_classes.csv`` beside Locust's own CSV files)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CLASS_CSV_FIELDS)
        writer.writeheader()
        for summary in summaries:
            writer.writerow(asdict(summary))


def read_class_csv(path: Path) -> list[ClassSummary]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        ClassSummary(
            request_class=row["request_class"],
            requests=int(row["requests"]),
            failures=int(row["failures"]),
            texts_ok=int(row["texts_ok"]),
            texts_per_s=float(row["texts_per_s"]),
            p50_ms=float(row["p50_ms"]),
            p95_ms=float(row["p95_ms"]),
            p99_ms=float(row["p99_ms"]),
            max_ms=float(row["max_ms"]),
        )
        for row in rows
    ]
