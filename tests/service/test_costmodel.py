"""BatchCostModel on its own: the fit, its inverse, and forgetting."""

from __future__ import annotations

import pytest

from service.costmodel import BatchCostModel


def test_recovers_a_fixed_and_a_per_token_cost() -> None:
    model = BatchCostModel(min_batches=3)
    for tokens in (100, 400, 900, 1600, 250):
        model.observe(tokens, 0.002 + 0.00003 * tokens)
    assert model.per_batch_s == pytest.approx(0.002, rel=1e-6)
    assert model.per_token_s == pytest.approx(0.00003, rel=1e-6)
    assert model.predict(1000) == pytest.approx(0.032, rel=1e-6)


def test_tokens_within_inverts_predict() -> None:
    model = BatchCostModel(min_batches=2)
    model.observe(100, 0.004)
    model.observe(1100, 0.024)
    budget = model.tokens_within(0.020)
    assert budget is not None
    assert 899 <= budget <= 900
    prediction = model.predict(budget)
    assert prediction is not None
    assert prediction <= 0.020 + 1e-12
    assert model.tokens_within(0.0) == 1  # never below one token: a batch always makes progress


def test_nothing_is_predicted_before_enough_batches() -> None:
    model = BatchCostModel(min_batches=4)
    for tokens in (10, 20, 30):
        model.observe(tokens, 0.001 * tokens)
    assert not model.fitted
    assert model.predict(100) is None
    assert model.tokens_within(0.02) is None
    model.observe(0, 1.0)  # ignored: no tokens
    model.observe(40, -1.0)  # ignored: no time
    assert model.batches == 3
    model.observe(40, 0.04)
    assert model.fitted


def test_one_batch_size_charges_everything_per_token() -> None:
    model = BatchCostModel(min_batches=1)
    for _ in range(5):
        model.observe(500, 0.010)
    assert model.per_batch_s == 0.0
    assert model.per_token_s == pytest.approx(0.00002)


def test_noise_that_suggests_a_negative_fixed_cost_is_refitted_through_the_origin() -> None:
    model = BatchCostModel(min_batches=1)
    model.observe(100, 0.001)
    model.observe(200, 0.004)
    assert model.per_batch_s == 0.0
    assert model.per_token_s > 0


def test_a_slower_machine_is_learned_within_a_few_half_lives() -> None:
    model = BatchCostModel(half_life=8, min_batches=1)
    for i in range(64):
        model.observe(200 + 100 * (i % 8), 0.00001 * (200 + 100 * (i % 8)))
    for i in range(64):
        model.observe(200 + 100 * (i % 8), 0.00004 * (200 + 100 * (i % 8)))
    assert model.per_token_s == pytest.approx(0.00004, rel=0.02)


def test_a_non_positive_half_life_is_refused() -> None:
    with pytest.raises(ValueError, match="half_life"):
        BatchCostModel(half_life=0)


def test_break_even_is_where_the_fixed_cost_equals_the_token_cost() -> None:
    model = BatchCostModel(min_batches=2)
    assert model.break_even_tokens == 1
    model.observe(100, 0.005 + 0.0001 * 100)
    model.observe(300, 0.005 + 0.0001 * 300)
    assert model.break_even_tokens == 50
    # A budget shorter than the fixed cost: tokens_within gives up, break-even is the floor.
    assert model.tokens_within(0.004) == 1
