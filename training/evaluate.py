"""Classification metrics on held-out data: accuracy, macro-F1, per-label F1, confusion matrix,
calibration (ECE) and the abstain threshold that reaches a target precision."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from training.labels import LABELS

__all__ = [
    "abstain_threshold",
    "accuracy_by_hint",
    "accuracy_by_kind",
    "expected_calibration_error",
    "plot_confusion",
    "score",
]


def expected_calibration_error(
    labels: Sequence[int], probs: npt.NDArray[np.float32], bins: int = 15
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    y = np.asarray(labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def score(
    labels: Sequence[int], probs: npt.NDArray[np.float32], *, label_names: Sequence[str] = LABELS
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-label F1 (keyed by ``label_names``, the model's outputs in order), ECE and
    the confusion matrix (rows = truth, columns = predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    y = np.asarray(labels)
    pred = probs.argmax(axis=1)
    ids = list(range(len(label_names)))
    per_label = f1_score(y, pred, labels=ids, average=None, zero_division=0)
    present = sorted(set(y.tolist()))
    return {
        "n": len(y),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
        # Macro over the labels present in the evaluation set (a user CSV may not hold all 16).
        "macro_f1": round(float(f1_score(y, pred, labels=present, average="macro", zero_division=0)), 4),
        "per_label_f1": {label_names[i]: round(float(per_label[i]), 4) for i in ids},
        "ece": round(expected_calibration_error(labels, probs), 4),
        "confusion": confusion_matrix(y, pred, labels=ids).tolist(),
    }


def abstain_threshold(
    labels: Sequence[int], probs: npt.NDArray[np.float32], target_precision: float
) -> tuple[float, float, float]:
    """Smallest confidence threshold whose non-abstained items reach ``target_precision``.

    Returns ``(threshold, coverage, precision)`` on the data given; ``(1.0, 0.0, 1.0)`` if unreachable.
    """
    y = np.asarray(labels)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order])
    precision = hits / np.arange(1, len(y) + 1)
    ok = np.nonzero(precision >= target_precision)[0]
    if len(ok) == 0:
        return 1.0, 0.0, 1.0
    last = int(ok.max())
    threshold = float(confidence[order][last])
    return threshold, (last + 1) / len(y), float(precision[last])


def accuracy_by_kind(split: Any, probs: npt.NDArray[np.float32]) -> dict[str, dict[str, float]]:
    """Accuracy and row count per ``split.kinds`` value (empty when the split has no kinds)."""
    if not split.kinds:
        return {}
    kinds = np.asarray(split.kinds)
    correct = probs.argmax(axis=1) == np.asarray(split.labels)
    return {
        kind: {"n": int((kinds == kind).sum()), "accuracy": round(float(correct[kinds == kind].mean()), 4)}
        for kind in sorted(set(split.kinds))
    }


def accuracy_by_hint(
    split: Any, probs: npt.NDArray[np.float32], labels: Sequence[str] = LABELS
) -> dict[str, dict[str, float]]:
    """Accuracy and row count by the gazetteer hint the rows carry (``split.hints``): "right hint" (the
    row's label), "wrong hint" (another label; ``followed_hint`` is the share answered with the hint's
    label) and "no hint". Empty when the split records no hints. Where the errors of a candidate lie:
    in rows the gazetteer does not know, or in rows it knows wrongly."""
    if not split.hints:
        return {}
    predicted = probs.argmax(axis=1)
    groups: dict[str, list[tuple[bool, bool]]] = {"right hint": [], "wrong hint": [], "no hint": []}
    for hint, label, answer in zip(split.hints, split.labels, predicted, strict=True):
        state = "no hint" if not hint else "right hint" if hint == labels[label] else "wrong hint"
        groups[state].append((answer == label, bool(hint) and labels[answer] == hint))
    report: dict[str, dict[str, float]] = {}
    for state, rows in groups.items():
        if not rows:
            continue
        entry = {"n": len(rows), "accuracy": round(sum(ok for ok, _ in rows) / len(rows), 4)}
        if state == "wrong hint":
            entry["followed_hint"] = round(sum(followed for _, followed in rows) / len(rows), 4)
        report[state] = entry
    return report


def plot_confusion(
    confusion: Sequence[Sequence[int]], path: Path, title: str, labels: Sequence[str] = LABELS
) -> None:
    """Row-normalised confusion matrix as a PNG (cell counts written up to 40 labels)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(confusion, dtype=np.float64)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(labels)
    side = min(40.0, max(6.0, 0.6 * n))
    fig, ax = plt.subplots(figsize=(side * 1.2, side))
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=75, fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    for i in range(n if n <= 40 else 0):
        for j in range(n):
            if matrix[i, j]:
                colour = "white" if normalised[i, j] > 0.5 else "black"
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=6, color=colour)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
