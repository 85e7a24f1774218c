"""The served lexical model against scikit-learn: the same n-grams, the same scores, row by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.errors import BundleError
from service.lexical import LexicalModel, char_wb_ngrams, log_softmax, mix

TEXTS = [
    "POS PURCHASE STARBUCKS #1234 SEATTLE WA",
    "debit | card payment to tesco stores 3297 on 14 mar",
    "credit | NIP TRF FROM ADEBAYO O",
    "UEBERWEISUNG AN MALERBETRIEB   KLEIN",
    "PIX ENVIADO - ELETRICISTA JOÃO",
    "a",
    "x y",
    "zzzz qqqq",  # no n-gram the model knows beyond the padding
]


@pytest.mark.parametrize("ngram_range", [(2, 4), (1, 5), (2, 5)])
def test_ngrams_are_scikit_learns_char_wb(ngram_range: tuple[int, int]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    for text in [*TEXTS, "tab\tand\nnewline", "  leading and trailing  ", ""]:
        assert char_wb_ngrams(text, *ngram_range) == analyzer(text)


def _fitted(ngram_range: tuple[int, int] = (2, 4)) -> LexicalModel:
    pytest.importorskip("sklearn")
    from training.config import LexicalConfig
    from training.lexical import fit_lexical

    texts = [*TEXTS[:5]] * 3 + ["starbucks coffee", "tesco express", "transfer from adebayo"]
    labels = [0, 1, 2, 3, 2] * 3 + [0, 1, 2]
    config = LexicalConfig(min_df=1, min_n=ngram_range[0], max_n=ngram_range[1])
    return fit_lexical(texts, labels, 4, config)


@pytest.mark.parametrize("ngram_range", [(2, 4), (2, 5)])
def test_served_scores_equal_scikit_learns_pipeline(ngram_range: tuple[int, int]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [*TEXTS[:5]] * 3 + ["starbucks coffee", "tesco express", "transfer from adebayo"]
    labels = [0, 1, 2, 3, 2] * 3 + [0, 1, 2]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True, min_df=1)
    features = vectorizer.fit_transform(texts)
    reference = LogisticRegression(C=10.0, max_iter=2000).fit(features, labels)
    expected = reference.decision_function(vectorizer.transform(TEXTS))
    served = _fitted(ngram_range)
    assert (served.min_n, served.max_n) == ngram_range
    np.testing.assert_allclose(served.logits(TEXTS), expected, rtol=1e-4, atol=1e-4)


def test_a_texts_scores_do_not_depend_on_its_batch_mates() -> None:
    model = _fitted()
    together = model.mix(np.ones((len(TEXTS), 4), dtype=np.float32), TEXTS)
    for i, text in enumerate(TEXTS):
        alone = model.mix(np.ones((1, 4), dtype=np.float32), [text])
        assert np.array_equal(alone[0], together[i])


@pytest.mark.parametrize("ngram_range", [(2, 4), (2, 5)])
def test_save_and_load_round_trip_within_float16(tmp_path: Path, ngram_range: tuple[int, int]) -> None:
    model = _fitted(ngram_range)
    path = tmp_path / "lexical.npz"
    model.save(path)
    loaded = LexicalModel.load(path, num_labels=4)
    assert (loaded.min_n, loaded.max_n) == ngram_range
    assert loaded.vocabulary == model.vocabulary
    np.testing.assert_allclose(loaded.logits(TEXTS), model.logits(TEXTS), atol=2e-2)
    with pytest.raises(BundleError, match="do not fit"):
        LexicalModel.load(path, num_labels=5)


def test_an_unreadable_file_is_one_line_bundle_error(tmp_path: Path) -> None:
    path = tmp_path / "lexical.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(BundleError, match=r"lexical\.npz: not a readable lexical model"):
        LexicalModel.load(path, num_labels=4)


def test_mix_weights_the_two_log_probabilities() -> None:
    student = np.asarray([[2.0, 0.0, 0.0]], dtype=np.float32)
    lexical = np.asarray([[0.0, 3.0, 0.0]], dtype=np.float32)
    assert np.argmax(mix(student, lexical, 1.0, 0.0)) == 0
    assert np.argmax(mix(student, lexical, 1.0, 1.0)) == 1
    np.testing.assert_allclose(mix(student, lexical, 1.0, 0.0), log_softmax(student), atol=1e-6)


def test_fitted_mix_weights_prefer_the_model_that_is_right() -> None:
    pytest.importorskip("scipy")
    from training.lexical import fit_mix_weights

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=300)
    good = np.eye(3, dtype=np.float32)[labels] * 4.0
    noise = rng.normal(size=(300, 3)).astype(np.float32) * 3.0
    student_weight, lexical_weight = fit_mix_weights(noise, good, labels.tolist())
    assert lexical_weight > 3 * student_weight


def test_a_two_label_fit_scores_as_scikit_learn_does() -> None:
    # A 2-label taxonomy (adapt allows 2-200): scikit-learn keeps one coefficient row for it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from training.config import LexicalConfig
    from training.lexical import fit_lexical

    texts = ["starbucks coffee", "tesco express", "coffee house", "tesco metro", "costa coffee", "tesco"]
    labels = [0, 1, 0, 1, 0, 1]
    served = fit_lexical(texts, labels, 2, LexicalConfig(min_df=1)).logits(TEXTS)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1)
    reference = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    expected = reference.predict_proba(vectorizer.transform(TEXTS))
    np.testing.assert_allclose(np.exp(log_softmax(served)), expected, atol=1e-4)


def test_pruning_drops_the_weak_n_grams_and_keeps_the_strong_ones_in_order() -> None:
    pytest.importorskip("sklearn")
    from training.config import LexicalConfig
    from training.lexical import fit_lexical

    texts = [*TEXTS[:5]] * 3 + ["starbucks coffee", "tesco express", "transfer from adebayo"]
    labels = [0, 1, 2, 3, 2] * 3 + [0, 1, 2]
    full = fit_lexical(texts, labels, 4, LexicalConfig(min_df=1))
    threshold = float(np.median(np.abs(full.coef).max(axis=1)))
    pruned = fit_lexical(texts, labels, 4, LexicalConfig(min_df=1, prune_below=threshold))
    strong = [g for g, column in full.vocabulary.items() if np.abs(full.coef[column]).max() > threshold]
    assert 0 < len(pruned.vocabulary) < len(full.vocabulary)
    assert set(pruned.vocabulary) == set(strong)
    assert sorted(pruned.vocabulary.values()) == list(range(len(strong)))
    for gram, column in pruned.vocabulary.items():
        np.testing.assert_array_equal(pruned.coef[column], full.coef[full.vocabulary[gram]])
        assert pruned.idf[column] == full.idf[full.vocabulary[gram]]
    np.testing.assert_array_equal(pruned.intercept, full.intercept)
    assert pruned.logits(TEXTS).shape == (len(TEXTS), 4)


def test_a_negative_pruning_threshold_is_refused() -> None:
    from training.config import LexicalConfig

    with pytest.raises(ValueError, match=r"prune_below -0\.1 must be at least 0"):
        LexicalConfig(prune_below=-0.1)
