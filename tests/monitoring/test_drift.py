"""Prediction counts, the confidence histogram and the PSI drift gauge."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from service.monitoring import (
    PredictionMonitor,
    Reference,
    SlidingCounts,
    population_stability_index,
    reference_from_predictions,
)
from tests.fixtures.tiny_bundle import DEFAULT_LABELS
from tests.hardening.inprocess import running, settings_for

LABELS = ("A", "B", "C")


def test_psi_is_zero_for_the_same_mix_and_grows_with_the_shift() -> None:
    assert population_stability_index([0.5, 0.3, 0.2], [0.5, 0.3, 0.2]) == 0.0
    small = population_stability_index([0.45, 0.35, 0.2], [0.5, 0.3, 0.2])
    large = population_stability_index([0.1, 0.1, 0.8], [0.5, 0.3, 0.2])
    assert 0 < small < 0.1 < 0.25 < large
    # By hand: (0.1-0.5)ln(0.1/0.5) + (0.1-0.3)ln(0.1/0.3) + (0.8-0.2)ln(0.8/0.2)
    assert large == pytest.approx(0.4 * math.log(5) + 0.2 * math.log(3) + 0.6 * math.log(4))
    assert math.isfinite(population_stability_index([1.0, 0.0, 0.0], [0.0, 0.5, 0.5]))


def test_sliding_counts_keep_only_the_last_window() -> None:
    counts = SlidingCounts(bins=3, window=4)
    counts.add(np.array([0, 0, 1], dtype=np.intp))
    counts.add(np.array([2, 2], dtype=np.intp))  # the first 0 falls out
    assert counts.counts.tolist() == [1, 1, 2]
    counts.add(np.array([1, 1, 1, 1, 1, 0], dtype=np.intp))  # more than the window at once
    assert counts.counts.tolist() == [1, 3, 0]
    assert counts.shares() == [0.25, 0.75, 0.0]


def test_reference_reads_the_card_and_refuses_bad_ones() -> None:
    assert Reference.from_card({}, LABELS) is None
    reference = Reference.from_card({"reference": {"label_distribution": {"A": 2, "C": 2}}}, LABELS)
    assert reference is not None
    assert reference.label_shares == (0.5, 0.0, 0.5)
    with pytest.raises(ValueError, match="lacks: Z"):
        Reference.from_card({"reference": {"label_distribution": {"Z": 1}}}, LABELS)
    with pytest.raises(ValueError, match="label_distribution"):
        Reference.from_card({"reference": {"confidence_histogram": {}}}, LABELS)


def test_reference_from_predictions_is_what_from_card_reads() -> None:
    card = {"reference": reference_from_predictions(LABELS, ["A", "A", "B", "A"], [0.95, 0.5, 0.05, 1.0])}
    reference = Reference.from_card(card, LABELS)
    assert reference is not None
    assert reference.label_shares == (0.75, 0.25, 0.0)
    assert sum(card["reference"]["confidence_histogram"]["shares"]) == pytest.approx(1.0)


def test_monitor_exports_counts_histogram_and_drift() -> None:
    reference = Reference((0.5, 0.5, 0.0))
    monitor = PredictionMonitor(LABELS, reference, window_items=100, min_items=10)
    registry = CollectorRegistry()
    registry.register(monitor)
    monitor.observe(["A"] * 4, [0.99] * 4)
    assert registry.get_sample_value("txclassify_label_drift_psi") is not None
    assert math.isnan(registry.get_sample_value("txclassify_label_drift_psi") or 0.0)  # too few yet
    monitor.observe(["A"] * 3 + ["C"] * 3, [0.05, 0.15, 0.95, 0.5, 1.0, 0.3])
    assert registry.get_sample_value("txclassify_predictions_total", {"label": "A"}) == 7
    assert registry.get_sample_value("txclassify_predictions_total", {"label": "B"}) == 0
    assert registry.get_sample_value("txclassify_prediction_confidence_bucket", {"le": "0.1"}) == 1
    assert registry.get_sample_value("txclassify_prediction_confidence_bucket", {"le": "0.3"}) == 3
    assert registry.get_sample_value("txclassify_prediction_confidence_count") == 10
    expected = population_stability_index([0.7, 0.0, 0.3], [0.5, 0.5, 0.0])
    assert registry.get_sample_value("txclassify_label_drift_psi") == pytest.approx(expected)


def test_no_reference_no_drift_gauge() -> None:
    monitor = PredictionMonitor(LABELS, None, window_items=100)
    registry = CollectorRegistry()
    registry.register(monitor)
    monitor.observe(["A"], [0.9])
    assert b"txclassify_label_drift_psi" not in generate_latest(registry)
    assert registry.get_sample_value("txclassify_predictions_total", {"label": "A"}) == 1


async def test_served_answers_are_counted_and_drift_exported(reference_bundle: Path) -> None:
    settings = settings_for(reference_bundle, drift_window_items=100)
    texts = [f"payment {i}" for i in range(120)]
    async with running(settings) as (_, client):
        response = await client.post(
            "/v1/classify", json={"transactions": [{"id": str(i), "text": t} for i, t in enumerate(texts)]}
        )
        metrics = (await client.get("/metrics")).text
    served = [r["label"] for r in response.json()["results"]]
    counted = {
        line.split('"')[1]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("txclassify_predictions_total{")
    }
    assert {label: counted[label] for label in set(served)} == {
        label: served.count(label) for label in set(served)
    }
    assert sum(counted.values()) == len(texts)
    [psi_line] = [line for line in metrics.splitlines() if line.startswith("txclassify_label_drift_psi ")]
    window = served[-100:]  # the last drift_window_items answers
    actual = [window.count(label) / len(window) for label in DEFAULT_LABELS]
    expected = [0.5 if label in ("FOOD_AND_DRINK", "TRAVEL") else 0.0 for label in DEFAULT_LABELS]
    assert float(psi_line.split()[1]) == pytest.approx(population_stability_index(actual, expected))


async def test_a_card_without_reference_exports_no_drift(
    tiny_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(settings_for(tiny_bundle)) as (_, client):
        await client.post("/v1/classify", json={"transactions": [{"id": "1", "text": "uber"}]})
        metrics = (await client.get("/metrics")).text
    assert "txclassify_label_drift_psi" not in metrics
    assert "txclassify_predictions_total{" in metrics
    assert "no 'reference'" in caplog.text
