"""halve_embeddings: the Gather table is stored as float16 and the graph still returns float32 rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from training.quantize import halve_embeddings


def _embedding_model(path: Path, table: np.ndarray) -> None:
    ids = helper.make_tensor_value_info("ids", TensorProto.INT64, [None])
    out = helper.make_tensor_value_info("rows", TensorProto.FLOAT, [None, table.shape[1]])
    small = numpy_helper.from_array(np.ones((64, 2), np.float32), "small")
    nodes = [
        helper.make_node("Gather", ["table", "ids"], ["rows"], name="embed"),
        helper.make_node("Gather", ["small", "ids"], ["unused"], name="tiny"),
    ]
    initializers = [numpy_helper.from_array(table, "table"), small]
    graph = helper.make_graph(nodes, "g", [ids], [out], initializer=initializers)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_large_tables_become_float16_and_rows_come_back_float32(tmp_path: Path) -> None:
    table = np.random.default_rng(0).normal(size=(64, 32)).astype(np.float32)
    path = tmp_path / "m.onnx"
    _embedding_model(path, table)
    assert halve_embeddings(path, min_elements=1000) == ["table"]
    model = onnx.load(str(path))
    types = {t.name: t.data_type for t in model.graph.initializer}
    assert types == {"table": TensorProto.FLOAT16, "small": TensorProto.FLOAT}  # the small one is left
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = session.run(["rows"], {"ids": np.array([3, 0, 63], dtype=np.int64)})[0]
    assert rows.dtype == np.float32
    np.testing.assert_array_equal(rows, table[[3, 0, 63]].astype(np.float16).astype(np.float32))
