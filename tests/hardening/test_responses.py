"""The classify response built off the loop (``service/api/responses.py``) is byte for byte what
``json.dumps`` of the documented shape gives, ties and odd ids included."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.api.responses import render_classify_json
from service.classifier import Prediction

LABELS = tuple(f"LABEL_{i}" for i in range(16))


def _prediction(probabilities: np.ndarray, threshold: float = 0.5) -> Prediction:
    best = int(np.argmax(probabilities))
    return Prediction(
        label=LABELS[best],
        confidence=float(probabilities[best]),
        abstained=float(probabilities[best]) < threshold,
        probabilities=probabilities.astype(np.float32),
        labels=LABELS,
    )


def _reference(ids: list[str], predictions: list[Prediction], top_k: int) -> bytes:
    payload = {
        "model": {"name": "txclassify", "version": "1.2.0"},
        "results": [
            {
                "id": i,
                "label": p.label,
                "confidence": p.confidence,
                "abstained": p.abstained,
                "top_k": [{"label": s.label, "confidence": s.confidence} for s in p.top(top_k)],
            }
            for i, p in zip(ids, predictions, strict=True)
        ],
    }
    return json.dumps(payload, ensure_ascii=False).encode()


@pytest.mark.parametrize("top_k", [1, 3, 16])
def test_the_rendered_body_equals_json_dumps_of_the_shape(top_k: int) -> None:
    rng = np.random.default_rng(5)
    raw = rng.random((300, 16)).astype(np.float32)
    raw[:20] = 1.0 / 16  # all tied: label order decides
    raw[20:40, :2] = 0.4  # a tie at the top
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    predictions = [_prediction(row) for row in probabilities]
    ids = [f'id-{i} "quoted" \\ ü 💳' if i % 7 == 0 else str(i) for i in range(300)]
    body = render_classify_json("txclassify", "1.2.0", ids, predictions, top_k)
    assert body == _reference(ids, predictions, top_k)


def test_an_empty_result_list_is_valid_json() -> None:
    assert json.loads(render_classify_json("m", "1", [], [], 3)) == {
        "model": {"name": "m", "version": "1"},
        "results": [],
    }
