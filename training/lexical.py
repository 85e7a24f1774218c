"""Fit the bundle's lexical model (``service/lexical.py``) and its mixing weights.

scikit-learn fits the character-n-gram TF-IDF + logistic regression on the training split (the model
inputs, as serving builds them); the weights of the log-linear mix with the student are fitted on the
validation split by negative log-likelihood, so they also calibrate the mixed output (the student's own
temperature is left at 1 when a lexical model ships). Seconds to a minute on 2 cores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from service.lexical import LexicalModel, log_softmax
from training.config import LexicalConfig

__all__ = ["fit_lexical", "fit_mix_weights"]

#: Search box of the mixing weights: below it a model is ignored, above it overconfident.
_WEIGHT_BOUNDS = (0.0, 10.0)


def fit_lexical(
    texts: Sequence[str], labels: Sequence[int], num_labels: int, config: LexicalConfig
) -> LexicalModel:
    """The lexical model fitted on ``texts`` (model inputs) and label ids with ``config``'s n-gram range,
    ``min_df`` and ``c``, without the n-grams ``prune_below`` drops; mixing weights (1, 1) until
    :func:`fit_mix_weights` sets them."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(config.min_n, config.max_n),
        sublinear_tf=True,
        min_df=config.min_df,
    )
    features = vectorizer.fit_transform(list(texts))
    regression = LogisticRegression(C=config.c, max_iter=2000)
    regression.fit(features, list(labels))
    coef = np.zeros((features.shape[1], num_labels), dtype=np.float32)
    # Labels absent from the training rows can never win: a very low intercept.
    intercept = np.full(num_labels, -30.0, dtype=np.float32)
    classes = [int(label) for label in regression.classes_]
    if len(classes) == 2:
        # Binary: scikit-learn keeps one row, the score of class 1 over class 0 (its softmax is the same).
        coef[:, classes[1]] = regression.coef_[0]
        intercept[classes[0]] = 0.0
        intercept[classes[1]] = regression.intercept_[0]
    else:
        for row, label in enumerate(classes):
            coef[:, label] = regression.coef_[row]
            intercept[label] = regression.intercept_[row]
    idf = vectorizer.idf_.astype(np.float32)
    grams = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    if config.prune_below is not None:
        keep = np.flatnonzero(np.abs(coef).max(axis=1) > config.prune_below)
        grams, idf, coef = [grams[i] for i in keep], idf[keep], coef[keep]
    vocabulary = {str(gram): column for column, gram in enumerate(grams)}
    return LexicalModel(
        vocabulary,
        idf,
        coef,
        intercept,
        config.min_n,
        config.max_n,
        student_weight=1.0,
        lexical_weight=1.0,
    )


def fit_mix_weights(
    student_logits: npt.NDArray[np.float32], lexical_logits: npt.NDArray[np.float32], labels: Sequence[int]
) -> tuple[float, float]:
    """The weights ``(a, b)`` of ``a * log p_student + b * log p_lexical`` with the least NLL on the rows."""
    from scipy.optimize import minimize

    from training.calibration import negative_log_likelihood

    targets = np.asarray(labels, dtype=np.int64)
    # float64 here: the optimiser's finite differences vanish in float32.
    log_student = log_softmax(student_logits).astype(np.float64)
    log_lexical = log_softmax(lexical_logits).astype(np.float64)

    def nll(weights: npt.NDArray[np.float64]) -> float:
        return negative_log_likelihood(weights[0] * log_student + weights[1] * log_lexical, targets)

    if not len(targets):
        raise ValueError("cannot fit mixing weights on no rows")
    result = minimize(nll, np.asarray([1.0, 1.0]), method="L-BFGS-B", bounds=[_WEIGHT_BOUNDS] * 2)
    return float(result.x[0]), float(result.x[1])
