"""Deadline-aware admission (``service/admission.py``) and the memory budget (``service/memory.py``),
as pure functions: no clock, no server."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.admission import (
    HEADROOM,
    CostModel,
    PendingWork,
    admission_verdict,
    doomed,
    finish_times,
)
from service.memory import HeapTrimmer, MemoryBudget, estimate_request_bytes

RATE = 1_000.0  # tokens per second


def work(request_id: int, tokens: float, deadline: float, flow: object = None) -> PendingWork:
    return PendingWork(request_id, flow if flow is not None else ("request", request_id), tokens, deadline)


def test_flows_share_the_model_equally_and_requests_share_their_flow() -> None:
    # Two flows: A alone, B with two requests. A gets half the model, each of B's a quarter.
    queued = [work(1, 500, 99, "A"), work(2, 250, 99, "B"), work(3, 250, 99, "B")]
    finishes = finish_times(queued, RATE, now=0.0)
    assert finishes[1] == pytest.approx(1.0)  # 500 tokens at 500/s
    assert finishes[2] == pytest.approx(1.0)  # 250 tokens at 250/s
    assert finishes[3] == pytest.approx(1.0)


def test_a_short_request_finishes_first_and_the_rest_speed_up() -> None:
    finishes = finish_times([work(1, 100, 99), work(2, 900, 99)], RATE, now=10.0)
    assert finishes[1] == pytest.approx(10.2)  # 100 tokens at 500/s
    assert finishes[2] == pytest.approx(11.0)  # then alone: all 1,000 tokens in 1 s
    assert max(finishes.values()) == pytest.approx(10.0 + 1_000 / RATE)  # work-conserving


def stepwise_finish_times(work: Sequence[PendingWork], tokens_per_s: float, now: float) -> dict[int, float]:
    """The fluid model stepped finish by finish, every share recomputed at each (the O(n^2) form
    ``finish_times`` replaced): the reference it must agree with."""
    remaining = {item.request_id: float(item.tokens) for item in work}
    flow_of = {item.request_id: item.flow for item in work}
    finished: dict[int, float] = {}
    clock = now
    while remaining:
        per_flow: dict[Hashable, int] = {}
        for request_id in remaining:
            per_flow[flow_of[request_id]] = per_flow.get(flow_of[request_id], 0) + 1
        share = {r: tokens_per_s / len(per_flow) / per_flow[flow_of[r]] for r in remaining}
        step = min(remaining[r] / share[r] for r in remaining)
        clock += step
        for request_id in list(remaining):
            remaining[request_id] -= share[request_id] * step
            if remaining[request_id] <= 1e-9 * max(1.0, tokens_per_s):
                finished[request_id] = clock
                del remaining[request_id]
    return finished


@settings(max_examples=300, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5_000)),  # (flow, tokens); ties and zeros included
        max_size=40,
    ),
    tokens_per_s=st.floats(1.0, 1e6),
    now=st.floats(0.0, 1e5),
)
def test_finish_times_agree_with_the_stepwise_fluid_model(
    requests: list[tuple[int, int]], tokens_per_s: float, now: float
) -> None:
    queued = [work(i, tokens, 99.0, ("flow", flow)) for i, (flow, tokens) in enumerate(requests)]
    fast = finish_times(queued, tokens_per_s, now)
    reference = stepwise_finish_times(queued, tokens_per_s, now)
    assert fast.keys() == reference.keys()
    for request_id, at in reference.items():
        assert fast[request_id] == pytest.approx(at, rel=1e-9, abs=1e-9)


def test_work_that_cannot_finish_before_its_deadline_is_refused_with_a_retry_after() -> None:
    queued = [work(1, 20_000, 60.0)]  # 20 s of work ahead
    verdict = admission_verdict(queued, work(2, 5_000, 10.0), RATE, now=0.0)
    assert not verdict.admit
    assert "deadline" in verdict.reason
    assert 1 <= verdict.retry_after_s <= 60
    assert verdict.retry_after_s >= (25_000 - HEADROOM * 10 * RATE) / RATE - 1


def test_work_that_fits_is_admitted() -> None:
    verdict = admission_verdict([work(1, 2_000, 30.0)], work(2, 2_000, 30.0), RATE, now=0.0)
    assert verdict.admit


def test_a_new_request_may_not_push_a_queued_one_past_its_deadline() -> None:
    # Request 1 alone finishes at 4 s (deadline 5 s); sharing with a 4,000-token newcomer, at 8 s.
    queued = [work(1, 4_000, 5.0)]
    verdict = admission_verdict(queued, work(2, 4_000, 60.0), RATE, now=0.0)
    assert not verdict.admit
    assert "already queued" in verdict.reason


def test_before_the_model_is_measured_only_the_item_limit_applies() -> None:
    assert admission_verdict([work(1, 10**9, 1.0)], work(2, 10**9, 1.0), None, now=0.0).admit
    assert doomed([work(1, 10**9, 1.0)], None, now=0.0) == []


def test_doomed_sheds_the_biggest_misser_first_and_keeps_the_rest() -> None:
    # 3 x 2,000 tokens with 6 s deadlines at 1,000/s (1,100/s optimistic): together 5.5 s, they fit;
    # a 10,000-token request with the same deadline cannot finish and makes all of them late.
    queued = [work(1, 2_000, 6.0), work(2, 2_000, 6.0), work(3, 2_000, 6.0), work(4, 10_000, 6.0)]
    assert doomed(queued, RATE, now=0.0) == [4]


def test_doomed_keeps_requests_that_would_make_it_at_a_slightly_faster_speed() -> None:
    # 6 s of work at the measured speed, deadline 5.5 s: at the optimistic speed it finishes in 5.45 s.
    assert doomed([work(1, 6_000, 5.5)], RATE, now=0.0) == []


def test_the_cost_model_ignores_batches_slowed_by_the_event_loop() -> None:
    model = CostModel(window=10, percentile=0.8)
    for _ in range(7):
        model.observe(1_000, 1.0)  # 1,000/s: batches whose end the loop noticed late
    for _ in range(3):
        model.observe(1_000, 0.1)  # 10,000/s: the model's real speed
    assert model.tokens_per_s == pytest.approx(10_000)
    model.observe(0, 0.5)  # nothing to learn from
    assert model.tokens_per_s == pytest.approx(10_000)


def test_the_effective_speed_counts_the_time_the_worker_waited() -> None:
    model = CostModel(window=20, percentile=0.8, min_batches=4)
    for _ in range(3):
        model.observe(1_000, 0.1, wall_seconds=0.4)
    assert model.effective_tokens_per_s == pytest.approx(10_000)  # too few batches to judge
    model.observe(1_000, 0.1, wall_seconds=0.4)
    assert model.efficiency == pytest.approx(0.25)
    assert model.effective_tokens_per_s == pytest.approx(2_500)


def test_memory_budget_reserves_only_what_fits_and_releases_exactly() -> None:
    budget = MemoryBudget(100)
    assert budget.try_reserve(60)
    assert not budget.try_reserve(50)
    assert budget.reserved_bytes == 60
    assert budget.try_reserve(40)
    assert budget.peak_bytes == 100
    budget.release(60)
    budget.release(40)
    assert budget.reserved_bytes == 0
    with pytest.raises(RuntimeError, match="this is a bug"):
        budget.release(1)


def test_the_request_estimate_grows_with_the_body_and_has_a_floor() -> None:
    assert estimate_request_bytes(0, 28.0) == 256 * 1024
    assert estimate_request_bytes(4 * 2**20, 28.0) == 112 * 2**20


def test_the_heap_is_trimmed_once_enough_was_released_and_the_budget_is_nearly_idle() -> None:
    budget = MemoryBudget(1_000)
    trimmed = threading.Event()
    now = [0.0]

    def trim() -> bool:
        trimmed.set()
        return True

    trimmer = HeapTrimmer(budget, threshold_bytes=500, idle_fraction=0.25, trim=trim, clock=lambda: now[0])
    assert budget.try_reserve(900)
    budget.release(400)
    trimmer.released(400)  # under the threshold
    budget.release(200)
    trimmer.released(200)  # over the threshold, but 300 of 1,000 still reserved
    assert not trimmed.is_set()
    budget.release(100)
    trimmer.released(100)
    assert trimmed.wait(10), "no trim once 700 bytes were released and 200 are reserved"
