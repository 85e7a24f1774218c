"""The benchmark's schedules are reproducible and carry the texts every server is sent."""

from __future__ import annotations

import random

import pytest

from loadtests.openloop import WIRE_FORMATS, build_schedule
from loadtests.traffic import NarrationPool, SizeRange, classify_body

TEXTS = [f"card payment shop {index}" for index in range(50)]


def test_same_seed_same_schedule_for_every_server() -> None:
    first = build_schedule(TEXTS, 200.0, 5.0, SizeRange(1, 3), seed=4)
    second = build_schedule(TEXTS, 200.0, 5.0, SizeRange(1, 3), seed=4)
    assert first == second
    assert first != build_schedule(TEXTS, 200.0, 5.0, SizeRange(1, 3), seed=5)


def test_poisson_arrivals_match_the_rate_and_stay_in_the_window() -> None:
    schedule = build_schedule(TEXTS, 400.0, 20.0, SizeRange(1, 1), seed=1)
    assert len(schedule.offsets_s) == pytest.approx(8000, rel=0.05)
    assert list(schedule.offsets_s) == sorted(schedule.offsets_s)
    assert schedule.offsets_s[0] > 0.0
    assert schedule.offsets_s[-1] < 20.0


def test_texts_are_taken_in_order_and_wrap_around() -> None:
    schedule = build_schedule(TEXTS, 100.0, 2.0, SizeRange(3, 3), seed=2)
    flat = [text for request in schedule.requests for text in request]
    assert flat == [TEXTS[i % len(TEXTS)] for i in range(len(flat))]
    assert schedule.texts == len(flat)


def test_size_range_parses_and_draws_within_bounds() -> None:
    assert SizeRange.parse("1-20") == SizeRange(1, 20)
    assert SizeRange.parse("5000") == SizeRange(5000, 5000)
    rng = random.Random(0)
    assert {SizeRange(2, 4).draw(rng) for _ in range(200)} == {2, 3, 4}
    with pytest.raises(ValueError, match="low <= high"):
        SizeRange(5, 1)


@pytest.mark.parametrize("wire_name", sorted(WIRE_FORMATS))
def test_each_wire_format_round_trips_its_result_count(wire_name: str) -> None:
    wire = WIRE_FORMATS[wire_name]
    body = wire.body(["a", "b"])
    answers = {
        "txclassify": {"results": [{"id": "t0"}, {"id": "t1"}]},
        "bentoml": [{"label": "X"}, {"label": "Y"}],
        "ray": [{"label": "X"}, {"label": "Y"}],
        "mlserver": {
            "outputs": [{"name": "label", "data": ["X", "Y"]}, {"name": "confidence", "data": [1, 1]}]
        },
    }
    assert wire.count_results(answers[wire_name]) == 2
    assert body  # every format sends something


def test_classify_body_keeps_order_and_ids() -> None:
    body = classify_body(["x", "y"], id_prefix="r")
    assert body == {"transactions": [{"id": "r0", "text": "x"}, {"id": "r1", "text": "y"}], "top_k": 1}


def test_narration_pool_hands_out_texts_in_order_and_wraps() -> None:
    pool = NarrationPool(["a", "b", "c"], seed=0)
    drawn = pool.draw(2) + pool.draw(4)
    start = ["a", "b", "c"].index(drawn[0])
    assert drawn == [["a", "b", "c"][(start + i) % 3] for i in range(6)]
