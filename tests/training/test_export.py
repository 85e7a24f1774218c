"""The exported graph's softmax is written out, so no ISA-dispatched Softmax kernel decides an answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from training.export import decompose_softmax


def softmax_model(opset: int, axis: int) -> onnx.ModelProto:
    """x -> Softmax(axis) -> Mul by 2 (so the softmax output feeds another node, as in attention)."""
    graph = helper.make_graph(
        [
            helper.make_node("Softmax", ["x"], ["probs"], axis=axis, name="attention/Softmax"),
            helper.make_node("Mul", ["probs", "two"], ["y"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 5, 5])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def run(model: onnx.ModelProto, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = session.run(None, {"x": x})
    return np.asarray(y)


@pytest.mark.parametrize(("opset", "axis"), [(18, -1), (17, -1), (13, 1), (18, 2)])
def test_the_written_out_softmax_computes_the_same_function(opset: int, axis: int, tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(scale=4.0, size=(2, 3, 5, 5)).astype(np.float32)
    original = softmax_model(opset, axis)
    expected = run(original, x, tmp_path)
    rewritten = softmax_model(opset, axis)
    assert decompose_softmax(rewritten) == 1
    onnx.checker.check_model(rewritten, full_check=True)
    assert [node.op_type for node in rewritten.graph.node] == [
        "ReduceMax", "Sub", "Exp", "ReduceSum", "Div", "Mul",
    ]  # fmt: skip
    got = run(rewritten, x, tmp_path)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got.sum(axis=axis), 2.0, rtol=1e-6)


def test_a_graph_without_softmax_is_left_alone() -> None:
    model = softmax_model(18, -1)
    del model.graph.node[0]
    before = model.SerializeToString()
    assert decompose_softmax(model) == 0
    assert model.SerializeToString() == before


def test_an_old_opset_is_refused() -> None:
    with pytest.raises(ValueError, match="opset 13"):
        decompose_softmax(softmax_model(11, 1))
