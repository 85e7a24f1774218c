"""Deadline-aware admission: admit only work that can finish in time, shed work that no longer can.

Counting queued items is not counting work: 20,000 long items took ~33 s of model time, past the
30 s default deadline, and the fair scheduler advanced every admitted request together, so all of
them finished late together (wave 2: 0 x 200 out of 32). Here a request's work is its tokens, the
model's speed is measured (``CostModel``: tokens per second of model time, from recent batches), and
``finish_times`` predicts when each queued request completes under the scheduler's sharing rule:

    flows (clients, or single anonymous requests) share the model equally, and the requests of one
    flow share their flow's part equally (deficit round robin, item by item), until they finish.

The batcher refuses a new request whose predicted finish is past its deadline, or that would push an
admitted request past its own (``admission_verdict``), and, before each batch, withdraws requests
predicted to miss their deadline (``doomed``), so model time is not spent on answers nobody will get.
Pure functions, no clock and no asyncio: tested on their own.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = [
    "CostModel",
    "PendingWork",
    "Verdict",
    "admission_verdict",
    "doomed",
    "finish_times",
    "retry_after",
]

#: Admit only if the predicted finish leaves this share of the time left unused (the cost model is an
#: average, and parsing, tokenising and answering take time the model's clock does not see).
HEADROOM = 0.8
#: A queued request is withdrawn once it would miss its deadline even at this multiple of the
#: effective speed: shedding a request that would have made it is a loss, not a saving. Low, because
#: under fair sharing requests packed up to their deadlines all finish late together when serving
#: slows: withdrawing the biggest misser (the one with the least done) early lets the rest finish.
SHED_OPTIMISM = 1.1


#: Retry-After is whole seconds, at least 1 and at most this.
MAX_RETRY_AFTER_S = 60


def retry_after(backlog: float, rate_per_s: float | None) -> int:
    """The one Retry-After estimate: seconds for ``backlog`` (items, tokens, requests) to clear at
    ``rate_per_s``, rounded up to whole seconds, 1-60; 1 while the rate is unknown."""
    if not rate_per_s or rate_per_s <= 0 or backlog <= 0:
        return 1
    return int(min(MAX_RETRY_AFTER_S, max(1, math.ceil(backlog / rate_per_s))))


@dataclass(frozen=True)
class PendingWork:
    """A request's unfinished work: ``tokens`` still queued, in its ``flow``, due at ``deadline``."""

    request_id: int
    flow: Hashable
    tokens: float
    deadline: float


class CostModel:
    """Model speed in tokens (unpadded item lengths) per second, from recent batches.

    ``tokens_per_s`` is the model's own speed: a high percentile of the last ``window`` batches'
    tokens per second of *worker* time (timed on the loop, a 100-request burst made the tiny model look
    30x slower). Serving is slower than the model alone: the worker waits while the loop parses, hands
    over and answers, and on a shared machine other processes take the cores. ``effective_tokens_per_s``
    scales the model's speed by the share of wall time the worker spent running batches over the same
    window (once ``min_batches`` are seen): that is the speed the queue really drains at, and what
    deadline admission plans with. Both are None until the first batch is measured.
    """

    def __init__(self, window: int = 64, percentile: float = 0.8, min_batches: int = 16) -> None:
        self._rates: deque[float] = deque(maxlen=window)
        self._model_s: deque[float] = deque(maxlen=window)
        self._wall_s: deque[float] = deque(maxlen=window)
        self._percentile = percentile
        self._min_batches = min_batches
        self.tokens_per_s: float | None = None

    def observe(self, tokens: int, seconds: float, wall_seconds: float | None = None) -> None:
        """One batch: ``tokens`` scored in ``seconds`` of model time, ``wall_seconds`` from the batch's
        start to the next batch's start as the loop saw it (default: ``seconds``)."""
        if tokens <= 0 or seconds <= 0:
            return
        self._rates.append(tokens / seconds)
        self._model_s.append(seconds)
        self._wall_s.append(max(seconds, wall_seconds if wall_seconds is not None else seconds))
        ordered = sorted(self._rates)
        self.tokens_per_s = ordered[min(len(ordered) - 1, int(self._percentile * len(ordered)))]

    @property
    def efficiency(self) -> float:
        """Share of wall time the worker ran batches (1.0 until ``min_batches`` were seen)."""
        if len(self._model_s) < self._min_batches:
            return 1.0
        return max(0.05, min(1.0, sum(self._model_s) / sum(self._wall_s)))

    @property
    def effective_tokens_per_s(self) -> float | None:
        return None if self.tokens_per_s is None else self.tokens_per_s * self.efficiency


