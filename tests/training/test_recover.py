"""Recovering a bundle's fp32 student from its int8 graph: the weights of a hand-made graph exactly, and
(slow) the tiny build's student against the weights the build kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.bundle import ModelBundle
from training.recover import RecoveryError, recover_student, student_state_dict


def _graph(path: Path, query: np.ndarray, scale: np.ndarray, zero: np.ndarray, dense: np.ndarray) -> Path:
    """Two linear layers as our export writes them: the query projection through a per-channel
    DequantizeLinear of int8 weights, the dense one left in fp32, and an activation x activation MatMul
    (attention scores) that holds no weight."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("DequantizeLinear", ["q_w", "q_scale", "q_zero"], ["q_w_dq"], axis=1),
        # A named parameter stored as int8 (per tensor), read through its dequantizer.
        helper.make_node(
            "DequantizeLinear",
            [
                "bert.pooler.dense.weight_quantized",
                "bert.pooler.dense.weight_scale",
                "bert.pooler.dense.weight_zero_point",
            ],
            ["bert.pooler.dense.weight_DequantizeLinear_Output"],
        ),
        helper.make_node(
            "MatMul", ["x", "q_w_dq"], ["q"], name="/bert/encoder/layer.0/attention/self/query/MatMul"
        ),
        helper.make_node(
            "MatMul", ["q", "q_t"], ["scores"], name="/bert/encoder/layer.0/attention/self/MatMul"
        ),
        helper.make_node(
            "MatMul", ["scores", "d_w"], ["y"], name="/bert/encoder/layer.0/output/dense/MatMul"
        ),
    ]
    initializers = [
        numpy_helper.from_array(query, "q_w"),
        numpy_helper.from_array(scale, "q_scale"),
        numpy_helper.from_array(zero, "q_zero"),
        numpy_helper.from_array(dense, "d_w"),
        numpy_helper.from_array(
            np.array([[2, -4], [6, 127]], dtype=np.int8), "bert.pooler.dense.weight_quantized"
        ),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "bert.pooler.dense.weight_scale"),
        numpy_helper.from_array(np.array(2, dtype=np.int8), "bert.pooler.dense.weight_zero_point"),
        numpy_helper.from_array(np.zeros(3, dtype=np.float32), "bert.encoder.layer.0.output.dense.bias"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4]),
            helper.make_tensor_value_info("q_t", TensorProto.FLOAT, [3, 4]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        initializers,
    )
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_weights_come_back_dequantised_and_transposed_to_linear_layout(tmp_path: Path) -> None:
    query = np.array([[1, -2, 3], [4, 5, -6], [-7, 8, 9], [10, -11, 12]], dtype=np.int8)  # [in, out]
    scale = np.array([0.5, 0.25, 0.125], dtype=np.float32)  # one per output channel (axis 1)
    zero = np.array([1, 0, -1], dtype=np.int8)
    dense = np.arange(12, dtype=np.float32).reshape(4, 3)
    state, dequantized = student_state_dict(_graph(tmp_path / "m.onnx", query, scale, zero, dense))
    assert dequantized == 2
    assert set(state) == {
        "bert.pooler.dense.weight",
        "bert.encoder.layer.0.attention.self.query.weight",
        "bert.encoder.layer.0.output.dense.weight",
        "bert.encoder.layer.0.output.dense.bias",
    }
    expected = ((query.astype(np.float32) - zero.astype(np.float32)) * scale).T
    np.testing.assert_array_equal(state["bert.encoder.layer.0.attention.self.query.weight"], expected)
    np.testing.assert_array_equal(state["bert.encoder.layer.0.output.dense.weight"], dense.T)
    assert state["bert.encoder.layer.0.attention.self.query.weight"].dtype == np.float32
    np.testing.assert_array_equal(state["bert.pooler.dense.weight"], [[0.0, -3.0], [2.0, 62.5]])


def _steps(model_path: Path) -> dict[str, float]:
    """The largest quantisation step of each parameter the graph stores as int8, by parameter name."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model_path)).graph
    stored = {tensor.name: tensor for tensor in graph.initializer}
    step_of = {
        node.output[0]: float(np.max(numpy_helper.to_array(stored[node.input[1]])))
        for node in graph.node
        if node.op_type == "DequantizeLinear" and node.input[0] in stored
    }
    steps = {}
    for node in graph.node:
        if node.op_type == "DequantizeLinear" and node.input[0].endswith("_quantized"):
            steps[node.input[0].removesuffix("_quantized")] = step_of[node.output[0]]
        if node.op_type == "MatMul" and node.name.endswith("/MatMul"):
            for name in node.input:
                if name in step_of:
                    steps[node.name.strip("/").removesuffix("/MatMul").replace("/", ".") + ".weight"] = (
                        step_of[name]
                    )
    return steps


@pytest.mark.slow
def test_the_tiny_student_comes_back_within_half_a_quantisation_step(tiny_parent: Path) -> None:
    from safetensors.numpy import load_file

    kept = load_file(str(tiny_parent.parent / "students" / tiny_parent.name / "model.safetensors"))
    kept = {
        name: value.astype(np.float32) for name, value in kept.items() if not name.endswith("position_ids")
    }
    state, dequantized = student_state_dict(tiny_parent / "model.onnx")
    steps = _steps(tiny_parent / "model.onnx")
    assert dequantized == len(set(steps) & set(state)) > 0
    assert set(state) == set(kept)
    for name, value in kept.items():
        assert state[name].shape == value.shape, name
        # Half a step where the graph stores int8, plus the kept copy's float16 rounding (~5e-4 relative).
        bound = steps.get(name, 0.0) / 2 * 1.001 + 1e-3 * float(np.abs(value).max()) + 1e-6
        assert float(np.abs(state[name] - value).max()) <= bound, name


@pytest.mark.slow
def test_a_recovered_student_answers_like_the_graph(tiny_parent: Path, tmp_path: Path) -> None:
    import json

    from training.base_models import minilm_dir
    from training.data import sample_narrations
    from training.dataset import LabelledRow, prepare

    bundle = ModelBundle.load(tiny_parent)
    rows = [LabelledRow(n.text, n.label, n.direction) for n in sample_narrations(200, seed=5, split="test")]
    inputs = prepare(rows, bundle.gazetteer, seed=0, labels=bundle.labels).texts
    recovered = recover_student(bundle, tmp_path / "student", minilm_dir(), inputs, min_agreement=0.98)
    assert recovered.agreement >= 0.98
    assert recovered.checked == 200
    config = json.loads((recovered.path / "config.json").read_text())
    assert config["num_hidden_layers"] == len(bundle.card["student"]["layers"])
    assert [config["id2label"][str(i)] for i in range(len(bundle.labels))] == list(bundle.labels)
    record = json.loads((recovered.path / "recovered.json").read_text())
    assert record["model_sha256"] == bundle.card["model_sha256"]
    # Asking for more agreement than any student can have is refused, and nothing is written.
    with pytest.raises(RecoveryError, match="agrees with the int8 graph on only"):
        recover_student(bundle, tmp_path / "never", minilm_dir(), inputs, min_agreement=1.01)
    assert not (tmp_path / "never").exists()
