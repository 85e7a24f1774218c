"""The fair, length-bucketed queue that decides which items go into the next model batch.

Pure data structures, no asyncio and no clock: ``FairQueue.cut`` is a deterministic function of what was
queued, which keeps the scheduling rules testable on their own.

Rules, in order of precedence:

1. **Budget.** A batch holds at most ``max_batch_size`` distinct rows and its padded cost (longest row x
   rows) stays within ``max_batch_tokens`` (or the smaller budget the caller passes to ``cut``: the
   batcher's latency budget turned into tokens); one row longer than the budget still goes alone.
   ``fits`` is that rule, and ``plan_batches`` applies it to offline scoring (``Classifier.classify``,
   the gate's ``OnnxClassifier.logits``): one rule for every path that batches.
2. **Urgent first.** Items of *urgent* requests (latency-sensitive: small, or marked interactive) go
   into the batch before any other, whatever their length bucket, by round robin over their flows (one
   request per flow per pass, oldest first). While other work waits they fill at most
   ``urgent_share`` of the budget, so a stream of small requests cannot starve bulk work.
   **Urgent batches run alone**: a batch that holds urgent items takes no other work, so it runs in a
   fraction of the latency budget instead of being filled up to it. Only when the previous batch was
   urgent-only while other work waited does the next one fill its remaining budget with that work, so
   under a flood of small requests bulk work still gets ``1 - urgent_share`` of every second batch.
3. **Length buckets.** The first row chosen fixes the batch's bucket (``length // bucket_width``); only rows
   of that bucket join, so padding per row stays below ``bucket_width`` tokens.
4. **Fairness.** Deficit round robin over *flows*: a flow is a client (``X-Client-Id``) or, without one, a
   single request. Each turn grants a flow ``quantum`` tokens; inside a flow, its requests take turns item
   by item. A flow that has nothing for this batch's bucket keeps its turn and its place at the front, so
   it chooses the next batch's bucket: no flow can be starved by others' lengths.
5. **Dedup.** A row whose key (normalised text) is already in the batch rides along at no cost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_MAX_BATCH_SIZE",
    "DEFAULT_MAX_BATCH_TOKENS",
    "Batch",
    "FairQueue",
    "QueuedItem",
    "QueuedRequest",
    "fits",
    "plan_batches",
]

#: The budget's defaults (``Settings`` documents them as ``TXC_MAX_BATCH_TOKENS`` / ``_SIZE``).
DEFAULT_MAX_BATCH_TOKENS = 2048
DEFAULT_MAX_BATCH_SIZE = 64


def fits(longest: int, rows: int, *, max_batch_tokens: int, max_batch_size: int) -> bool:
    """May one batch hold ``rows`` rows padded to ``longest`` tokens? A single row always may."""
    return rows <= 1 or (rows <= max_batch_size and longest * rows <= max_batch_tokens)


def plan_batches(
    lengths: Sequence[int],
    *,
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
) -> list[list[int]]:
    """Indices of ``lengths`` (token counts) grouped into batches for offline scoring: shortest first,
    each batch the longest run of similar lengths that ``fits``. Every index appears exactly once."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending: the newcomer is the batch's longest row.
        if current and not fits(
            lengths[i], len(current) + 1, max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size
        ):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


@dataclass(eq=False)
class QueuedItem:
    """One work item: a position in its request, a dedup key, a cost in tokens and an opaque payload."""

    request: QueuedRequest
    index: int
    key: Hashable
    cost: int
    payload: Any


@dataclass(eq=False)
class QueuedRequest:
    """A request's items not yet taken into a batch, by length bucket (each bucket sorted by length)."""

    request_id: int
    flow_key: Hashable
    enqueued_at: float
    deadline: float
    #: Latency-sensitive: its items go first (rule 2).
    urgent: bool = False
    pending: dict[int, deque[QueuedItem]] = field(default_factory=dict)
    pending_count: int = 0
    #: Tokens of the items not yet taken into a batch (the request's remaining model work).
    pending_tokens: int = 0

    def lowest_bucket(self) -> int | None:
        return min((b for b, items in self.pending.items() if items), default=None)

    def pop(self, bucket: int) -> QueuedItem:
        items = self.pending[bucket]
        item = items.popleft()
        if not items:
            del self.pending[bucket]
        self.pending_count -= 1
        self.pending_tokens -= item.cost
        return item


@dataclass(eq=False)
class _Flow:
    key: Hashable
    requests: deque[QueuedRequest] = field(default_factory=deque)
    deficit: int = 0
    has_turn: bool = False

    @property
    def empty(self) -> bool:
        return not self.requests


