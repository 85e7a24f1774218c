"""Scale test on a real cluster: run a Locust profile while sampling the HPA and the pods.

With the chart installed (HPA on) and the service reachable at ``--host``::

    python -m loadtests.scale_test --namespace txc --hpa txclassify \
        --selector app.kubernetes.io/instance=txclassify --host http://127.0.0.1:8080 \
        --run-time-s 600 --users 40 --out-dir reports/scale

Every ``--interval-s`` seconds it records the HPA's current/desired replicas and metric values and the
pods' readiness; Locust writes its per-class latency history. The timeline goes to ``timeline.csv`` and
``timeline.png``. Exit code 1 when the HPA never scaled out, or when the interactive p95 was not back
within the SLA ``--recovery-s`` seconds after the first scale-out (and until the end of the run).

Sampling and verdict take plain API objects (the JSON the API server returns), so the tests replay
recorded objects (``loadtests/fixtures/``) through the same code that reads a live cluster.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast

from kubernetes.utils import parse_quantity

from loadtests.sla import DEFAULT_SLA_PATH, load_sla

# The kubernetes client ships without type hints.
_parse_quantity = cast(Callable[[str], Decimal], parse_quantity)

__all__ = [
    "ClusterReader",
    "LatencyPoint",
    "Sample",
    "Verdict",
    "judge",
    "read_latency_history",
    "sample_cluster",
]


class ClusterReader(Protocol):
    """Returns the HPA object and the pod list as the API server's JSON (camelCase dicts)."""

    def hpa(self) -> Mapping[str, Any]: ...

    def pods(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Sample:
    time_s: float
    current_replicas: int
    desired_replicas: int
    pods: int
    ready_pods: int
    metrics: Mapping[str, float] = field(default_factory=dict)


def _is_ready(pod: Mapping[str, Any]) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _metric_values(status: Mapping[str, Any]) -> dict[str, float]:
    values: dict[str, float] = {}
    for metric in status.get("currentMetrics") or []:
        if metric.get("type") != "Pods":
            continue
        pods = metric["pods"]
        current = pods.get("current", {}).get("averageValue")
        if current is not None:
            values[pods["metric"]["name"]] = float(_parse_quantity(current))
    return values


def sample_cluster(reader: ClusterReader, time_s: float) -> Sample:
    hpa, pods = reader.hpa(), reader.pods()
    status = hpa.get("status", {})
    # Terminating pods still appear in the list; they are neither capacity nor "scaled out".
    live = [pod for pod in pods.get("items", []) if not pod.get("metadata", {}).get("deletionTimestamp")]
    return Sample(
        time_s=time_s,
        current_replicas=int(status.get("currentReplicas") or 0),
        desired_replicas=int(status.get("desiredReplicas") or 0),
        pods=len(live),
        ready_pods=sum(1 for pod in live if _is_ready(pod)),
        metrics=_metric_values(status),
    )


@dataclass(frozen=True)
class LatencyPoint:
    time_s: float
    p95_ms: float | None


def read_latency_history(path: Path, request_class: str) -> list[LatencyPoint]:
    """Locust's ``_stats_history.csv`` (``--csv-full-history``): the class's rolling p95 per row."""
    points: list[LatencyPoint] = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != request_class:
                continue
            p95 = row["95%"]
            points.append(LatencyPoint(float(row["Timestamp"]), None if p95 in ("N/A", "") else float(p95)))
    return points


@dataclass(frozen=True)
class Verdict:
    scaled_out: bool
    recovered: bool
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.scaled_out and self.recovered


def judge(
    samples: Sequence[Sample], latency: Sequence[LatencyPoint], p95_limit_ms: float, recovery_s: float
) -> Verdict:
    """Scaled out: replicas rose above the first sample's. Recovered: every p95 reading from
    (first scale-out + ``recovery_s``) to the end is within ``p95_limit_ms``, and there is one."""
    reasons: list[str] = []
    if not samples:
        return Verdict(False, False, ("no HPA samples",))
    initial = samples[0].current_replicas
    scale_out = next((s for s in samples if s.current_replicas > initial), None)
    if scale_out is None:
        reasons.append(f"the HPA never scaled out (replicas stayed at {initial})")
        return Verdict(False, False, tuple(reasons))
    peak = max(s.current_replicas for s in samples)
    reasons.append(f"scaled out from {initial} at t={scale_out.time_s:.0f}s (peak {peak} replicas)")
    deadline = scale_out.time_s + recovery_s
    after = [point for point in latency if point.time_s >= deadline and point.p95_ms is not None]
    if not after:
        reasons.append(
            f"no latency reading after t={deadline:.0f}s: the run ended before the recovery deadline"
        )
        return Verdict(True, False, tuple(reasons))
    breaches = [point for point in after if point.p95_ms is not None and point.p95_ms > p95_limit_ms]
    if breaches:
        worst = max(point.p95_ms or 0.0 for point in breaches)
        reasons.append(
            f"p95 above {p95_limit_ms:g} ms in {len(breaches)} of {len(after)} readings "
            f"after t={deadline:.0f}s "
            f"(worst {worst:.0f} ms)"
        )
        return Verdict(True, False, tuple(reasons))
    reasons.append(f"p95 within {p95_limit_ms:g} ms in all {len(after)} readings after t={deadline:.0f}s")
    return Verdict(True, True, tuple(reasons))


class LiveCluster:
    """Reads through the ``kubernetes`` client (kubeconfig, or the in-cluster service account)."""

    def __init__(self, namespace: str, hpa_name: str, selector: str) -> None:
        from kubernetes import client, config

        kube_config: Any = config
        try:
            kube_config.load_kube_config()
        except kube_config.ConfigException:
            kube_config.load_incluster_config()
        self._api: Any = client.ApiClient()
        self._autoscaling = client.AutoscalingV2Api(self._api)
        self._core = client.CoreV1Api(self._api)
        self._namespace, self._hpa_name, self._selector = namespace, hpa_name, selector

    def hpa(self) -> Mapping[str, Any]:
        obj = self._autoscaling.read_namespaced_horizontal_pod_autoscaler(self._hpa_name, self._namespace)
        result: Mapping[str, Any] = self._api.sanitize_for_serialization(obj)
        return result

    def pods(self) -> Mapping[str, Any]:
        obj = self._core.list_namespaced_pod(self._namespace, label_selector=self._selector)
        result: Mapping[str, Any] = self._api.sanitize_for_serialization(obj)
        return result


def poll(
    reader: ClusterReader,
    running: Callable[[], bool],
    interval_s: float,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Sample]:
    """Samples every ``interval_s`` while ``running()``; timestamps are ``clock()`` (epoch seconds)."""
    while running():
        yield sample_cluster(reader, clock())
        sleep(interval_s)


def write_timeline(path: Path, samples: Sequence[Sample], latency: Sequence[LatencyPoint]) -> None:
    metric_names = sorted({name for s in samples for name in s.metrics})
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_s", "kind", "current_replicas", "desired_replicas", "pods", "ready_pods",
                         *metric_names, "p95_ms"])  # fmt: skip
        rows: list[tuple[float, list[Any]]] = []
        for s in samples:
            metrics = [s.metrics.get(n, "") for n in metric_names]
            hpa_row = [
                s.time_s,
                "hpa",
                s.current_replicas,
                s.desired_replicas,
                s.pods,
                s.ready_pods,
                *metrics,
                "",
            ]
            rows.append((s.time_s, hpa_row))
        for point in latency:
            rows.append((point.time_s, [point.time_s, "latency", "", "", "", "", *[""] * len(metric_names),
                                        "" if point.p95_ms is None else point.p95_ms]))  # fmt: skip
        for _, row_values in sorted(rows, key=lambda pair: pair[0]):
            writer.writerow(row_values)


