"""Recover a bundle's fp32 student from its int8 ONNX graph, for a bundle whose weights were not kept.

``adapt`` starts from the parent's fp32 student, which the build keeps under
``<models>/students/<name>-<version>/``. The released 1.0.0-1.2.0 bundles predate that, and a copy of
the repository carries no kept weights at all, so none of them could be adapted without a 41-minute
rebuild. Every weight is still in ``model.onnx``, though:

- the optimum export names each initializer after its PyTorch parameter
  (``bert.embeddings.word_embeddings.weight``, the biases, the LayerNorms, the pooler and the head),
  or ``<parameter>_quantized`` with its ``DequantizeLinear`` where the quantiser stored it as int8;
- each linear layer is a ``MatMul`` node named after its module
  (``/bert/encoder/layer.0/attention/self/query/MatMul``) whose weight input is either a float
  initializer (layers the quantiser left in fp32) or a ``DequantizeLinear`` of an int8 initializer;
  its weight is ``(q - zero_point) * scale``, transposed back to ``Linear``'s ``[out, in]``.

So the student comes back exactly where it was fp32 and to within half a quantisation step where it
was int8. :func:`recover_student` rebuilds it as a Hugging Face checkpoint (the base model's config
with the graph's layer count, vocabulary and head; the bundle's own tokenizer), then checks that it
answers like the bundle's int8 graph on ``check_inputs`` (model inputs) and refuses if fewer than
``min_agreement`` of the top-1 answers agree. Only BERT-family graphs of our export are understood;
anything else is refused in one line.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from service.bundle import ModelBundle
from service.errors import BundleError

__all__ = [
    "RecoveredStudent",
    "RecoveryError",
    "recover_student",
    "student_base_dir",
    "student_state_dict",
]

#: ``/bert/encoder/layer.0/attention/self/query/MatMul`` -> ``bert.encoder.layer.0.attention.self.query``
_MATMUL = re.compile(r"^/((?:bert|roberta|distilbert)/.+)/MatMul$")
_LAYER = re.compile(r"\.encoder\.layer\.(\d+)\.")
#: Initializers named after a PyTorch parameter (the export keeps the module path).
_PARAMETER = re.compile(r"^(bert|roberta|distilbert|classifier|pre_classifier)\.")


class RecoveryError(BundleError):
    """The bundle's graph cannot be turned back into a student checkpoint."""


@dataclass(frozen=True)
class RecoveredStudent:
    path: Path
    layers: int
    dequantized: int  # weight tensors that were int8 in the graph
    agreement: float  # top-1 agreement with the bundle's int8 graph on the check inputs
    checked: int


