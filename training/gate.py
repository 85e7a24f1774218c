"""The gate: thresholds a candidate bundle must meet before it is written. It never writes anything
itself; :func:`check` turns measured metrics into named pass/fail checks and the bundle writer refuses
to write when any check failed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from training.config import GateConfig
from training.isa import IsaReport

__all__ = ["Check", "GateFailed", "GateReport", "check"]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float
    threshold: float
    rule: str


@dataclass(frozen=True)
class GateReport:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [asdict(c) for c in self.checks]}

    def summary(self) -> str:
        lines = [
            f"{'PASS' if c.passed else 'FAIL'}  {c.name}: {c.value:.6g} {c.rule} {c.threshold:.6g}"
            for c in self.checks
        ]
        return "\n".join(lines)


class GateFailed(RuntimeError):
    """Raised instead of writing a bundle; the message names every failed check."""

    def __init__(self, report: GateReport) -> None:
        self.report = report
        names = ", ".join(
            f"{c.name} ({c.value:.6g} {c.rule} {c.threshold:.6g} failed)" for c in report.failures
        )
        super().__init__(f"gate refused the bundle: {names}")


def check(metrics: dict[str, Any], config: GateConfig) -> GateReport:
    """Evaluate the gate on measured ``metrics`` (keys as written by the pipeline).

    The teacher-gap and baseline checks are skipped when there is no teacher or no training split
    (``import-hf``), the behavioural check when the model's labels are not our 16 (no cases).
    """
    int8 = metrics["student_int8"]
    # What the bundle answers: the ONNX student alone, or mixed with its lexical model.
    answers = metrics.get("served", int8)
    checks = [
        Check(
            "macro_f1", answers["macro_f1"] >= config.min_macro_f1, answers["macro_f1"], config.min_macro_f1,
            ">=",
        ),
        Check(
            "int8_fp32_agreement", metrics["int8_fp32_agreement"] >= config.min_int8_agreement,
            metrics["int8_fp32_agreement"], config.min_int8_agreement, ">=",
        ),
        Check(
            "batch_invariance", metrics["batch_invariance_max_delta"] <= config.max_batch_delta,
            metrics["batch_invariance_max_delta"], config.max_batch_delta, "<=",
        ),
        Check(
            "throughput", metrics["throughput"]["bucketed_texts_per_s"] >= config.min_throughput,
            metrics["throughput"]["bucketed_texts_per_s"], config.min_throughput, ">=",
        ),
        Check(
            "abstain_precision",
            metrics["abstain"]["test_precision"] >= config.abstain_precision - config.abstain_tolerance,
            metrics["abstain"]["test_precision"], config.abstain_precision - config.abstain_tolerance, ">=",
        ),
    ]  # fmt: skip
    if "behavioural" in metrics:  # the cases are written in our 16 labels: none for another taxonomy
        rate = metrics["behavioural"]["pass_rate"]
        floor = config.min_behavioural_pass_rate
        checks.insert(4, Check("behavioural", rate >= floor, rate, floor, ">="))
    if "teacher" in metrics:
        gap = round(metrics["teacher"]["macro_f1"] - int8["macro_f1"], 4)
        checks.append(Check("teacher_gap", gap <= config.max_teacher_gap, gap, config.max_teacher_gap, "<="))
    if "isa" in metrics:
        isa = IsaReport(**metrics["isa"])
        same = isa.same_answers(config.max_batch_delta)
        checks.append(Check(f"same_answer_on_{isa.cpu}", same, isa.max_delta, config.max_batch_delta, "<="))
    if "baseline" in metrics:
        floor = config.min_gain_over_baseline
        gain = round(answers["macro_f1"] - metrics["baseline"]["macro_f1"], 4)
        checks.append(Check("baseline_gain", gain >= floor, gain, floor, ">="))
    if "bundle_bytes" in metrics and config.max_bundle_mib is not None:
        mib = round(metrics["bundle_bytes"] / 2**20, 3)
        checks.append(Check("bundle_mib", mib <= config.max_bundle_mib, mib, config.max_bundle_mib, "<="))
    if "dev" in metrics:
        dev = metrics["dev"]
        coverage = dev["coverage_at_precision"]["coverage"]
        checks += [
            Check("dev_accuracy", dev["accuracy"] >= config.min_dev_accuracy, dev["accuracy"],
                  config.min_dev_accuracy, ">="),
            Check("dev_macro_f1", dev["macro_f1"] >= config.min_dev_macro_f1, dev["macro_f1"],
                  config.min_dev_macro_f1, ">="),
            Check(f"dev_coverage_at_{config.dev_precision:g}_precision", coverage >= config.min_dev_coverage,
                  coverage, config.min_dev_coverage, ">="),
        ]  # fmt: skip
    return GateReport(tuple(checks))
