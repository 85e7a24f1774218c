from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from training.data import SPLITS, Narration, catalogue, sample_narrations
from training.labels import LABELS


def test_same_seed_same_narrations() -> None:
    assert sample_narrations(300, seed=7, split="train") == sample_narrations(300, seed=7, split="train")


def test_different_seeds_differ() -> None:
    assert sample_narrations(300, seed=1) != sample_narrations(300, seed=2)


def test_narration_is_frozen() -> None:
    narration = sample_narrations(1)[0]
    assert isinstance(narration, Narration)
    with pytest.raises(dataclasses.FrozenInstanceError):
        narration.text = "changed"  # type: ignore[misc]


def test_every_label_and_country_is_generated() -> None:
    narrations = sample_narrations(4000, seed=0)
    assert {n.label for n in narrations} == set(LABELS)
    assert {n.country for n in narrations} == {"US", "UK", "NG", "EU", "IN"}


def test_catalogue_splits_are_entity_disjoint() -> None:
    by_split: dict[str, set[tuple[str, str]]] = {s: set() for s in SPLITS}
    for entity in catalogue():
        by_split[entity.split].add((entity.label, entity.name))
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["val"]
    assert not by_split["val"] & by_split["test"]


def test_sampled_test_merchants_never_appear_in_training() -> None:
    train = {(n.label, n.merchant) for n in sample_narrations(5000, seed=0, split="train")}
    test = {(n.label, n.merchant) for n in sample_narrations(2000, seed=0, split="test")}
    assert test
    assert not train & test


def test_merchant_frequencies_are_zipf_like() -> None:
    food = [n.merchant for n in sample_narrations(6000, seed=3) if n.label == "FOOD_AND_DRINK"]
    counts = sorted(Counter(food).values(), reverse=True)
    # Heavy head, long tail: the top merchant is far more frequent than the median one.
    assert counts[0] >= 10 * counts[len(counts) // 2]
    assert len(counts) > 50


def test_texts_are_bounded_and_non_empty() -> None:
    for narration in sample_narrations(2000, seed=5):
        assert 0 < len(narration.text.strip()) <= 120


def test_unknown_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="split"):
        sample_narrations(1, split="holdout")
