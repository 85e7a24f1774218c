from __future__ import annotations

import numpy as np

from training.dataset import Split
from training.evaluate import abstain_threshold, accuracy_by_hint, expected_calibration_error, score
from training.labels import LABELS


def _one_hot_probs(predicted: list[int], confidence: list[float]) -> np.ndarray:
    probs = np.full((len(predicted), len(LABELS)), 0.0, dtype=np.float32)
    for row, (label, conf) in enumerate(zip(predicted, confidence, strict=True)):
        probs[row] = (1 - conf) / (len(LABELS) - 1)
        probs[row, label] = conf
    return probs


def test_abstain_threshold_reaches_target_precision() -> None:
    truth = [0, 0, 0, 0, 1]
    probs = _one_hot_probs([0, 0, 0, 0, 0], [0.99, 0.98, 0.97, 0.96, 0.5])
    threshold, coverage, precision = abstain_threshold(truth, probs, 0.97)
    assert threshold == np.float32(0.96)
    assert coverage == 0.8
    assert precision == 1.0


def test_abstain_threshold_unreachable_abstains_on_everything() -> None:
    probs = _one_hot_probs([1, 1], [0.9, 0.8])
    assert abstain_threshold([0, 0], probs, 0.97) == (1.0, 0.0, 1.0)


def test_score_reports_perfect_predictions() -> None:
    truth = list(range(len(LABELS)))
    result = score(truth, _one_hot_probs(truth, [1.0] * len(LABELS)))
    assert result["accuracy"] == 1.0
    assert result["macro_f1"] == 1.0
    assert result["ece"] == 0.0
    assert np.trace(np.asarray(result["confusion"])) == len(LABELS)


def test_overconfident_wrong_predictions_have_high_ece() -> None:
    probs = _one_hot_probs([1] * 10, [0.99] * 10)
    assert expected_calibration_error([0] * 10, probs) > 0.9


def test_accuracy_by_hint_separates_right_wrong_and_missing_hints() -> None:
    food, shops, travel = (LABELS.index(name) for name in ("FOOD_AND_DRINK", "GENERAL_MERCHANDISE", "TRAVEL"))
    split = Split(
        ("a", "b", "c", "d", "e"),
        (food, food, food, shops, travel),
        hints=("FOOD_AND_DRINK", "FOOD_AND_DRINK", "TRAVEL", "TRAVEL", ""),
    )
    answers = [food, shops, travel, shops, food]  # right, wrong, followed the wrong hint, overrode it, wrong
    probs = np.eye(len(LABELS), dtype=np.float32)[answers]
    assert accuracy_by_hint(split, probs) == {
        "right hint": {"n": 2, "accuracy": 0.5},
        "wrong hint": {"n": 2, "accuracy": 0.5, "followed_hint": 0.5},
        "no hint": {"n": 1, "accuracy": 0.0},
    }


def test_accuracy_by_hint_is_empty_without_recorded_hints() -> None:
    assert accuracy_by_hint(Split(("a",), (0,)), np.eye(len(LABELS), dtype=np.float32)[[0]]) == {}
