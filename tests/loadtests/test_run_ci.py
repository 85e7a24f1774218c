"""CI's short load test, for real: a local server, Locust headless, the SLA enforced by exit code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from loadtests import run_ci

REPO = Path(__file__).resolve().parents[2]


def _bundle(tiny_bundle: Path) -> Path:
    """The default bundle when the checkout has one, else the tiny real bundle (same code path)."""
    index = REPO / "models" / "index.json"
    if index.exists():
        return REPO / "models" / str(json.loads(index.read_text())["default"])
    return tiny_bundle


@pytest.mark.slow
def test_short_load_test_meets_this_machines_sla(tiny_bundle: Path, tmp_path: Path) -> None:
    code = run_ci.main(
        ["--model-dir", str(_bundle(tiny_bundle)), "--run-time-s", "30", "--report-dir", str(tmp_path)]
    )
    assert code == 0, (
        (tmp_path / "ci_classes.csv").read_text() if (tmp_path / "ci_classes.csv").exists() else ""
    )
    with (tmp_path / "ci_classes.csv").open() as handle:
        classes = {row["request_class"]: row for row in csv.DictReader(handle)}
    assert set(classes) == {"batch", "interactive"}
    assert int(classes["batch"]["requests"]) > 0
    assert (tmp_path / "ci.html").exists()


@pytest.mark.slow
def test_a_missed_sla_fails_the_run(
    tiny_bundle: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    impossible = tmp_path / "sla.yaml"
    impossible.write_text(
        "default: x\nprofiles:\n  x:\n    classes:\n      interactive:\n        p99_ms: 0.001\n"
    )
    code = run_ci.main(
        ["--model-dir", str(tiny_bundle), "--run-time-s", "5", "--batch-size", "100-200",
         "--sla-file", str(impossible), "--sla-profile", "x", "--report-dir", str(tmp_path)]
    )  # fmt: skip
    assert code == 1
    assert "SLA FAIL interactive p99_ms" in capfd.readouterr().out
