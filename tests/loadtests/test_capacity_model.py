"""The capacity model reads the chart's autoscaling values and replays a ramp through the HPA."""

from __future__ import annotations

from pathlib import Path

import yaml

from loadtests.capacity import (
    DEFAULT_VALUES,
    QUEUE_WAIT,
    PodCurve,
    hpa_spec_from_values,
    pods_needed,
    replay,
)
from loadtests.hpa import DEFAULT_BEHAVIOR, Behavior, HpaSpec, ScalingPolicy, ScalingRules

CURVE = PodCurve(
    capacity_texts_per_s=1000.0,
    utilisation=(0.2, 0.5, 0.8, 0.95),
    queue_wait_s=(0.001, 0.003, 0.02, 0.2),
    inference_s=0.02,
)


def test_pods_needed_uses_the_highest_utilisation_within_the_budget() -> None:
    # Within 50 ms a pod may run at 80 %: 800 texts/s per pod.
    assert pods_needed(4000.0, CURVE, wait_budget_s=0.05) == 5
    assert pods_needed(4001.0, CURVE, wait_budget_s=0.05) == 6


def test_chart_values_become_the_hpa_spec() -> None:
    values = yaml.safe_load(Path(DEFAULT_VALUES).read_text())
    spec = hpa_spec_from_values(values)
    scaling = values["autoscaling"]
    assert spec.min_replicas == scaling["minReplicas"]
    assert spec.max_replicas == scaling["maxReplicas"]
    assert spec.targets[QUEUE_WAIT] == scaling["targetQueueWaitMilliseconds"] / 1000
    assert (
        spec.behavior.scale_down.stabilization_window_s
        == scaling["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    )


def test_replay_scales_out_under_overload_and_back_after_the_window() -> None:
    spec = HpaSpec(min_replicas=1, max_replicas=8, targets={QUEUE_WAIT: 0.02}, behavior=DEFAULT_BEHAVIOR)
    ramp = [(0.0, 500.0), (60.0, 500.0), (120.0, 4000.0), (300.0, 4000.0), (301.0, 500.0), (1200.0, 500.0)]
    result = replay(spec, CURVE, ramp, pod_startup_s=30.0)
    assert result.replicas[0] == 1
    assert max(result.replicas) == spec.max_replicas  # the backlog during pod start-up asks for more than 8
    # Once the new pods are ready, the backlog drains and the wait returns under the target.
    assert result.queue_wait_s[result.time_s.index(250.0)] < spec.targets[QUEUE_WAIT]
    # The last high recommendation came while the backlog drained (~180 s): the 300 s scale-down window
    # holds all 8 pods until ~480 s although the load fell at 301 s.
    assert set(result.replicas[301:470]) == {8}
    assert result.replicas[-1] == 1


def test_slow_scale_down_settles_where_the_wait_meets_the_target() -> None:
    chart_like = Behavior(
        DEFAULT_BEHAVIOR.scale_up, ScalingRules(300, "Min", (ScalingPolicy("Pods", 1, 60),))
    )
    spec = HpaSpec(min_replicas=1, max_replicas=8, targets={QUEUE_WAIT: 0.02}, behavior=chart_like)
    result = replay(spec, CURVE, [(0.0, 500.0), (60.0, 500.0), (120.0, 4000.0), (1800.0, 4000.0)])
    # 4000 texts/s at the curve's 20 ms point (80 % of 1000 texts/s per pod) needs exactly 5 pods.
    assert set(result.replicas[900:]) == {5}
    assert min(result.replicas[120:]) == 5


def test_replay_never_goes_below_min_replicas_at_idle() -> None:
    spec = HpaSpec(min_replicas=2, max_replicas=8, targets={QUEUE_WAIT: 0.05})
    result = replay(spec, CURVE, [(0.0, 0.0), (900.0, 0.0)])
    assert set(result.replicas) == {2}