def student_state_dict(model_path: Path) -> tuple[dict[str, npt.NDArray[np.float32]], int]:
    """Every parameter of the exported student as float32 arrays under its PyTorch name, and how many
    of them were dequantised from int8."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(model_path)).graph
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    producers = {output: node for node in graph.node for output in node.output}
    dequantized = 0

    def value(name: str) -> npt.NDArray[np.float32]:
        nonlocal dequantized
        if name in initializers:
            return np.asarray(numpy_helper.to_array(initializers[name]), dtype=np.float32)
        node = producers.get(name)
        if node is None or node.op_type != "DequantizeLinear":
            raise RecoveryError(f"{model_path}: weight {name!r} is neither stored nor dequantised")
        q = numpy_helper.to_array(initializers[node.input[0]]).astype(np.float32)
        scale = numpy_helper.to_array(initializers[node.input[1]]).astype(np.float32)
        zero = (
            numpy_helper.to_array(initializers[node.input[2]]).astype(np.float32)
            if len(node.input) > 2 and node.input[2]
            else np.zeros_like(scale)
        )
        if scale.ndim == 1 and scale.size > 1:  # per-channel along ``axis``
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = scale.size
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        dequantized += 1
        return np.asarray((q - zero) * scale, dtype=np.float32)

    state: dict[str, npt.NDArray[np.float32]] = {}
    dequantizers = {node.input[0]: node for node in graph.node if node.op_type == "DequantizeLinear"}
    for name in initializers:
        if not _PARAMETER.match(name) or name.endswith(("_scale", "_zero_point")):
            continue
        if name.endswith("_quantized"):  # a named parameter stored as int8: read through its dequantizer
            if name in dequantizers:
                state[name.removesuffix("_quantized")] = value(dequantizers[name].output[0])
        else:
            state[name] = value(name)
    for node in graph.node:
        match = _MATMUL.match(node.name) if node.op_type == "MatMul" else None
        if match is None:
            continue
        module = match.group(1).replace("/", ".")
        weight_input = next((i for i in node.input if _is_weight(i, initializers, producers)), None)
        if weight_input is None:
            continue  # an activation x activation product (attention scores)
        state[f"{module}.weight"] = value(weight_input).T.copy()
    return state, dequantized


def _is_weight(name: str, initializers: dict[str, Any], producers: dict[str, Any]) -> bool:
    """A stored tensor, or the dequantisation of one (activations are dequantised too, from the output
    of a QuantizeLinear node, not from an initializer)."""
    if name in initializers:
        return True
    node = producers.get(name)
    return node is not None and node.op_type == "DequantizeLinear" and node.input[0] in initializers


def student_base_dir(bundle: ModelBundle, work_dir: Path) -> Path:
    """The base model the bundle's student was sliced from (its card's ``build_config.student.base``,
    MiniLM for a card without one), as a local directory; ``FileNotFoundError`` if it is not here."""
    from training.base_models import resolve_base

    student = (bundle.card.get("build_config") or {}).get("student") or {}
    base_dir, _ = resolve_base(str(student.get("base") or "minilm"), work_dir)
    return base_dir


def recover_student(
    bundle: ModelBundle,
    target: Path,
    base_dir: Path,
    check_inputs: Sequence[str],
    *,
    min_agreement: float = 0.98,
    threads: int = 2,
) -> RecoveredStudent:
    """Write ``bundle``'s student, recovered from its graph, as a checkpoint at ``target`` (see the
    module docstring); ``base_dir`` is the base model whose config the student was sliced from."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoConfig, AutoModelForSequenceClassification, PreTrainedTokenizerFast

    state, dequantized = student_state_dict(bundle.path / "model.onnx")
    embeddings = state.get("bert.embeddings.word_embeddings.weight")
    if embeddings is None:
        raise RecoveryError(f"{bundle.path.name}: not a BERT graph of our export (no word embeddings)")
    layers = 1 + max((int(m.group(1)) for k in state if (m := _LAYER.search(k))), default=-1)
    labels = list(bundle.labels)
    config = AutoConfig.from_pretrained(base_dir)
    config.num_hidden_layers = layers
    config.vocab_size = int(embeddings.shape[0])
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {label: i for i, label in enumerate(labels)}
    config.problem_type = "single_label_classification"
    model = AutoModelForSequenceClassification.from_config(config)  # type: ignore[no-untyped-call]
    expected = model.state_dict()
    missing = sorted(k for k in expected if k not in state and not k.endswith("position_ids"))
    unknown = sorted(k for k in state if k not in expected)
    if missing or unknown:
        raise RecoveryError(
            f"{bundle.path.name}: the graph does not match a {layers}-layer student of {base_dir.name} "
            f"(missing {missing[:3]}, unexpected {unknown[:3]})"
        )
    mismatched = [k for k in state if tuple(expected[k].shape) != state[k].shape]
    if mismatched:
        raise RecoveryError(f"{bundle.path.name}: shapes differ from the base config for {mismatched[:3]}")
    model.load_state_dict({k: torch.tensor(v) for k, v in state.items()}, strict=False)
    model.eval()

    tokenizer_object = Tokenizer.from_file(str(bundle.path / "tokenizer.json"))
    tokenizer_object.no_truncation()
    tokenizer_object.no_padding()
    base_special = json.loads((base_dir / "special_tokens_map.json").read_text(encoding="utf-8"))
    special = {
        key: (token["content"] if isinstance(token, dict) else token)
        for key, token in base_special.items()
        if key in {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}
    }
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenizer_object, **special)  # type: ignore[no-untyped-call]

    agreement = _agreement(bundle, model, tokenizer, check_inputs, threads)
    if agreement < min_agreement:
        raise RecoveryError(
            f"{bundle.path.name}: the student recovered from model.onnx agrees with the int8 graph on "
            f"only {agreement:.1%} of {len(check_inputs)} texts (at least {min_agreement:.0%} needed)"
        )
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    (staging / "recovered.json").write_text(
        json.dumps(
            {
                "from": f"{bundle.name}-{bundle.version}",
                "model_sha256": bundle.card.get("model_sha256"),
                "dequantized_tensors": dequantized,
                "top1_agreement": round(agreement, 4),
                "check_texts": len(check_inputs),
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(target)
    return RecoveredStudent(target, layers, dequantized, agreement, len(check_inputs))


def _agreement(bundle: ModelBundle, model: Any, tokenizer: Any, inputs: Sequence[str], threads: int) -> float:
    """Top-1 agreement of the recovered fp32 student with the bundle's int8 graph on ``inputs`` (model
    inputs, as ``training.dataset.prepare`` writes them)."""
    import torch

    from training.runtime import OnnxClassifier

    if not inputs:
        raise RecoveryError("no texts to check the recovered student on")
    graph = OnnxClassifier(bundle.model_path, bundle.tokenizer_path, max_len=bundle.max_seq_len,
                           pad_id=bundle.pad_token_id, threads=threads, labels=bundle.labels)  # fmt: skip
    served = np.asarray(graph.logits(list(inputs))).argmax(axis=1)
    predicted: list[int] = []
    with torch.inference_mode():
        for start in range(0, len(inputs), 64):
            encoded = tokenizer(
                list(inputs[start : start + 64]), truncation=True, max_length=bundle.max_seq_len,
                padding=True, return_tensors="pt",
            )  # fmt: skip
            predicted.extend(int(i) for i in model(**encoded).logits.argmax(dim=-1))
    return float(np.mean(served == np.asarray(predicted)))
