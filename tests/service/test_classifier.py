"""The in-process classifier on the real tiny bundle: sync and async agree, the cache never changes
an answer, and a text's result does not depend on its batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service import Classifier
from service.errors import InvalidInputError
from service.settings import Settings

TEXTS = [
    "POS PURCHASE STARBUCKS #1234 SEATTLE WA",
    "ACH CREDIT ACME CORP PAYROLL 20261120",
    "zelle to john smith",
    "UBER   TRIP  HELP.UBER.COM",
    "netflix.com 866-579-7172 ca",
    "card 4111111111111111 amazon mktp",
    "x",
]


class CountingEngine:
    """Wraps the real engine and counts how many texts reach it."""

    def __init__(self, classifier: Classifier) -> None:
        self.inner = classifier._engine
        self.rows = 0
        classifier._engine = self  # type: ignore[assignment]

    def run(self, sequences: list[np.ndarray]) -> np.ndarray:
        self.rows += len(sequences)
        return self.inner.run(sequences)


def test_import_does_not_pull_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, service; service.Classifier; assert 'fastapi' not in sys.modules, 'fastapi imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_classify_gives_one_prediction_per_text(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=0))
    predictions = classifier.classify(TEXTS)
    assert len(predictions) == len(TEXTS)
    for prediction in predictions:
        assert prediction.label in classifier.bundle.labels
        assert prediction.confidence == pytest.approx(float(prediction.probabilities.max()))
        assert prediction.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        assert prediction.abstained == (prediction.confidence < classifier.bundle.abstain_threshold)
        top = prediction.top(3)
        assert top[0].label == prediction.label
        assert top[0].confidence >= top[1].confidence >= top[2].confidence


def test_results_do_not_depend_on_batch_neighbours(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=0))
    together = classifier.classify(TEXTS)
    for text, batched in zip(TEXTS, together, strict=True):
        (alone,) = classifier.classify([text])
        assert alone.label == batched.label
        np.testing.assert_allclose(alone.probabilities, batched.probabilities, atol=1e-5)


async def test_async_path_matches_the_sync_path(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=0))
    try:
        via_batcher = await classifier.aclassify(TEXTS)
    finally:
        await classifier.drain()
    direct = classifier.classify(TEXTS)
    for a, b in zip(via_batcher, direct, strict=True):
        assert a.label == b.label
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)


def test_cache_answers_repeats_without_the_model(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=100))
    engine = CountingEngine(classifier)
    first = classifier.classify(TEXTS)
    assert engine.rows == len(TEXTS)
    second = classifier.classify(list(reversed(TEXTS)))
    assert engine.rows == len(TEXTS)  # all hits
    for a, b in zip(first, reversed(second), strict=True):
        assert a == b
        np.testing.assert_array_equal(a.probabilities, b.probabilities)


async def test_cache_hits_skip_the_batcher(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=100))
    engine = CountingEngine(classifier)
    try:
        await classifier.aclassify(TEXTS)
        outcome = await classifier.aclassify_with_timings([*TEXTS, "a new text"])
    finally:
        await classifier.drain()
    assert outcome.cache_hits == len(TEXTS)
    assert engine.rows == len(TEXTS) + 1


def test_duplicates_are_scored_once(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle, Settings(cache_size=0))
    engine = CountingEngine(classifier)
    predictions = classifier.classify(["Uber trip", "uber  TRIP", "other"])
    assert engine.rows == 2  # the first two normalise to the same text
    assert predictions[0] == predictions[1]


def test_empty_texts_are_refused_with_their_positions(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle)
    with pytest.raises(InvalidInputError) as error:
        classifier.classify(["fine", " \t ", "\x00"])
    assert [detail.loc for detail in error.value.details] == [("texts", 1), ("texts", 2)]


def test_long_texts_are_truncated_not_refused(tiny_bundle: Path) -> None:
    classifier = Classifier.load(tiny_bundle)
    (prediction,) = classifier.classify(["payment " * 400])
    assert prediction.label in classifier.bundle.labels
