"""The scale test's sampling and verdict, fed with API objects instead of a live cluster.

The fixtures in ``loadtests/fixtures/`` are HPA and PodList objects in the JSON form the API server
returns (autoscaling/v2, core/v1), with Locust ``--csv-full-history`` files beside them. They were written
from the API schemas, not captured from a cluster: no cluster was available where this was built.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from loadtests.scale_test import Sample, judge, poll, read_latency_history, write_timeline

FIXTURES = Path(__file__).resolve().parents[2] / "loadtests" / "fixtures"


class RecordedCluster:
    """Replays one recorded (HPA, pods) pair per read."""

    def __init__(self, name: str) -> None:
        self.samples: list[dict[str, Any]] = json.loads((FIXTURES / f"{name}.json").read_text())["samples"]
        self.index = 0

    def hpa(self) -> Mapping[str, Any]:
        hpa: Mapping[str, Any] = self.samples[self.index]["hpa"]
        return hpa

    def pods(self) -> Mapping[str, Any]:
        pods: Mapping[str, Any] = self.samples[self.index]["pods"]
        self.index += 1
        return pods

    def times(self) -> Iterator[float]:
        return iter(float(s["time_s"]) for s in self.samples)


def _run(name: str) -> list[Sample]:
    cluster = RecordedCluster(name)
    times = cluster.times()
    return list(
        poll(
            cluster,
            lambda: cluster.index < len(cluster.samples),
            5.0,
            clock=lambda: next(times),
            sleep=lambda _: None,
        )
    )


def test_fixtures_are_valid_api_objects() -> None:
    # The client's own deserializer (private, but the one the client uses on every response) rejects
    # objects that do not fit the OpenAPI models.
    api = ApiClient()
    for sample in RecordedCluster("scaled_out").samples:
        hpa = api._ApiClient__deserialize(sample["hpa"], "V2HorizontalPodAutoscaler")  # type: ignore[attr-defined]
        pods = api._ApiClient__deserialize(sample["pods"], "V1PodList")  # type: ignore[attr-defined]
        assert hpa.spec.metrics[0].pods.target.type == "AverageValue"
        assert all(pod.status.conditions for pod in pods.items)


def test_sampling_reads_replicas_readiness_and_metric() -> None:
    samples = _run("scaled_out")
    starting = samples[3]
    assert (starting.current_replicas, starting.desired_replicas) == (6, 6)
    assert (starting.pods, starting.ready_pods) == (6, 2)
    assert starting.metrics["txclassify_queue_wait_seconds"] == pytest.approx(1.84)


def test_terminating_pods_are_not_counted() -> None:
    last = _run("scaled_out_slow_recovery")[-1]
    assert (last.pods, last.ready_pods) == (9, 9)


def test_scale_out_with_recovery_passes() -> None:
    samples = _run("scaled_out")
    latency = read_latency_history(FIXTURES / "scaled_out_stats_history.csv", "interactive")
    verdict = judge(samples, latency, p95_limit_ms=300, recovery_s=120)
    assert verdict.passed, verdict.reasons


def test_scale_out_without_recovery_fails() -> None:
    samples = _run("scaled_out_slow_recovery")
    latency = read_latency_history(FIXTURES / "scaled_out_slow_recovery_stats_history.csv", "interactive")
    verdict = judge(samples, latency, p95_limit_ms=300, recovery_s=120)
    assert verdict.scaled_out
    assert not verdict.recovered
    assert "p95 above 300 ms" in verdict.reasons[-1]


def test_never_scaling_out_fails() -> None:
    samples = _run("never_scaled")
    latency = read_latency_history(FIXTURES / "never_scaled_stats_history.csv", "interactive")
    verdict = judge(samples, latency, p95_limit_ms=500, recovery_s=120)
    assert not verdict.passed
    assert verdict.reasons == ("the HPA never scaled out (replicas stayed at 2)",)


def test_a_run_that_ends_before_the_deadline_has_not_recovered() -> None:
    samples = _run("scaled_out")
    latency = read_latency_history(FIXTURES / "scaled_out_stats_history.csv", "interactive")
    verdict = judge(samples, latency, p95_limit_ms=300, recovery_s=3600)
    assert verdict.scaled_out
    assert not verdict.recovered


def test_timeline_csv_merges_hpa_and_latency(tmp_path: Path) -> None:
    samples = _run("scaled_out")
    latency = read_latency_history(FIXTURES / "scaled_out_stats_history.csv", "interactive")
    path = tmp_path / "timeline.csv"
    write_timeline(path, samples, latency)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("time_s,kind,current_replicas")
    assert len(lines) == 1 + len(samples) + len(latency)
    times = [float(line.split(",")[0]) for line in lines[1:]]
    assert times == sorted(times)
