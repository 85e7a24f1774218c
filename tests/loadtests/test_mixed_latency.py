"""The mixed-latency load test's report: the timeline plot and the percentile it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loadtests.mixed_latency import _percentile, plot_timeline


def _results(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "date": "2026-12-08T00:00:00+00:00",
        "machine": {"cores": 2},
        "rows": [
            {"latency_budget_ms": 10.0, "extra_env": {"TXC_SWITCH_INTERVAL_MS": "5"}, "rounds": rounds},
            {"latency_budget_ms": 0.0, "extra_env": {}, "rounds": []},
        ],
    }


def test_the_timeline_is_drawn_for_every_row_even_one_without_rounds(tmp_path: Path) -> None:
    rounds = [
        {"bulk_wall_s": 5.5, "small_timeline": [[0.01, 120.0, 20.0], [1.2, 14.0, 7.0], [3.4, 0.0, 0.0]]},
        {"bulk_wall_s": 6.0},  # a result written before the timeline was recorded
    ]
    path = tmp_path / "nested" / "timeline.png"
    plot_timeline(_results(rounds), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_percentile_takes_the_rank_and_none_when_empty() -> None:
    assert _percentile([], 0.99) is None
    ordered = [float(i) for i in range(1, 101)]
    assert _percentile(ordered, 0.99) == 100.0
    assert _percentile(ordered, 0.5) == 51.0
