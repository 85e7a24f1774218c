"""The HPA replay follows the controller's documented algorithm: tolerance, stabilisation, policies."""

from __future__ import annotations

from loadtests.hpa import (
    DEFAULT_BEHAVIOR,
    Behavior,
    HorizontalPodAutoscaler,
    HpaSpec,
    PodMetric,
    ScalingPolicy,
    ScalingRules,
    behavior_from_manifest,
    replicas_for_metric,
)

NO_LIMITS = Behavior(
    scale_up=ScalingRules(0, "Max", (ScalingPolicy("Percent", 1000, 15),)),
    scale_down=ScalingRules(0, "Max", (ScalingPolicy("Percent", 100, 15),)),
)


def _metric(value: float, pods: int, missing: int = 0) -> dict[str, PodMetric]:
    return {"queue_wait": PodMetric([value] * pods, missing)}


def _hpa(
    behavior: Behavior = NO_LIMITS, min_replicas: int = 1, max_replicas: int = 50
) -> HorizontalPodAutoscaler:
    return HorizontalPodAutoscaler(HpaSpec(min_replicas, max_replicas, {"queue_wait": 0.1}, behavior))


def test_ratio_rounds_up() -> None:
    assert replicas_for_metric(4, PodMetric([0.25] * 4), target=0.1) == 10


def test_within_tolerance_keeps_the_count() -> None:
    assert replicas_for_metric(4, PodMetric([0.109] * 4), target=0.1) == 4
    assert replicas_for_metric(4, PodMetric([0.091] * 4), target=0.1) == 4
    assert replicas_for_metric(4, PodMetric([0.111] * 4), target=0.1) == 5


def test_missing_pods_count_as_zero_when_scaling_up() -> None:
    # 2 pods at 3x target, 2 pods without samples: (0.3 + 0.3 + 0 + 0) / 4 = 0.15 -> ceil(1.5 * 4) = 6
    assert replicas_for_metric(4, PodMetric([0.3, 0.3], missing_pods=2), target=0.1) == 6


def test_missing_pods_that_reverse_the_direction_cancel_the_step() -> None:
    # 1 pod at 1.5x target, 3 missing counted as 0: the average falls below target, so no change.
    assert replicas_for_metric(4, PodMetric([0.15], missing_pods=3), target=0.1) == 4


def test_idle_metric_scales_down_to_min_replicas() -> None:
    hpa = _hpa(min_replicas=2)
    assert hpa.reconcile(0.0, 6, _metric(0.0, 6)) == 2


def test_max_replicas_caps_scale_up() -> None:
    hpa = _hpa(max_replicas=8)
    assert hpa.reconcile(0.0, 4, _metric(1.0, 4)) == 8


def test_default_scale_up_policy_allows_the_larger_of_double_or_four_pods() -> None:
    assert _hpa(DEFAULT_BEHAVIOR).reconcile(0.0, 2, _metric(1.0, 2)) == 6  # +4 pods beats +100 %
    assert _hpa(DEFAULT_BEHAVIOR).reconcile(0.0, 10, _metric(1.0, 10)) == 20  # +100 % beats +4


def test_scale_up_policy_counts_replicas_added_earlier_in_the_period() -> None:
    hpa = _hpa(DEFAULT_BEHAVIOR)
    assert hpa.reconcile(0.0, 2, _metric(1.0, 2)) == 6
    # 10 s later the 15 s period started at 2 replicas: at most max(2 * 2, 2 + 4) = 6, so no change.
    assert hpa.reconcile(10.0, 6, _metric(1.0, 6)) == 6
    # After the period has passed, the step is measured from 6 again: +100 % = 12.
    assert hpa.reconcile(16.0, 6, _metric(1.0, 6)) == 12


def test_min_select_policy_takes_the_smaller_step() -> None:
    behavior = Behavior(
        scale_up=ScalingRules(0, "Min", (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 1, 15))),
        scale_down=DEFAULT_BEHAVIOR.scale_down,
    )
    assert _hpa(behavior).reconcile(0.0, 4, _metric(1.0, 4)) == 5


def test_disabled_direction_never_moves() -> None:
    behavior = Behavior(scale_up=DEFAULT_BEHAVIOR.scale_up, scale_down=ScalingRules(0, "Disabled", ()))
    assert _hpa(behavior).reconcile(0.0, 6, _metric(0.0, 6)) == 6


def test_scale_down_waits_for_the_stabilization_window() -> None:
    behavior = Behavior(
        scale_up=DEFAULT_BEHAVIOR.scale_up,
        scale_down=ScalingRules(300, "Max", (ScalingPolicy("Percent", 100, 15),)),
    )
    hpa = _hpa(behavior)
    assert hpa.reconcile(0.0, 6, _metric(0.1, 6)) == 6  # at target: recommendation 6
    assert hpa.reconcile(15.0, 6, _metric(0.01, 6)) == 6  # wants 1, but 6 was recommended 15 s ago
    assert hpa.reconcile(290.0, 6, _metric(0.01, 6)) == 6  # still inside the 300 s window
    assert hpa.reconcile(316.0, 6, _metric(0.01, 6)) == 1  # the 6 has left the window


def test_scale_down_percent_policy_limits_each_period() -> None:
    behavior = Behavior(
        scale_up=DEFAULT_BEHAVIOR.scale_up,
        scale_down=ScalingRules(0, "Max", (ScalingPolicy("Percent", 50, 60),)),
    )
    hpa = _hpa(behavior)
    assert hpa.reconcile(0.0, 10, _metric(0.0, 10)) == 5
    assert hpa.reconcile(30.0, 5, _metric(0.0, 5)) == 5  # the 60 s period started at 10: floor(10 * 0.5)
    assert hpa.reconcile(61.0, 5, _metric(0.0, 5)) == 2


def test_scale_up_stabilization_takes_the_lowest_recent_recommendation() -> None:
    behavior = Behavior(
        scale_up=ScalingRules(60, "Max", DEFAULT_BEHAVIOR.scale_up.policies),
        scale_down=DEFAULT_BEHAVIOR.scale_down,
    )
    hpa = _hpa(behavior)
    assert hpa.reconcile(0.0, 2, _metric(0.1, 2)) == 2
    assert hpa.reconcile(15.0, 2, _metric(0.5, 2)) == 2  # a spike; 2 was recommended within 60 s
    assert hpa.reconcile(61.0, 2, _metric(0.5, 2)) == 6  # the spike persisted past the window: +4


def test_behavior_from_manifest_fills_api_defaults() -> None:
    behavior = behavior_from_manifest(
        {
            "scaleDown": {
                "stabilizationWindowSeconds": 120,
                "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
            }
        }
    )
    assert behavior.scale_up == DEFAULT_BEHAVIOR.scale_up
    assert behavior.scale_down == ScalingRules(120, "Max", (ScalingPolicy("Pods", 1, 60),))