def finish_times(work: Sequence[PendingWork], tokens_per_s: float, now: float) -> dict[int, float]:
    """When each request finishes if the model runs at ``tokens_per_s`` and shares as the module
    docstring says (no later arrivals). Exact for that fluid model, in O(n log n) for n requests.

    Every flow with work left is served at the same speed, so "flow time" ``v`` (tokens each active
    flow has received) is common to all of them; a flow of ``k`` requests gives each ``1/k`` of its
    part, so its requests finish shortest first, the next one when ``v`` has grown by its remaining
    tokens times ``k``. That moment in flow time does not change when other flows finish (only its
    wall-clock time does), so one heap keyed on it orders every finish; wall time advances by
    ``dv * active_flows / tokens_per_s`` between them. (Before: a step loop recomputing every share
    at each finish, O(n^2): 0.3 ms per admission with 24 requests queued, on the event loop.)
    """
    if tokens_per_s <= 0:
        raise ValueError("the model speed must be positive")
    by_flow: dict[Hashable, list[tuple[float, int]]] = {}
    for item in work:
        by_flow.setdefault(item.flow, []).append((float(item.tokens), item.request_id))
    flows = list(by_flow.values())
    heap: list[tuple[float, int]] = []
    for index, requests in enumerate(flows):
        requests.sort()
        heap.append((requests[0][0] * len(requests), index))
    heapq.heapify(heap)
    #: Per flow: how many of its requests (shortest first) have finished.
    done = [0] * len(flows)
    finished: dict[int, float] = {}
    flow_time, clock, active = 0.0, now, len(flows)
    while heap:
        at, index = heapq.heappop(heap)
        clock += (at - flow_time) * active / tokens_per_s
        flow_time = at
        requests = flows[index]
        tokens, request_id = requests[done[index]]
        finished[request_id] = clock
        done[index] += 1
        left = len(requests) - done[index]
        if left:
            heapq.heappush(heap, (flow_time + (requests[done[index]][0] - tokens) * left, index))
        else:
            active -= 1
    return finished


@dataclass(frozen=True)
class Verdict:
    """``admit``; else why not and when to retry (whole seconds, 1-60)."""

    admit: bool
    reason: str = ""
    retry_after_s: int = 1


def admission_verdict(
    queued: Sequence[PendingWork], new: PendingWork, tokens_per_s: float | None, now: float
) -> Verdict:
    """May ``new`` join ``queued``? Yes if its predicted finish leaves ``HEADROOM`` of its time unused
    and no queued request that would have finished in time is pushed past its deadline."""
    if tokens_per_s is None:
        return Verdict(True)  # not measured yet: the item limit alone applies
    time_left = new.deadline - now
    with_new = finish_times([*queued, new], tokens_per_s, now)
    predicted = with_new[new.request_id] - now
    backlog = sum(item.tokens for item in queued) + new.tokens
    # Seconds until the backlog has shrunk enough for this request to fit, at the measured speed.
    wait = retry_after(backlog - HEADROOM * max(time_left, 0.0) * tokens_per_s, tokens_per_s)
    if predicted > HEADROOM * time_left:
        return Verdict(
            False,
            f"cannot finish before its deadline: about {predicted:.1f} s of model work ahead and its own, "
            f"{max(time_left, 0.0):.1f} s left",
            wait,
        )
    without = finish_times(queued, tokens_per_s, now)
    for item in queued:
        if without[item.request_id] <= item.deadline < with_new[item.request_id]:
            return Verdict(False, "admitting it would make a request already queued miss its deadline", wait)
    return Verdict(True)


def doomed(queued: Sequence[PendingWork], tokens_per_s: float | None, now: float) -> list[int]:
    """Requests to withdraw now: those that would miss their deadline even at ``SHED_OPTIMISM`` x the
    measured speed. The biggest misser goes first and the rest are predicted again without it, since
    each withdrawal speeds up everyone left."""
    if tokens_per_s is None:
        return []
    optimistic = tokens_per_s * SHED_OPTIMISM
    left = list(queued)
    shed: list[int] = []
    while left:
        finishes = finish_times(left, optimistic, now)
        missing = [item for item in left if finishes[item.request_id] > item.deadline]
        if not missing:
            break
        worst = max(missing, key=lambda item: item.tokens)
        shed.append(worst.request_id)
        left.remove(worst)
    return shed