def plot_timeline(
    path: Path, samples: Sequence[Sample], latency: Sequence[LatencyPoint], p95_limit_ms: float
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = min([s.time_s for s in samples] + [p.time_s for p in latency])
    figure, (pods_axes, latency_axes) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    pods_axes.step([s.time_s - start for s in samples], [s.current_replicas for s in samples], where="post",
                   label="current replicas")  # fmt: skip
    pods_axes.step([s.time_s - start for s in samples], [s.desired_replicas for s in samples], where="post",
                   label="desired replicas")  # fmt: skip
    pods_axes.step(
        [s.time_s - start for s in samples], [s.ready_pods for s in samples], where="post", label="ready pods"
    )
    pods_axes.set_ylabel("pods")
    pods_axes.legend(fontsize=8)
    points = [p for p in latency if p.p95_ms is not None]
    latency_axes.plot([p.time_s - start for p in points], [p.p95_ms for p in points], label="interactive p95")
    latency_axes.axhline(p95_limit_ms, color="red", linestyle=":", label="SLA p95")
    latency_axes.set_ylabel("ms")
    latency_axes.set_xlabel("seconds")
    latency_axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--hpa", required=True, help="HPA name (the chart's fullname)")
    parser.add_argument("--selector", required=True, help="label selector of the pods")
    parser.add_argument("--host", required=True, help="base URL of the service, as Locust should reach it")
    parser.add_argument("--traffic-profile", default="mixed", choices=["mixed", "monohq"])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--run-time-s", type=int, default=600)
    parser.add_argument("--interval-s", type=float, default=5.0)
    parser.add_argument("--recovery-s", type=float, default=180.0)
    parser.add_argument("--sla-file", type=Path, default=DEFAULT_SLA_PATH)
    parser.add_argument("--sla-profile", default="pod-8vcpu")
    parser.add_argument("--request-class", default="interactive")
    parser.add_argument("--out-dir", type=Path, default=Path("reports/scale"))
    args = parser.parse_args(argv)

    limits = load_sla(args.sla_file, args.sla_profile).classes[args.request_class]
    if limits.p95_ms is None:
        parser.error(f"the SLA profile has no p95_ms for {args.request_class}")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    prefix = args.out_dir / "locust"
    reader = LiveCluster(args.namespace, args.hpa, args.selector)
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--headless",
        "--host", args.host, "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 10)),
        "--run-time", f"{args.run_time_s}s", "--traffic-profile", args.traffic_profile,
        "--csv", str(prefix), "--csv-full-history", "--html", f"{prefix}.html",
        "--sla-file", "", "--only-summary",
    ]  # fmt: skip
    locust = subprocess.Popen(command)
    samples = list(poll(reader, lambda: locust.poll() is None, args.interval_s))
    latency = read_latency_history(Path(f"{prefix}_stats_history.csv"), args.request_class)
    verdict = judge(samples, latency, limits.p95_ms, args.recovery_s)
    write_timeline(args.out_dir / "timeline.csv", samples, latency)
    if samples:
        plot_timeline(args.out_dir / "timeline.png", samples, latency, limits.p95_ms)
    for reason in verdict.reasons:
        print(reason)
    print("scale test", "PASSED" if verdict.passed else "FAILED")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
