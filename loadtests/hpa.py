"""The HorizontalPodAutoscaler's replica computation (autoscaling/v2), replayable offline.

This follows the controller in kubernetes/pkg/controller/podautoscaler (horizontal.go,
replica_calculator.go) for ``Pods`` metrics with ``AverageValue`` targets, the only kind the chart uses:

1. per metric: ratio = average value / target; inside the tolerance (10 %) keep the current count;
   pods without a sample yet count as 0 when scaling up and as the target when scaling down, and a
   step that this reverses is dropped; else desired = ceil(ratio × pods with samples);
2. desired = the largest over metrics, clamped to [minReplicas, maxReplicas];
3. stabilisation: the recommendation is kept within [min of the scale-up window's recommendations,
   max of the scale-down window's recommendations] around the current count;
4. rate limits: each policy allows (replicas at the period's start) + Pods or × (1 + Percent/100) up,
   − Pods or × (1 − Percent/100) down; ``selectPolicy`` Max takes the most permissive, Min the least,
   Disabled forbids the direction.

Hand-written because no maintained Python package replays the controller; it is kept to the lines
above so that it can be read against the Go source. Time is an explicit argument (seconds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_BEHAVIOR",
    "Behavior",
    "HorizontalPodAutoscaler",
    "HpaSpec",
    "PodMetric",
    "ScalingPolicy",
    "ScalingRules",
    "behavior_from_manifest",
    "replicas_for_metric",
]

PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]


@dataclass(frozen=True)
class ScalingPolicy:
    type: PolicyType
    value: int
    period_s: int


@dataclass(frozen=True)
class ScalingRules:
    stabilization_window_s: int
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]

    @property
    def longest_period_s(self) -> int:
        return max((policy.period_s for policy in self.policies), default=0)


@dataclass(frozen=True)
class Behavior:
    scale_up: ScalingRules
    scale_down: ScalingRules


#: The API server's defaults when ``behavior`` (or one direction of it) is left out.
DEFAULT_BEHAVIOR = Behavior(
    scale_up=ScalingRules(0, "Max", (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15))),
    scale_down=ScalingRules(300, "Max", (ScalingPolicy("Percent", 100, 15),)),
)


@dataclass(frozen=True)
class HpaSpec:
    """``targets`` maps a Pods metric name to its per-pod ``AverageValue`` target."""

    min_replicas: int
    max_replicas: int
    targets: Mapping[str, float]
    behavior: Behavior = DEFAULT_BEHAVIOR
    tolerance: float = 0.1


@dataclass(frozen=True)
class PodMetric:
    """One metric as the controller sees it: a value per pod that has one, and pods that have none."""

    values: Sequence[float]
    missing_pods: int = 0


def replicas_for_metric(current: int, metric: PodMetric, target: float, tolerance: float = 0.1) -> int:
    """Desired replicas for one Pods metric (``calcPlainMetricReplicas``)."""
    if not metric.values:
        return current
    usage_ratio = (sum(metric.values) / len(metric.values)) / target
    if metric.missing_pods == 0:
        if abs(1.0 - usage_ratio) <= tolerance:
            return current
        return math.ceil(usage_ratio * len(metric.values))
    # Pods with no sample yet: assume the least disruptive value for the direction being taken.
    fill = 0.0 if usage_ratio > 1.0 else target
    values = list(metric.values) + [fill] * metric.missing_pods
    new_ratio = (sum(values) / len(values)) / target
    if (
        abs(1.0 - new_ratio) <= tolerance
        or (usage_ratio < 1.0 < new_ratio)
        or (new_ratio < 1.0 < usage_ratio)
    ):
        return current
    new_replicas = math.ceil(new_ratio * len(values))
    if (new_ratio < 1.0 and new_replicas > current) or (new_ratio > 1.0 and new_replicas < current):
        return current
    return new_replicas


@dataclass
class HorizontalPodAutoscaler:
    """The controller's state for one HPA; call ``reconcile`` once per sync period (15 s by default)."""

    spec: HpaSpec
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    scale_up_events: list[tuple[float, int]] = field(default_factory=list)
    scale_down_events: list[tuple[float, int]] = field(default_factory=list)

    def reconcile(self, now: float, current: int, metrics: Mapping[str, PodMetric]) -> int:
        """The replica count the controller sets at ``now``; records the scale event if it changes."""
        spec = self.spec
        if current > spec.max_replicas:
            desired = spec.max_replicas
        elif current < spec.min_replicas:
            desired = spec.min_replicas
        else:
            proposals = [
                replicas_for_metric(current, metrics[name], target, spec.tolerance)
                for name, target in spec.targets.items()
                if name in metrics
            ]
            # Not clamped yet: the controller stabilises the raw proposal, then limits it.
            proposed = max(proposals, default=current)
            if not self.recommendations:
                self.recommendations.append((now, current))
            stabilized = self._stabilize(now, current, proposed)
            desired = self._limit_rate(now, current, stabilized)
        if desired != current:
            self._store_event(now, current, desired)
        return desired

    def _stabilize(self, now: float, current: int, proposed: int) -> int:
        rules = self.spec.behavior
        up_cutoff = now - rules.scale_up.stabilization_window_s
        down_cutoff = now - rules.scale_down.stabilization_window_s
        up_recommendation = down_recommendation = proposed
        old_index: int | None = None
        for index, (stamp, recommendation) in enumerate(self.recommendations):
            if stamp > up_cutoff:
                up_recommendation = min(recommendation, up_recommendation)
            if stamp > down_cutoff:
                down_recommendation = max(recommendation, down_recommendation)
            if stamp < up_cutoff and stamp < down_cutoff:
                old_index = index
        # The controller recycles one expired slot rather than growing the list.
        if old_index is None:
            self.recommendations.append((now, proposed))
        else:
            self.recommendations[old_index] = (now, proposed)
        return min(max(current, up_recommendation), down_recommendation)

    def _limit_rate(self, now: float, current: int, desired: int) -> int:
        spec = self.spec
        if desired > current:
            limit = max(self._period_limit(now, current, spec.behavior.scale_up, up=True), current)
            return min(desired, spec.max_replicas, limit)
        if desired < current:
            limit = min(self._period_limit(now, current, spec.behavior.scale_down, up=False), current)
            return max(desired, spec.min_replicas, limit)
        return desired

    def _period_limit(self, now: float, current: int, rules: ScalingRules, *, up: bool) -> int:
        if rules.select_policy == "Disabled":
            return current
        proposals: list[int] = []
        for policy in rules.policies:
            added = _change_within(self.scale_up_events, now, policy.period_s)
            removed = _change_within(self.scale_down_events, now, policy.period_s)
            start = current - added + removed
            if up:
                step = (
                    start + policy.value
                    if policy.type == "Pods"
                    else math.ceil(start * (1 + policy.value / 100))
                )
            else:
                step = (
                    start - policy.value if policy.type == "Pods" else int(start * (1 - policy.value / 100))
                )
            proposals.append(step)
        if not proposals:
            return current
        # "Max" picks the policy that allows the biggest change: the highest count up, the lowest down.
        biggest_change = rules.select_policy == "Max"
        if up:
            return max(proposals) if biggest_change else min(proposals)
        return min(proposals) if biggest_change else max(proposals)

    def _store_event(self, now: float, current: int, desired: int) -> None:
        up = desired > current
        events = self.scale_up_events if up else self.scale_down_events
        rules = self.spec.behavior.scale_up if up else self.spec.behavior.scale_down
        cutoff = now - rules.longest_period_s
        change = abs(desired - current)
        for index, (stamp, _) in enumerate(events):
            if stamp < cutoff:
                events[index] = (now, change)
                return
        events.append((now, change))


def _change_within(events: Sequence[tuple[float, int]], now: float, period_s: int) -> int:
    return sum(change for stamp, change in events if stamp > now - period_s)


def _rules_from_manifest(raw: Mapping[str, Any] | None, default: ScalingRules) -> ScalingRules:
    if not raw:
        return default
    policies = (
        tuple(
            ScalingPolicy(policy["type"], int(policy["value"]), int(policy["periodSeconds"]))
            for policy in raw.get("policies", [])
        )
        or default.policies
    )
    return ScalingRules(
        stabilization_window_s=int(raw.get("stabilizationWindowSeconds", default.stabilization_window_s)),
        select_policy=raw.get("selectPolicy", default.select_policy),
        policies=policies,
    )


def behavior_from_manifest(raw: Mapping[str, Any] | None) -> Behavior:
    """An HPA manifest's ``spec.behavior`` (camelCase, as in the chart), API defaults filled in."""
    raw = raw or {}
    return Behavior(
        scale_up=_rules_from_manifest(raw.get("scaleUp"), DEFAULT_BEHAVIOR.scale_up),
        scale_down=_rules_from_manifest(raw.get("scaleDown"), DEFAULT_BEHAVIOR.scale_down),
    )
