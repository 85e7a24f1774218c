"""The service-level agreement of ``sla.yaml``, checked against a load test's results.

Two ways in, one verdict: the Locust event hook (``locustfile.py``) checks the live run and sets the
process exit code; ``python -m loadtests.sla PREFIX`` checks a finished run from its CSV files
(Locust's ``PREFIX_stats.csv`` for latency and failures, our ``PREFIX_classes.csv`` for texts/s). Every
limit prints one ``PASS``/``FAIL`` line, so a red CI run names the line that failed.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from loadtests.requestlog import ClassSummary, read_class_csv

__all__ = [
    "DEFAULT_SLA_PATH",
    "CheckLine",
    "ClassLimits",
    "Observation",
    "Sla",
    "evaluate",
    "load_sla",
    "observations_from_csv",
    "observations_from_summaries",
]

DEFAULT_SLA_PATH = Path(__file__).with_name("sla.yaml")


@dataclass(frozen=True)
class ClassLimits:
    """Limits for one request class; a limit left out of the YAML is not checked."""

    p95_ms: float | None = None
    p99_ms: float | None = None
    max_error_rate: float | None = None
    min_texts_per_s: float | None = None


@dataclass(frozen=True)
class Sla:
    name: str
    classes: Mapping[str, ClassLimits]


@dataclass(frozen=True)
class Observation:
    """What a run measured for one request class; ``texts_per_s`` is None when unknown."""

    requests: int
    failures: int
    p95_ms: float
    p99_ms: float
    texts_per_s: float | None


@dataclass(frozen=True)
class CheckLine:
    request_class: str
    limit: str
    observed: float | None
    bound: float
    passed: bool

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        observed = "unknown" if self.observed is None else f"{self.observed:.4g}"
        relation = ">=" if self.limit.startswith("min_") else "<="
        return (
            f"SLA {verdict} {self.request_class} {self.limit}: {observed} (limit {relation} {self.bound:g})"
        )


_LIMIT_KEYS = frozenset(ClassLimits.__dataclass_fields__)


def load_sla(path: Path = DEFAULT_SLA_PATH, profile: str | None = None) -> Sla:
    """Read ``path``; ``profile`` picks one of its ``profiles`` (default: the file's ``default``)."""
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    name = profile or str(document["default"])
    raw_classes: dict[str, dict[str, float]] = document["profiles"][name]["classes"]
    classes: dict[str, ClassLimits] = {}
    for request_class, limits in raw_classes.items():
        unknown = set(limits) - _LIMIT_KEYS
        if unknown:
            raise ValueError(f"{path}: unknown SLA keys for {request_class}: {sorted(unknown)}")
        classes[request_class] = ClassLimits(**{key: float(value) for key, value in limits.items()})
    return Sla(name=name, classes=classes)


def evaluate(sla: Sla, observed: Mapping[str, Observation]) -> list[CheckLine]:
    """One line per limit of every class the run exercised.

    A class of the SLA that sent no request at all is not judged (a profile need not use every class),
    but a run that exercised none of the SLA's classes fails: it measured nothing.
    """
    lines: list[CheckLine] = []
    for request_class, limits in sla.classes.items():
        observation = observed.get(request_class)
        if observation is None or observation.requests == 0:
            continue
        error_rate = observation.failures / observation.requests
        checks: list[tuple[str, float | None, float | None, bool]] = [
            ("p95_ms", observation.p95_ms, limits.p95_ms, False),
            ("p99_ms", observation.p99_ms, limits.p99_ms, False),
            ("max_error_rate", error_rate, limits.max_error_rate, False),
            ("min_texts_per_s", observation.texts_per_s, limits.min_texts_per_s, True),
        ]
        for limit, value, bound, is_minimum in checks:
            if bound is None:
                continue
            passed = value is not None and (value >= bound if is_minimum else value <= bound)
            lines.append(CheckLine(request_class, limit, value, bound, passed))
    if not lines:
        lines.append(CheckLine("(any)", "requests", 0.0, 1.0, False))
    return lines


def observations_from_summaries(summaries: Sequence[ClassSummary]) -> dict[str, Observation]:
    return {
        s.request_class: Observation(s.requests, s.failures, s.p95_ms, s.p99_ms, s.texts_per_s)
        for s in summaries
    }


def observations_from_csv(prefix: str) -> dict[str, Observation]:
    """Read ``PREFIX_stats.csv`` (Locust) and, when present, ``PREFIX_classes.csv`` (texts/s)."""
    texts_per_s: dict[str, float] = {}
    classes_path = Path(f"{prefix}_classes.csv")
    if classes_path.exists():
        texts_per_s = {s.request_class: s.texts_per_s for s in read_class_csv(classes_path)}
    observed: dict[str, Observation] = {}
    with Path(f"{prefix}_stats.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = row["Name"]
            if name == "Aggregated":
                continue
            observed[name] = Observation(
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                p95_ms=float(row["95%"]),
                p99_ms=float(row["99%"]),
                texts_per_s=texts_per_s.get(name),
            )
    return observed


def report(lines: Sequence[CheckLine], stream: Any = None) -> bool:
    """Print every line; True when all passed."""
    out = stream or sys.stdout
    for line in lines:
        print(line, file=out)
    return all(line.passed for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a finished Locust run against sla.yaml.")
    parser.add_argument("csv_prefix", help="the --csv prefix the Locust run was given")
    parser.add_argument("--sla", type=Path, default=DEFAULT_SLA_PATH)
    parser.add_argument("--profile", default=None, help="SLA profile in the file (default: its default)")
    args = parser.parse_args(argv)
    sla = load_sla(args.sla, args.profile)
    return 0 if report(evaluate(sla, observations_from_csv(args.csv_prefix))) else 1


if __name__ == "__main__":
    raise SystemExit(main())
