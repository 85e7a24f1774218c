"""Temperature scaling: the fit recovers a known temperature, the rewrite divides the model's logits
exactly, and reliability bins describe what they claim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from training.calibration import apply_temperature, fit_temperature, plot_reliability, reliability_bins


def _sample(temperature: float, n: int = 4000, classes: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(logits / temperature): that temperature is the truth."""
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(n, classes)).astype(np.float32)
    probs = np.exp(logits / temperature)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(classes, p=row) for row in probs])
    return logits, labels


@pytest.mark.parametrize("truth", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_the_temperature_labels_were_drawn_with(truth: float) -> None:
    logits, labels = _sample(truth)
    assert fit_temperature(logits, labels.tolist()) == pytest.approx(truth, rel=0.12)


def test_fit_temperature_refuses_empty_input() -> None:
    with pytest.raises(ValueError, match="no rows"):
        fit_temperature(np.zeros((0, 3), dtype=np.float32), [])


def _identity_model(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["logits"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_apply_temperature_divides_the_logits_output(tmp_path: Path) -> None:
    import onnxruntime as ort

    path = tmp_path / "model.onnx"
    _identity_model(path)
    apply_temperature(path, 4.0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.array([[4.0, -8.0, 1.0], [0.0, 2.0, 3.0]], dtype=np.float32)
    (out,) = session.run(["logits"], {"x": x})
    np.testing.assert_allclose(out, x / 4.0, rtol=1e-6)
    assert [o.name for o in session.get_outputs()] == ["logits"]


def test_apply_temperature_refuses_a_non_positive_temperature(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    _identity_model(path)
    with pytest.raises(ValueError, match="> 0"):
        apply_temperature(path, 0.0)


def test_reliability_bins_count_every_row_once_and_report_accuracy(tmp_path: Path) -> None:
    probs = np.array([[0.95, 0.05], [0.92, 0.08], [0.55, 0.45], [0.3, 0.7]], dtype=np.float32)
    labels = [0, 1, 0, 1]
    bins = reliability_bins(labels, probs)
    assert sum(b["count"] for b in bins) == 4
    top = next(b for b in bins if b["low"] == 0.9)
    assert top["count"] == 2
    assert top["accuracy"] == 0.5
    plot_reliability({"x": (labels, probs)}, tmp_path / "r.png", "t")
    assert (tmp_path / "r.png").stat().st_size > 0
