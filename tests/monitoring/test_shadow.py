"""Shadow scoring never changes a served answer, and a full shadow queue drops instead of blocking."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from prometheus_client import generate_latest

from service.classifier import Prediction
from service.metrics import ServiceMetrics
from service.shadow import ShadowScorer
from tests.hardening.inprocess import running, settings_for

TEXTS = [f"pos purchase {word} {i}" for i, word in enumerate(["tesco", "uber", "shell", "amazon"] * 10)]


def _body() -> dict[str, Any]:
    return {
        "transactions": [
            {"id": str(i), "text": text, "direction": "debit" if i % 2 else "credit"}
            for i, text in enumerate(TEXTS)
        ],
        "top_k": 3,
    }


async def test_served_answers_are_identical_with_and_without_a_shadow(
    tiny_bundle: Path, shadow_bundle: Path
) -> None:
    async with running(settings_for(tiny_bundle)) as (_, client):
        alone = [(await client.post("/v1/classify", json=_body())).json() for _ in range(2)]
    async with running(settings_for(tiny_bundle, shadow_model_dir=shadow_bundle)) as (app, client):
        shadowed = [(await client.post("/v1/classify", json=_body())).json() for _ in range(2)]
        metrics = app.state.runtime.metrics
        registry = metrics.registry

        def scored() -> float:
            return sum(
                registry.get_sample_value("txclassify_shadow_items_total", {"agreed": a}) or 0.0
                for a in ("true", "false")
            )

        deadline = time.monotonic() + 30
        while scored() < 2 * len(TEXTS):
            assert time.monotonic() < deadline, "the shadow did not score the traffic"
            await asyncio.sleep(0.02)
        exposition = generate_latest(registry).decode()
    assert shadowed == alone
    assert (
        registry.get_sample_value(
            "txclassify_shadow_info", {"name": "txclassify-tiny", "version": "0.0.0-shadow"}
        )
        == 1
    )
    disagreed = registry.get_sample_value("txclassify_shadow_items_total", {"agreed": "false"}) or 0.0
    assert disagreed > 0  # reversed labels: the shadow answers differently, and that is counted
    per_label = sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith("txclassify_shadow_disagreements_total{")
    )
    assert per_label == disagreed
    assert (registry.get_sample_value("txclassify_shadow_seconds_count") or 0) >= 2


def _prediction(label: str) -> Prediction:
    return Prediction(label, 0.9, False, np.zeros(1, dtype=np.float32), (label,))


class GatedModel:
    """A shadow model that holds every call until the test opens the gate."""

    def __init__(self, answer: str = "A", fail: bool = False) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.answer = answer
        self.fail = fail

    def classify(
        self, texts: Sequence[str], *, directions: Sequence[str | None] | None = None
    ) -> list[Prediction]:
        self.started.set()
        self.gate.wait(timeout=30)
        if self.fail:
            raise RuntimeError("shadow model broke")
        return [_prediction(self.answer) for _ in texts]


async def test_a_full_shadow_queue_drops_instead_of_blocking() -> None:
    metrics = ServiceMetrics()
    model = GatedModel()
    scorer = ShadowScorer(model, metrics, max_queue_items=4)
    await scorer.start()
    assert scorer.offer(["a", "b"], [None, None], [_prediction("A"), _prediction("B")])
    await asyncio.to_thread(model.started.wait, 10)  # the worker holds the first request
    assert scorer.offer(["c", "d"], [None, None], [_prediction("A")] * 2)
    started = time.perf_counter()
    assert not scorer.offer(["e"], [None], [_prediction("A")])
    assert time.perf_counter() - started < 0.01  # refused at once, not after the shadow frees up
    assert metrics.registry.get_sample_value("txclassify_shadow_dropped_items_total") == 1
    model.gate.set()
    deadline = time.monotonic() + 10
    while scorer.queued_items:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    value = metrics.registry.get_sample_value
    assert value("txclassify_shadow_items_total", {"agreed": "true"}) == 3
    assert value("txclassify_shadow_items_total", {"agreed": "false"}) == 1
    assert value("txclassify_shadow_disagreements_total", {"label": "B", "shadow_label": "A"}) == 1
    await scorer.stop()


async def test_a_failing_shadow_is_counted_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    metrics = ServiceMetrics()
    model = GatedModel(fail=True)
    model.gate.set()
    scorer = ShadowScorer(model, metrics, max_queue_items=10)
    await scorer.start()
    assert scorer.offer(["a"], [None], [_prediction("A")])
    deadline = time.monotonic() + 10
    while not metrics.registry.get_sample_value("txclassify_shadow_errors_total"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    assert scorer.offer(["b"], [None], [_prediction("A")])  # still taking work
    await scorer.stop()
    assert "shadow batch of 1 transactions failed" in caplog.text


async def test_a_shadow_bundle_that_cannot_load_stops_start_up(tiny_bundle: Path, tmp_path: Path) -> None:
    from service.errors import BundleError

    with pytest.raises(BundleError):
        async with running(settings_for(tiny_bundle, shadow_model_dir=tmp_path / "missing")):
            pass


async def test_a_primary_backlog_sheds_the_shadow() -> None:
    metrics = ServiceMetrics()
    backlog = [0]
    model = GatedModel()
    model.gate.set()
    scorer = ShadowScorer(model, metrics, max_queue_items=100, primary_backlog=lambda: backlog[0])
    await scorer.start()
    backlog[0] = 3  # the served model has queued work: no shadow now
    assert not scorer.offer(["a", "b"], [None, None], [_prediction("A")] * 2)
    assert metrics.registry.get_sample_value("txclassify_shadow_dropped_items_total") == 2
    backlog[0] = 0
    assert scorer.offer(["c"], [None], [_prediction("A")])
    await scorer.stop()