@dataclass
class Batch:
    """Distinct ``rows`` to run, plus ``riders``: items that share a row's key (index into ``rows``)."""

    bucket: int | None = None
    rows: list[QueuedItem] = field(default_factory=list)
    riders: list[tuple[QueuedItem, int]] = field(default_factory=list)
    longest: int = 0
    _row_of_key: dict[Hashable, int] = field(default_factory=dict)

    @property
    def padded_tokens(self) -> int:
        return self.longest * len(self.rows)

    @property
    def item_count(self) -> int:
        return len(self.rows) + len(self.riders)

    def items(self) -> Iterator[tuple[QueuedItem, int]]:
        """Every item with the row that answers it."""
        yield from ((item, row) for row, item in enumerate(self.rows))
        yield from self.riders

    def requests(self) -> list[QueuedRequest]:
        seen: dict[int, QueuedRequest] = {}
        for item, _ in self.items():
            seen.setdefault(item.request.request_id, item.request)
        return list(seen.values())


class FairQueue:
    """Queued items of many requests; ``cut`` removes and returns the next batch."""

    def __init__(
        self,
        *,
        max_batch_tokens: int,
        max_batch_size: int,
        bucket_width: int,
        quantum: int,
        urgent_share: float = 0.75,
    ) -> None:
        if not 0 < urgent_share <= 1:
            raise ValueError("urgent_share must be in (0, 1]")
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.bucket_width = bucket_width
        self.quantum = quantum
        self.urgent_share = urgent_share
        self._flows: dict[Hashable, _Flow] = {}
        self._ring: deque[_Flow] = deque()
        self._requests: dict[int, QueuedRequest] = {}  # insertion order = arrival order
        self.queued_items = 0
        self.queued_tokens = 0
        #: Items of urgent requests among ``queued_items``.
        self.urgent_items = 0
        self._budget = max_batch_tokens  # the token budget of the cut in progress
        #: The last batch was urgent-only while other work waited (rule 2): the next one shares.
        self._passed_over = False

    def __len__(self) -> int:
        return self.queued_items

    def bucket_of(self, cost: int) -> int:
        return max(cost - 1, 0) // self.bucket_width

    def oldest_enqueued_at(self) -> float | None:
        first = next(iter(self._requests.values()), None)
        return None if first is None else first.enqueued_at

    def requests(self) -> list[QueuedRequest]:
        return list(self._requests.values())

    def has_full_batch(self, max_batch_tokens: int | None = None) -> bool:
        """Is enough queued for a batch at the size limit or at the token budget (default: the queue's)?"""
        budget = self._effective_budget(max_batch_tokens)
        return self.queued_items >= self.max_batch_size or self.queued_tokens >= budget

    def add(self, request: QueuedRequest, items: list[QueuedItem]) -> None:
        """Queue ``items`` of ``request`` (sorted here by length, then key, so duplicates sit together)."""
        for item in sorted(items, key=lambda item: (item.cost, str(item.key))):
            request.pending.setdefault(self.bucket_of(item.cost), deque()).append(item)
            self.queued_tokens += item.cost
        request.pending_count = len(items)
        request.pending_tokens = sum(item.cost for item in items)
        self.queued_items += len(items)
        if request.urgent:
            self.urgent_items += len(items)
        if not items:
            return
        self._requests[request.request_id] = request
        flow = self._flows.get(request.flow_key)
        if flow is None:
            flow = self._flows[request.flow_key] = _Flow(request.flow_key)
            self._ring.append(flow)
        flow.requests.append(request)

    def remove(self, request: QueuedRequest) -> int:
        """Withdraw every queued item of ``request``; returns how many were withdrawn."""
        if self._requests.pop(request.request_id, None) is None:
            return 0
        withdrawn = request.pending_count
        self.queued_items -= withdrawn
        if request.urgent:
            self.urgent_items -= withdrawn
        self.queued_tokens -= sum(item.cost for items in request.pending.values() for item in items)
        request.pending.clear()
        request.pending_count = 0
        request.pending_tokens = 0
        flow = self._flows[request.flow_key]
        flow.requests.remove(request)
        if flow.empty:
            self._drop_flow(flow)
        return withdrawn

    def cut(self, max_batch_tokens: int | None = None) -> Batch:
        """Remove and return the next batch (empty only when nothing is queued). ``max_batch_tokens``
        lowers the token budget for this batch only (never raises it)."""
        self._budget = self._effective_budget(max_batch_tokens)
        batch = Batch()
        if self.urgent_items:
            self._take_urgent(batch)
            others_wait = self._others_wait
            if batch.rows and not (others_wait and self._passed_over):
                self._passed_over = others_wait
                return batch
        self._passed_over = False
        while self._ring and not self._full(batch):
            progressed = False
            holding: list[_Flow] = []  # still hold their turn: they go first next time
            finished: list[_Flow] = []  # turn used up: back of the ring
            for flow in list(self._ring):
                if self._full(batch):
                    holding.append(flow)
                    continue
                took, turn_over = self._serve(flow, batch)
                progressed = progressed or took or turn_over
                if flow.empty:
                    self._drop_flow(flow, from_ring=False)
                elif turn_over:
                    finished.append(flow)
                else:
                    holding.append(flow)
            self._ring = deque(holding + finished)
            if not progressed:
                break
        return batch

    @property
    def _others_wait(self) -> bool:
        """Items of requests that are not urgent are queued (taking urgent items never changes it)."""
        return self.queued_items > self.urgent_items

    def _effective_budget(self, max_batch_tokens: int | None) -> int:
        if max_batch_tokens is None:
            return self.max_batch_tokens
        return max(1, min(self.max_batch_tokens, max_batch_tokens))

    def _take_urgent(self, batch: Batch) -> None:
        """Rule 2: urgent items first, one request per flow per pass, within the urgent share."""
        limit = int(self._budget * self.urgent_share) if self._others_wait else self._budget
        while True:
            took = False
            served: set[Hashable] = set()
            for request in [r for r in self._requests.values() if r.urgent]:
                if request.flow_key in served:
                    continue
                served.add(request.flow_key)
                while request.pending_count:
                    bucket = request.lowest_bucket()
                    assert bucket is not None
                    head = request.pending[bucket][0]
                    rider = head.key in batch._row_of_key
                    if not rider and (
                        len(batch.rows) >= self.max_batch_size
                        or not fits(
                            max(batch.longest, head.cost),
                            len(batch.rows) + 1,
                            max_batch_tokens=limit,
                            max_batch_size=self.max_batch_size,
                        )
                    ):
                        break
                    self._take(batch, request.pop(bucket), bucket)
                    took = True
                if request.pending_count == 0:
                    self._forget(request)
                else:
                    # The batch is full for this request's next item: later ones would not fit either.
                    return
            if not took:
                return

    def _forget(self, request: QueuedRequest) -> None:
        """Drop a request whose every item is in a batch from its flow (and the flow, once empty)."""
        self._requests.pop(request.request_id, None)
        flow = self._flows.get(request.flow_key)
        if flow is None:
            return
        if request in flow.requests:
            flow.requests.remove(request)
        if flow.empty:
            self._drop_flow(flow)

    def _serve(self, flow: _Flow, batch: Batch) -> tuple[bool, bool]:
        """Let ``flow`` add items to ``batch``; returns (took any, its turn is over)."""
        took = False
        while not self._full(batch):
            picked = self._next_for(flow, batch)
            if picked is None:
                return took, False
            request, bucket = picked
            head = request.pending[bucket][0]
            rider = head.key in batch._row_of_key
            cost = 0 if rider else head.cost
            if not flow.has_turn:
                # A quantum never smaller than the item, so every turn can make progress.
                flow.deficit += max(self.quantum, cost)
                flow.has_turn = True
            if cost > flow.deficit:
                flow.has_turn = False
                return took, True
            if not rider and not self._fits(batch, head.cost):
                return took, False
            item = request.pop(bucket)
            self._take(batch, item, bucket)
            flow.deficit -= cost
            took = True
            # Requests of one client take turns item by item: the one after ``request`` goes next.
            while flow.requests[0] is not request:
                flow.requests.rotate(-1)
            flow.requests.rotate(-1)
            if request.pending_count == 0:
                flow.requests.remove(request)
                self._requests.pop(request.request_id, None)
            if flow.empty:
                return took, True
        return took, False

    def _next_for(self, flow: _Flow, batch: Batch) -> tuple[QueuedRequest, int] | None:
        for request in flow.requests:
            bucket = request.lowest_bucket() if batch.bucket is None else batch.bucket
            if bucket is not None and request.pending.get(bucket):
                return request, bucket
        return None

    def _fits(self, batch: Batch, cost: int) -> bool:
        return fits(
            max(batch.longest, cost),
            len(batch.rows) + 1,
            max_batch_tokens=self._budget,
            max_batch_size=self.max_batch_size,
        )

    def _full(self, batch: Batch) -> bool:
        return len(batch.rows) >= self.max_batch_size or batch.padded_tokens >= self._budget

    def _take(self, batch: Batch, item: QueuedItem, bucket: int) -> None:
        self.queued_items -= 1
        self.queued_tokens -= item.cost
        if item.request.urgent:
            self.urgent_items -= 1
        row = batch._row_of_key.get(item.key)
        if row is not None:
            batch.riders.append((item, row))
            return
        batch._row_of_key[item.key] = len(batch.rows)
        batch.rows.append(item)
        if item.cost >= batch.longest:
            # The batch's bucket is its longest row's, so items that join later pad little.
            batch.bucket = bucket
        batch.longest = max(batch.longest, item.cost)

    def _drop_flow(self, flow: _Flow, *, from_ring: bool = True) -> None:
        self._flows.pop(flow.key, None)
        flow.deficit = 0
        flow.has_turn = False
        if from_ring and flow in self._ring:
            self._ring.remove(flow)
