from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from training.bundle import write_bundle
from training.config import GateConfig
from training.gate import GateFailed, check


def _metrics(**changes: Any) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "teacher": {"macro_f1": 0.95},
        "baseline": {"macro_f1": 0.90},
        "student_int8": {"macro_f1": 0.945},
        "int8_fp32_agreement": 0.995,
        "batch_invariance_max_delta": 0.0,
        "throughput": {"bucketed_texts_per_s": 2500.0},
        "behavioural": {"pass_rate": 1.0},
        "abstain": {"test_precision": 0.975},
    }
    metrics.update(changes)
    return metrics


def test_good_metrics_pass() -> None:
    report = check(_metrics(), GateConfig())
    assert report.passed
    assert {c.name for c in report.checks} >= {
        "macro_f1", "batch_invariance", "teacher_gap", "throughput", "baseline_gain",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"batch_invariance_max_delta": 3e-4}, "batch_invariance"),
        ({"int8_fp32_agreement": 0.97}, "int8_fp32_agreement"),
        ({"student_int8": {"macro_f1": 0.90}}, "teacher_gap"),
        ({"throughput": {"bucketed_texts_per_s": 900.0}}, "throughput"),
        ({"behavioural": {"pass_rate": 0.9}}, "behavioural"),
        ({"baseline": {"macro_f1": 0.946}}, "baseline_gain"),
    ],
)
def test_each_threshold_is_enforced_and_named(changes: dict[str, Any], failed: str) -> None:
    report = check(_metrics(**changes), GateConfig())
    assert not report.passed
    assert failed in {c.name for c in report.failures}


def test_no_teacher_means_no_teacher_gap_check() -> None:
    metrics = _metrics()
    del metrics["teacher"]
    assert "teacher_gap" not in {c.name for c in check(metrics, GateConfig()).checks}


def test_writer_refuses_a_failed_gate_and_names_the_check(tmp_path: Path) -> None:
    report = check(_metrics(batch_invariance_max_delta=0.5), GateConfig())
    model = tmp_path / "model.onnx"
    model.write_bytes(b"not used")
    with pytest.raises(GateFailed, match="batch_invariance"):
        write_bundle(
            tmp_path / "models", name="x", version="1.0.0", model_path=model, tokenizer_path=model,
            card={}, report=report,
        )  # fmt: skip
    assert not (tmp_path / "models").exists()


def test_the_bundle_size_is_gated_when_a_limit_is_set() -> None:
    big = _metrics(bundle_bytes=int(40.31 * 2**20))
    assert "bundle_mib" not in {c.name for c in check(big, GateConfig()).checks}  # no limit: no check
    report = check(big, GateConfig(max_bundle_mib=40))
    assert [c.name for c in report.failures] == ["bundle_mib"]
    assert report.failures[0].value == pytest.approx(40.31, abs=1e-3)
    assert check(_metrics(bundle_bytes=40 * 2**20), GateConfig(max_bundle_mib=40)).passed
