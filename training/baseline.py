"""A classical reference on the same splits: TF-IDF character n-grams + logistic regression.

A transformer that cannot beat it on held-out merchants is not worth its CPU: the gate compares the int8
student with it (``min_gain_over_baseline``). scikit-learn, not hand-written code; seconds on 2 cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from training.dataset import Split
from training.evaluate import score
from training.labels import LABELS

__all__ = ["BASELINE_NAME", "baseline_probabilities", "score_baseline"]

BASELINE_NAME = "TF-IDF char_wb 2-4-grams (sublinear) + logistic regression (C=10)"


def baseline_probabilities(
    train: Split, texts: Sequence[str], labels: Sequence[str] = LABELS
) -> npt.NDArray[np.float32]:
    """Fit on ``train`` (already normalised, as serving normalises) and return class probabilities for
    ``texts`` over all ``labels`` (labels absent from ``train`` get probability 0)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
        LogisticRegression(C=10.0, max_iter=2000),
    )
    model.fit(list(train.texts), list(train.labels))
    probs = np.zeros((len(texts), len(labels)), dtype=np.float32)
    probs[:, model.classes_] = model.predict_proba(list(texts))
    return probs


def score_baseline(train: Split, test: Split, labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """The baseline's test scores (as :func:`training.evaluate.score`, without the confusion matrix)."""
    scores = score(test.labels, baseline_probabilities(train, test.texts, labels), label_names=labels)
    return {"name": BASELINE_NAME, **{k: v for k, v in scores.items() if k != "confusion"}}
