"""FairQueue on its own: deterministic cuts, no event loop."""

from __future__ import annotations

from service.scheduling import FairQueue, QueuedItem, QueuedRequest


def queue(**overrides: int) -> FairQueue:
    config = {"max_batch_tokens": 1000, "max_batch_size": 4, "bucket_width": 8, "quantum": 8, **overrides}
    return FairQueue(**config)


def add(fair: FairQueue, request_id: int, flow: str, lengths: list[int]) -> QueuedRequest:
    request = QueuedRequest(request_id=request_id, flow_key=flow, enqueued_at=0.0, deadline=1e9)
    fair.add(
        request, [QueuedItem(request, i, f"{flow}{request_id}-{i}", n, n) for i, n in enumerate(lengths)]
    )
    return request


def drain(fair: FairQueue) -> list[list[str]]:
    batches = []
    while fair.queued_items:
        batch = fair.cut()
        assert batch.rows, "a non-empty queue must give a non-empty batch"
        batches.append([str(item.key) for item, _ in batch.items()])
    return batches


def test_a_flow_with_other_lengths_is_not_starved() -> None:
    fair = queue(max_batch_size=2, quantum=4)
    add(fair, 1, "short", [2] * 20)
    add(fair, 2, "long", [30])
    batches = drain(fair)
    position = next(i for i, batch in enumerate(batches) if "long2-0" in batch)
    assert position <= 2


def test_removed_requests_leave_no_trace() -> None:
    fair = queue()
    kept = add(fair, 1, "a", [3, 3])
    gone = add(fair, 2, "b", [3, 3, 3])
    assert fair.remove(gone) == 3
    assert fair.queued_items == 2
    assert fair.remove(gone) == 0
    assert {key for batch in drain(fair) for key in batch} == {"a1-0", "a1-1"}
    assert fair.oldest_enqueued_at() is None
    assert kept.pending_count == 0


def test_requests_of_one_client_take_turns() -> None:
    fair = queue(max_batch_size=2, quantum=100)
    add(fair, 1, "client", [1] * 4)
    add(fair, 2, "client", [1] * 4)
    first = fair.cut()
    assert {item.request.request_id for item in first.rows} == {1, 2}


def test_padded_cost_counts_the_longest_row() -> None:
    fair = queue(max_batch_tokens=20, max_batch_size=100, bucket_width=100, quantum=1000)
    add(fair, 1, "a", [2, 2, 2, 9, 9])
    for batch in iter(fair.cut, None):
        if not batch.rows:
            break
        assert batch.padded_tokens <= 20
