"""Static int8 quantisation (QDQ) with in-domain calibration.

Why static: dynamic quantisation computes activation scales over the whole batch tensor at run time, so a
narration's logits depend on its batch neighbours and padding. Static ranges are fixed at build time, so
the int8 model is exactly batch-invariant (the gate proves it).

Why onnxruntime's ``quantize_static`` and not optimum's ``ORTQuantizer``: ORTQuantizer's static path wraps
the same calibrators but needs a ``datasets.Dataset`` (an extra dependency we do not otherwise need) and
does not expose the percentile value or ``extra_options``; we call onnxruntime directly with a calibration
reader that feeds one unpadded narration at a time, so padding never enters the activation histograms.

Why ``reduce_range`` (7-bit weights) with U8 activations / S8 weights: on x86-64 CPUs with AVX2 but
without VNNI, ORT's u8 x s8 kernels use ``vpmaddubsw``, whose pairwise 16-bit sums can saturate
(255*127*2 > 32767); with 7-bit weights the sum fits (255*63*2 < 32767). onnxruntime's quantisation docs
recommend exactly this for AVX2/AVX-512 machines without VNNI. The classifier head stays fp32 (16 outputs:
negligible cost, and it is where rounding would move the final probabilities most).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from training.config import QuantConfig

__all__ = ["STRIDE", "halve_embeddings", "quantize_int8"]

#: Calibration feeds per ``collect_data`` call (all padded to one width).
STRIDE = 16


class _Reader:
    """onnxruntime CalibrationDataReader over narrations sorted by length, in strides of ``STRIDE``.

    onnxruntime's histogram collector stacks every output of one ``collect_data`` call, so all feeds of
    a call must share a shape; with ``CalibStridedMinMax`` it calls ``collect_data`` once per stride and
    merges the histograms. Each stride is padded to its own longest row (rows are sorted, so padding is
    minimal; padded positions are also what the model sees inside served batches).
    """

    def __init__(self, rows: Sequence[Sequence[int]], input_names: set[str], pad_id: int) -> None:
        ordered = sorted(rows, key=len)
        ordered = ordered[: len(ordered) - len(ordered) % STRIDE]
        self._feeds: list[dict[str, Any]] = []
        for start in range(0, len(ordered), STRIDE):
            chunk = ordered[start : start + STRIDE]
            width = max(len(r) for r in chunk)
            for row in chunk:
                ids = np.full((1, width), pad_id, dtype=np.int64)
                ids[0, : len(row)] = row
                mask = np.zeros_like(ids)
                mask[0, : len(row)] = 1
                feed = {"input_ids": ids, "attention_mask": mask}
                if "token_type_ids" in input_names:
                    feed["token_type_ids"] = np.zeros_like(ids)
                self._feeds.append(feed)
        self._start, self._end, self._next = 0, len(self._feeds), 0

    def __len__(self) -> int:
        return len(self._feeds)

    def set_range(self, start_index: int, end_index: int) -> None:
        self._start, self._end, self._next = start_index, end_index, start_index

    def get_next(self) -> dict[str, Any] | None:
        if self._next >= min(self._end, len(self._feeds)):
            return None
        self._next += 1
        return self._feeds[self._next - 1]

    def rewind(self) -> None:
        self._next = self._start


def _head_nodes(model_path: Path) -> list[str]:
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [n.name for n in graph.node if "classifier" in n.name or n.name.startswith("/pooler")]


def halve_embeddings(model_path: Path, min_elements: int = 1 << 20) -> list[str]:
    """Store large Gather tables (the word embeddings) as float16 and cast each gathered row back to
    float32; returns the tables converted. Halves the biggest tensor of a full-vocabulary student. The
    rounding is per element and fixed at build time, so the model stays exactly batch-invariant; the gate's
    int8/fp32 agreement (against the float32 student) covers the precision it costs."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(model_path))
    graph = model.graph
    tables = {t.name: t for t in graph.initializer}
    converted: list[str] = []
    nodes = []
    for node in graph.node:
        table = tables.get(node.input[0]) if node.op_type == "Gather" else None
        if table is None or table.data_type != TensorProto.FLOAT or np.prod(table.dims) < min_elements:
            nodes.append(node)
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16), table.name)
        table.CopyFrom(half)
        gathered = node.output[0]
        node.output[0] = f"{gathered}_fp16"
        cast = helper.make_node(
            "Cast", [node.output[0]], [gathered], name=f"{node.name}_to_fp32", to=TensorProto.FLOAT
        )
        nodes += [node, cast]
        converted.append(table.name)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(model_path))
    return converted


def quantize_int8(
    fp32_path: Path,
    int8_path: Path,
    calibration_rows: Sequence[Sequence[int]],
    config: QuantConfig,
    *,
    pad_id: int,
) -> dict[str, Any]:
    """Write the static QDQ int8 model; returns a description for the model card."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = int8_path.with_suffix(".pre.onnx")
    quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
    excluded = _head_nodes(prepared)
    exclude_types = set(config.exclude_op_types)
    graph = onnx.load(str(prepared), load_external_data=False).graph
    excluded += [n.name for n in graph.node if n.op_type in exclude_types]
    excluded += [n.name for n in graph.node if n.name.endswith(tuple(config.exclude_node_suffixes))]
    input_names = {i.name for i in graph.input}
    method = {"percentile": CalibrationMethod.Percentile, "entropy": CalibrationMethod.Entropy,
              "minmax": CalibrationMethod.MinMax}[config.method]  # fmt: skip
    extra: dict[str, Any] = {"CalibStridedMinMax": STRIDE}
    if config.method == "percentile":
        extra["CalibPercentile"] = config.percentile
    if config.activation_symmetric:
        extra["ActivationSymmetric"] = True
    if config.keep_removable_activations:
        extra["QDQKeepRemovableActivations"] = True
    reader = _Reader(calibration_rows, input_names, pad_id)
    quantize_static(
        str(prepared), str(int8_path), reader, quant_format=QuantFormat.QDQ,
        per_channel=config.per_channel, reduce_range=config.reduce_range, activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8, nodes_to_exclude=excluded, op_types_to_quantize=list(config.op_types),
        calibrate_method=method, extra_options=extra,
    )  # fmt: skip
    prepared.unlink()
    halved = halve_embeddings(int8_path) if config.fp16_embeddings else []
    return {
        "method": "onnxruntime quantize_static, QDQ",
        "activations": "uint8, "
        + ("symmetric" if config.activation_symmetric else "asymmetric")
        + ", static ranges",
        "weights": "int8"
        + (" per-channel" if config.per_channel else "")
        + (", reduce_range (7-bit)" if config.reduce_range else ""),
        "calibration": f"{config.method}"
        + (f" {config.percentile}" if config.method == "percentile" else "")
        + f" on {len(reader)} in-domain validation narrations, length-sorted strides of {STRIDE}",
        "quantized_op_types": list(config.op_types),
        "fp32_nodes": excluded,
        "fp16_tables": halved,
    }
