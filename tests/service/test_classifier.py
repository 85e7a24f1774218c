"""The in-process classifier on the real tiny bundle: sync and async agree, the cache never changes
an answer, and a text's result does not depend on its batch."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from service import Classifier
from service.classifier import Prediction
from service.errors import InvalidInputError
from service.gazetteer import Gazetteer
from service.settings import Settings
from tests.service.conftest import HINTED_ENTRIES, add_gazetteer, edit_card

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


async def both_paths(classifier: Classifier) -> tuple[list[Prediction], list[Prediction]]:
    """``TEXTS`` through the batcher (then drained) and directly."""
    try:
        via_batcher = await classifier.aclassify(TEXTS)
    finally:
        await classifier.drain()
    return via_batcher, classifier.classify(TEXTS)


async def test_async_path_matches_the_sync_path(tiny_bundle: Path) -> None:
    via_batcher, direct = await both_paths(Classifier.load(tiny_bundle, Settings(cache_size=0)))
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


class TokenizerSpy:
    """Wraps the real tokenizer and records every text it is given: exactly what the model reads."""

    def __init__(self, classifier: Classifier) -> None:
        self.inner = classifier._tokenizer
        self.texts: list[str] = []
        classifier._tokenizer = self  # type: ignore[assignment]

    @property
    def max_token_id(self) -> int:
        return self.inner.max_token_id

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        self.texts.extend(texts)
        return self.inner.encode(texts)


def norm_1_copy(tiny_bundle: Path, tmp_path: Path) -> Path:
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path / "norm1"))
    edit_card(bundle, normalization="txc-norm-1")
    return bundle


def test_the_model_reads_direction_and_hint(hinted_bundle: Path) -> None:
    classifier = Classifier.load(hinted_bundle, Settings(cache_size=0))
    spy = TokenizerSpy(classifier)
    classifier.classify(
        ["TESCO STORES 3297 LONDON", "Zelle to Ann", "tesco express", "boots"],
        directions=["debit", "credit", None, "debit"],
    )
    assert sorted(spy.texts) == sorted(
        [
            "debit | food and drink | tesco stores 3297 london",
            "credit | zelle to ann",
            "general merchandise | tesco express",
            "debit | medical | boots",
        ]
    )


async def test_the_async_path_builds_the_same_model_input(hinted_bundle: Path) -> None:
    classifier = Classifier.load(hinted_bundle, Settings(cache_size=0))
    spy = TokenizerSpy(classifier)
    try:
        await classifier.aclassify(["shell fuel", "uber trip"], directions=["debit", None])
    finally:
        await classifier.drain()
    assert spy.texts == ["debit | transportation | shell fuel", "uber trip"]


def test_a_norm_1_bundle_ignores_direction(tiny_bundle: Path, tmp_path: Path) -> None:
    classifier = Classifier.load(norm_1_copy(tiny_bundle, tmp_path), Settings(cache_size=100))
    spy = TokenizerSpy(classifier)
    engine = CountingEngine(classifier)
    with_direction = classifier.classify(["Uber trip", "uber trip"], directions=["debit", "credit"])
    assert spy.texts == ["uber trip"]
    assert engine.rows == 1
    (without,) = classifier.classify(["uber trip"])
    assert with_direction[0] == with_direction[1] == without


def test_a_bundle_without_direction_input_gets_the_hint_only(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = Path(shutil.copytree(tiny_bundle, tmp_path / "hint-only"))
    add_gazetteer(bundle, Gazetteer(HINTED_ENTRIES, "tests 1"), direction=False)
    classifier = Classifier.load(bundle, Settings(cache_size=0))
    spy = TokenizerSpy(classifier)
    classifier.classify(["tesco", "netflix"], directions=["debit", "credit"])
    assert sorted(spy.texts) == ["food and drink | tesco", "netflix"]


def test_direction_is_part_of_the_cache_key(hinted_bundle: Path) -> None:
    classifier = Classifier.load(hinted_bundle, Settings(cache_size=100))
    engine = CountingEngine(classifier)
    first = classifier.classify(
        ["zelle to ann", "zelle to ann", "zelle to ann"], directions=["debit", "credit", None]
    )
    assert engine.rows == 3  # three model inputs
    again = classifier.classify(
        ["salary", "zelle to ann", "zelle  TO ann"], directions=[None, "credit", "debit"]
    )
    assert engine.rows == 4  # only "salary" is new
    assert again[1] == first[1]
    assert again[2] == first[0]
    np.testing.assert_array_equal(again[1].probabilities, first[1].probabilities)


def test_same_text_and_direction_answer_alike_whatever_the_batch(hinted_bundle: Path) -> None:
    classifier = Classifier.load(hinted_bundle, Settings(cache_size=0))
    texts = [*TEXTS[:-1], "tesco express"]
    directions: list[str | None] = ["debit", "credit", None, "debit", "credit", None, "debit"]
    together = classifier.classify(texts, directions=directions)
    for text, direction, batched in zip(texts, directions, together, strict=True):
        (alone,) = classifier.classify([text], directions=[direction])
        assert alone.label == batched.label
        np.testing.assert_allclose(alone.probabilities, batched.probabilities, atol=1e-5)


@pytest.mark.parametrize("bundle_kind", ["hinted", "norm1"])
def test_bad_directions_are_refused_with_their_positions(
    hinted_bundle: Path, tiny_bundle: Path, tmp_path: Path, bundle_kind: str
) -> None:
    bundle = hinted_bundle if bundle_kind == "hinted" else norm_1_copy(tiny_bundle, tmp_path)
    classifier = Classifier.load(bundle)
    with pytest.raises(InvalidInputError) as error:
        classifier.classify(["fine", "ok", " ", "x"], directions=["debit", "DEBIT", None, "in"])
    assert [detail.loc for detail in error.value.details] == [
        ("directions", 1),
        ("texts", 2),
        ("directions", 3),
    ]
    assert "2 direction(s)" in error.value.message
    assert "1 text(s) are empty" in error.value.message


def test_directions_must_match_the_texts(hinted_bundle: Path) -> None:
    classifier = Classifier.load(hinted_bundle)
    with pytest.raises(InvalidInputError, match="1 directions for 2 texts"):
        classifier.classify(["a", "b"], directions=["debit"])


@pytest.fixture
def lexical_bundle(tiny_bundle: Path, tmp_path: Path) -> Path:
    """The tiny bundle with a lexical model whose n-grams move the answers (tests/service/test_bundle.py)."""
    from tests.service.test_bundle import add_lexical

    bundle = Path(shutil.copytree(tiny_bundle, tmp_path / "lexical"))
    add_lexical(bundle)
    return bundle


async def test_a_lexical_bundle_mixes_alike_on_both_paths_whatever_the_batch(
    lexical_bundle: Path, tiny_bundle: Path
) -> None:
    classifier = Classifier.load(lexical_bundle, Settings(cache_size=0))
    via_batcher, direct = await both_paths(classifier)
    for text, a, b in zip(TEXTS, via_batcher, direct, strict=True):
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        (alone,) = classifier.classify([text])
        np.testing.assert_array_equal(alone.probabilities, b.probabilities)
    plain = Classifier.load(tiny_bundle, Settings(cache_size=0)).classify(TEXTS)
    assert (
        max(np.abs(a.probabilities - p.probabilities).max() for a, p in zip(direct, plain, strict=True))
        > 1e-3
    )


def test_sync_classify_spreads_its_batches_over_the_lanes(tiny_bundle: Path) -> None:
    texts = [f"{text} {i}" for i in range(40) for text in TEXTS[:-1]]
    one_lane = Classifier.load(tiny_bundle, Settings(cache_size=0, max_batch_size=8, engine_lanes=1))
    two_lanes = Classifier.load(tiny_bundle, Settings(cache_size=0, max_batch_size=8, engine_lanes=2))
    inner = two_lanes._engine
    threads: set[str] = set()
    both_lanes = threading.Barrier(2, timeout=30)  # each lane's first batch waits for the other's

    class RecordingThreads:
        def run(self, sequences: list[np.ndarray]) -> np.ndarray:
            name = threading.current_thread().name
            if name not in threads:
                threads.add(name)
                if name.startswith("txc-classify"):
                    both_lanes.wait()
            return inner.run(sequences)

    two_lanes._engine = RecordingThreads()  # type: ignore[assignment]
    alone, spread = one_lane.classify(texts), two_lanes.classify(texts)
    assert len(threads) == 2, threads
    assert all(name.startswith("txc-classify") for name in threads)
    for a, b in zip(alone, spread, strict=True):
        assert a.label == b.label
        np.testing.assert_allclose(a.probabilities, b.probabilities, atol=1e-6)
    threads.clear()
    two_lanes.classify(texts[:3])  # one batch: scored in the caller's thread
    assert threads == {threading.current_thread().name}
