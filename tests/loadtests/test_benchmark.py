"""The benchmark's own rules: where the naive row's student comes from, what a re-run may overwrite,
how far the rate grid climbs, and how rows are compared at equal p99."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadtests import benchmark
from loadtests.benchmark import goodput_at_p99, main, naive_checkpoint, summarize, tracked_by_git


def point(texts_per_s: float, p99_ms: float, failures: int = 0, requests: int = 100) -> dict[str, Any]:
    return {"texts_per_s": texts_per_s, "p99_ms": p99_ms, "failures": failures, "requests": requests}


def test_the_naive_row_uses_the_student_kept_beside_the_bundles(tmp_path: Path) -> None:
    bundle = tmp_path / "models" / "txclassify-2.0.0"
    bundle.mkdir(parents=True)
    assert naive_checkpoint(bundle, None) in (None, benchmark.REPO_ROOT / "artifacts" / "student-fp32")
    student = tmp_path / "models" / "students" / "txclassify-2.0.0"
    student.mkdir(parents=True)
    (student / "config.json").write_text("{}")
    assert naive_checkpoint(bundle, None) == student
    assert naive_checkpoint(bundle, tmp_path / "elsewhere") is None  # given and empty: no fallback


def test_committed_results_are_not_overwritten_unasked(tmp_path: Path) -> None:
    committed = benchmark.REPO_ROOT / "docs" / "benchmarks.json"
    assert tracked_by_git(committed)
    assert not tracked_by_git(tmp_path / "new.json")
    with pytest.raises(SystemExit):
        main(["--rows", "raw", "--out", str(committed)])


def test_unknown_rows_are_refused_before_anything_runs() -> None:
    with pytest.raises(SystemExit):
        main(["--rows", "shipped", "--out", "/tmp/never-written.json"])


def test_the_grid_is_extended_by_doubling() -> None:
    assert list(benchmark._rates_to_saturation([25, 50], 3)) == [25, 50, 100, 200, 400]
    assert list(benchmark._rates_to_saturation([25], 0)) == [25]


def test_rows_are_compared_at_equal_p99_whatever_their_refusals() -> None:
    points = [point(100, 20), point(300, 80, failures=5), point(500, 400)]
    assert goodput_at_p99(points, 100) == 300  # 5 % refused: not a "peak", still goodput
    assert goodput_at_p99(points, 10) == 0.0
    results = {
        "raw": {"texts_per_s": 1000.0},
        "rows": {"ours": {"points": points}, "peer": {"points": [point(100, 90), point(150, 900)]}},
    }
    summary = {entry["row"]: entry for entry in summarize(results, 1000, (100, 1000))}
    assert summary["ours"]["peak_texts_per_s"] == 500
    assert summary["peer"]["goodput_at_p99"] == {"100": 100, "1000": 150}
    assert summary["peer"]["ours_over_row_at_p99"] == {"100": 3.0, "1000": 500 / 150}


def test_our_rows_run_engine_lanes_on_the_same_cores(tmp_path: Path) -> None:
    specs = benchmark.server_specs(tmp_path, None, 2, tmp_path, lanes=2)
    assert specs["ours"].env["TXC_INTRA_OP_THREADS"] == "1"
    assert specs["ours"].env["TXC_ENGINE_LANES"] == "2"
    assert specs["mlserver"].env["PEER_INTRA_OP_THREADS"] == "2"  # the peers: one session over both
    one_lane = benchmark.server_specs(tmp_path, None, 2, tmp_path, lanes=1)["ours-nocache"].env
    assert (one_lane["TXC_INTRA_OP_THREADS"], one_lane["TXC_ENGINE_LANES"]) == ("2", "1")


@pytest.mark.parametrize("lanes", [0, 3])
def test_lanes_that_do_not_divide_the_threads_are_refused(lanes: int) -> None:
    with pytest.raises(ValueError, match="must be at least 1 and divide"):
        benchmark.split_threads(4, lanes)
    with pytest.raises(SystemExit):
        main(["--rows", "raw", "--threads", "4", "--lanes", str(lanes), "--out", "/tmp/never-written.json"])


def test_a_student_that_cannot_be_recovered_skips_the_naive_row_with_the_reason(
    tiny_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tiny fixture is a random BERT written by hand, not our export: its graph names no parameters.
    assert benchmark._recovered_checkpoint(tiny_bundle, tmp_path / "student") is None
    assert "could not recover the student" in capsys.readouterr().out
    assert not (tmp_path / "student").exists()


@pytest.mark.slow
def test_the_naive_row_serves_the_shipped_bundles_student_recovered_from_its_graph(tmp_path: Path) -> None:
    shipped = benchmark.REPO_ROOT / "models" / "txclassify-1.2.0"
    recovered = benchmark._recovered_checkpoint(shipped, tmp_path / "student")
    assert recovered == tmp_path / "student"
    assert (recovered / "config.json").is_file()
    assert (recovered / "model.safetensors").is_file()
