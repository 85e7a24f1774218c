"""FairQueue on its own: deterministic cuts, no event loop."""

from __future__ import annotations

import itertools

from service.scheduling import FairQueue, QueuedItem, QueuedRequest, fits, plan_batches


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


def add_urgent(fair: FairQueue, request_id: int, flow: str, lengths: list[int]) -> QueuedRequest:
    request = QueuedRequest(request_id=request_id, flow_key=flow, enqueued_at=0.0, deadline=1e9, urgent=True)
    fair.add(
        request, [QueuedItem(request, i, f"{flow}{request_id}-{i}", n, n) for i, n in enumerate(lengths)]
    )
    return request


def test_fits_admits_one_row_whatever_its_length() -> None:
    assert fits(5000, 1, max_batch_tokens=10, max_batch_size=1)
    assert fits(10, 2, max_batch_tokens=20, max_batch_size=2)
    assert not fits(11, 2, max_batch_tokens=20, max_batch_size=2)
    assert not fits(1, 3, max_batch_tokens=20, max_batch_size=2)


def test_plan_batches_covers_every_index_once_within_the_budget() -> None:
    lengths = [3, 40, 7, 12, 5, 9, 20, 1, 14, 6, 8, 11, 2, 18, 4, 10, 90]
    batches = plan_batches(lengths, max_batch_tokens=40, max_batch_size=5)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert fits(longest, len(batch), max_batch_tokens=40, max_batch_size=5)
    # Shortest first, and no batch could have taken the next one's first row.
    flat = [lengths[i] for batch in batches for i in batch]
    assert flat == sorted(flat)
    for batch, following in itertools.pairwise(batches):
        newcomer = lengths[following[0]]
        assert not fits(newcomer, len(batch) + 1, max_batch_tokens=40, max_batch_size=5)
    assert plan_batches([]) == []


def test_the_queue_cuts_what_plan_batches_plans_for_one_request() -> None:
    lengths = [3, 7, 12, 5, 9, 20, 1, 14, 6, 8, 11, 2, 18, 4, 10]
    fair = queue(max_batch_tokens=40, max_batch_size=5, bucket_width=1000, quantum=10_000)
    add(fair, 1, "a", lengths)
    cut = [sorted(int(str(key).split("-")[1]) for key in batch) for batch in drain(fair)]
    planned = [sorted(batch) for batch in plan_batches(lengths, max_batch_tokens=40, max_batch_size=5)]
    assert cut == planned


def test_urgent_items_go_first_whatever_their_bucket() -> None:
    fair = queue(max_batch_tokens=1000, max_batch_size=8, bucket_width=8, quantum=100)
    add(fair, 1, "bulk", [30] * 20)
    add_urgent(fair, 2, "small", [3, 12, 25])
    first = fair.cut()
    urgent = [item for item, _ in first.items() if item.request.request_id == 2]
    assert len(urgent) == 3
    assert first.padded_tokens <= 1000
    assert fair.urgent_items == 0


def test_urgent_flows_take_turns_one_request_at_a_time() -> None:
    fair = queue(max_batch_tokens=1000, max_batch_size=3, bucket_width=8, quantum=100)
    for request_id in (1, 2, 3):
        add_urgent(fair, request_id, "chatty", [4])
    add_urgent(fair, 4, "quiet", [4])
    add_urgent(fair, 5, "late", [4])
    first = {item.request.request_id for item, _ in fair.cut().items()}
    assert first == {1, 4, 5}


def test_urgent_work_leaves_room_for_waiting_bulk_work() -> None:
    fair = queue(max_batch_tokens=100, max_batch_size=100, bucket_width=100, quantum=100)
    add(fair, 1, "bulk", [10] * 10)
    for request_id in range(2, 12):
        add_urgent(fair, request_id, f"small{request_id}", [10])
    first = [item.request.urgent for item in fair.cut().rows]
    assert first == [True] * 7  # 0.75 of the budget, and no bulk work in an urgent batch
    # The next urgent batch shares: what the urgent items leave goes to the waiting bulk work.
    second = [item.request.urgent for item in fair.cut().rows]
    assert second.count(True) == 3
    assert second.count(False) == 7
    # Alone, urgent work may fill the whole budget.
    alone = queue(max_batch_tokens=100, max_batch_size=100, bucket_width=100, quantum=100)
    for request_id in range(10):
        add_urgent(alone, request_id, f"small{request_id}", [10])
    assert len(alone.cut().rows) == 10


def test_urgent_batches_carry_no_bulk_work_until_bulk_was_passed_over() -> None:
    fair = queue(max_batch_tokens=100, max_batch_size=100, bucket_width=100, quantum=100)
    add(fair, 1, "bulk", [10] * 40)
    add_urgent(fair, 2, "small", [10, 10])
    assert [item.request.request_id for item in fair.cut().rows] == [2, 2]
    # No urgent work left: a full bulk batch, and the next urgent batch runs alone again.
    assert {item.request.request_id for item in fair.cut().rows} == {1}
    add_urgent(fair, 3, "small", [10])
    assert [item.request.request_id for item in fair.cut().rows] == [3]


def test_a_flood_of_urgent_work_leaves_bulk_work_every_second_batch() -> None:
    fair = queue(max_batch_tokens=100, max_batch_size=100, bucket_width=100, quantum=100)
    add(fair, 1, "bulk", [10] * 30)
    for request_id in range(2, 62):
        add_urgent(fair, request_id, f"small{request_id}", [10])
    bulk_per_batch = []
    for _ in range(6):
        bulk_per_batch.append(sum(1 for item in fair.cut().rows if not item.request.urgent))
    assert bulk_per_batch == [0, 3, 0, 3, 0, 3]


def test_a_lower_budget_applies_to_one_cut_only() -> None:
    fair = queue(max_batch_tokens=100, max_batch_size=100, bucket_width=100, quantum=1000)
    add(fair, 1, "a", [10] * 30)
    assert fair.cut(max_batch_tokens=30).padded_tokens == 30
    assert fair.cut(max_batch_tokens=500).padded_tokens == 100  # never above the queue's own
    assert fair.cut().padded_tokens == 100
    assert fair.has_full_batch(max_batch_tokens=5)
    assert not fair.has_full_batch()


def test_withdrawn_urgent_requests_are_no_longer_counted() -> None:
    fair = queue()
    request = add_urgent(fair, 1, "a", [3, 3])
    assert fair.urgent_items == 2
    fair.remove(request)
    assert fair.urgent_items == 0
    assert fair.cut().rows == []
