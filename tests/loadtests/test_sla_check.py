"""The SLA check passes a run within every limit and names the line that fails otherwise.

``data/run_stats.csv`` and ``data/run_classes.csv`` were written by a real headless Locust run of
``loadtests/locustfile.py`` (mixed profile, tiny bundle): the checker reads Locust's own format.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from loadtests.requestlog import RequestLog, RequestRecord
from loadtests.sla import (
    DEFAULT_SLA_PATH,
    CheckLine,
    ClassLimits,
    Observation,
    Sla,
    evaluate,
    load_sla,
    main,
    observations_from_csv,
    observations_from_summaries,
)

DATA = Path(__file__).with_name("data")
SLA = Sla(
    "test", {"interactive": ClassLimits(p95_ms=100, p99_ms=200, max_error_rate=0.01, min_texts_per_s=50)}
)


def _failed(lines: list[CheckLine]) -> list[str]:
    return [str(line) for line in lines if not line.passed]


def test_a_run_within_limits_passes() -> None:
    lines = evaluate(SLA, {"interactive": Observation(1000, 5, 80.0, 150.0, 60.0)})
    assert len(lines) == 4
    assert _failed(lines) == []


def test_each_broken_limit_fails_its_own_line() -> None:
    lines = evaluate(SLA, {"interactive": Observation(100, 2, 120.0, 150.0, 40.0)})
    failed = _failed(lines)
    assert failed == [
        "SLA FAIL interactive p95_ms: 120 (limit <= 100)",
        "SLA FAIL interactive max_error_rate: 0.02 (limit <= 0.01)",
        "SLA FAIL interactive min_texts_per_s: 40 (limit >= 50)",
    ]


def test_unknown_throughput_fails_rather_than_passes() -> None:
    lines = evaluate(SLA, {"interactive": Observation(100, 0, 10.0, 10.0, None)})
    assert _failed(lines) == ["SLA FAIL interactive min_texts_per_s: unknown (limit >= 50)"]


def test_a_run_that_exercised_no_sla_class_fails() -> None:
    lines = evaluate(SLA, {"other": Observation(10, 0, 1.0, 1.0, 1.0)})
    assert len(_failed(lines)) == 1


def test_the_shipped_sla_file_loads_every_profile() -> None:
    for profile in ("local-2core", "pod-8vcpu"):
        sla = load_sla(DEFAULT_SLA_PATH, profile)
        assert {"interactive", "batch", "monohq_batch"} <= set(sla.classes)
    assert load_sla(DEFAULT_SLA_PATH).name == "local-2core"


def test_unknown_keys_in_the_sla_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text("default: p\nprofiles:\n  p:\n    classes:\n      interactive:\n        p96_ms: 1\n")
    with pytest.raises(ValueError, match="p96_ms"):
        load_sla(path)


def test_locust_csv_is_read_per_request_class() -> None:
    observed = observations_from_csv(str(DATA / "run"))
    assert set(observed) == {"batch", "interactive"}
    assert observed["interactive"].requests == 131
    assert observed["interactive"].p95_ms == 28.0
    assert observed["batch"].texts_per_s == pytest.approx(199.785, rel=1e-4)


def test_cli_exit_code_follows_the_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for suffix in ("stats", "classes"):
        shutil.copy(DATA / f"run_{suffix}.csv", tmp_path / f"run_{suffix}.csv")
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text(
        "default: l\nprofiles:\n  l:\n    classes:\n      interactive:\n        p99_ms: 150\n"
        "      batch:\n        min_texts_per_s: 150\n"
    )
    assert main([str(tmp_path / "run"), "--sla", str(lenient)]) == 0
    strict = tmp_path / "strict.yaml"
    strict.write_text("default: s\nprofiles:\n  s:\n    classes:\n      interactive:\n        p99_ms: 50\n")
    assert main([str(tmp_path / "run"), "--sla", str(strict)]) == 1
    assert "SLA FAIL interactive p99_ms: 100 (limit <= 50)" in capsys.readouterr().out


def test_request_log_summaries_feed_the_check() -> None:
    log = RequestLog()
    for index in range(100):
        log.add(
            RequestRecord(
                "interactive", start_s=index * 0.1, duration_s=0.01 * (index + 1), texts=2, ok=index != 0
            )
        )
    summary = log.summarize("interactive")
    assert summary.failures == 1
    assert summary.texts_ok == 198
    assert summary.texts_per_s == pytest.approx(198 / log.span_s())
    assert summary.p50_ms == pytest.approx(510.0)
    observed = observations_from_summaries([summary])
    assert observed["interactive"].requests == 100


def test_window_summary_keeps_only_overlapping_requests() -> None:
    log = RequestLog()
    log.add(RequestRecord("monohq_batch", 10.0, 5.0, 5000, True))
    log.add(RequestRecord("interactive", 1.0, 0.5, 3, True))  # before the window
    log.add(RequestRecord("interactive", 9.9, 0.3, 3, True))  # overlaps its start
    log.add(RequestRecord("interactive", 12.0, 0.2, 3, False))  # inside, failed
    log.add(RequestRecord("interactive", 16.0, 0.1, 3, True))  # after
    window = log.window_of("monohq_batch")
    assert window == (10.0, 15.0)
    during = log.summarize_window("interactive", window)
    assert (during.requests, during.failures) == (2, 1)
    assert during.p99_ms == pytest.approx(300.0)
