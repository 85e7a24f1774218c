"""The same int8 ONNX model for every peer server: a plain ``predict(list[str]) -> list[dict]``.

Peers (BentoML, MLServer, Ray Serve) run in their own virtual environments, which hold onnxruntime,
tokenizers and numpy but not our service package, so this module depends on nothing else of ours. It
reads the bundle as ``service/bundle.py`` does (the contract of docs/architecture.md) and applies the
same normalisation, loaded from ``service/normalize.py`` by path so that ``service/__init__`` (and its
imports) never runs in a peer's environment. What it does *not* do is what the peers don't do either:
no length bucketing, no cache; each call is one padded batch.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

__all__ = ["OnnxPredictor", "intra_op_threads"]

_NORMALIZE_PATH = Path(__file__).resolve().parents[2] / "service" / "normalize.py"


def _load_normalize() -> Callable[[str], str]:
    spec = importlib.util.spec_from_file_location("_txc_normalize", _NORMALIZE_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {_NORMALIZE_PATH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    normalize: Callable[[str], str] = module.normalize_text
    return normalize


def intra_op_threads() -> int:
    """ONNX Runtime intra-op threads for a peer: ``PEER_INTRA_OP_THREADS``, default 2 (this machine)."""
    return int(os.environ.get("PEER_INTRA_OP_THREADS", "2"))


class OnnxPredictor:
    """One ONNX Runtime session over a model bundle; ``predict`` keeps input order and length."""

    def __init__(self, bundle_dir: Path, threads: int) -> None:
        card = json.loads((bundle_dir / "model_card.json").read_text())
        self.labels: list[str] = json.loads((bundle_dir / "labels.json").read_text())
        self._normalize = _load_normalize()
        self._tokenizer = Tokenizer.from_file(str(bundle_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(card["max_seq_len"]))
        self._tokenizer.enable_padding(pad_id=int(card.get("pad_token_id", 0)))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(bundle_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._input_names = {node.name for node in self._session.get_inputs()}

    @classmethod
    def from_env(cls) -> OnnxPredictor:
        """The bundle at ``PEER_MODEL_DIR``, with ``intra_op_threads()`` threads."""
        return cls(Path(os.environ["PEER_MODEL_DIR"]), intra_op_threads())

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch([self._normalize(text) for text in texts])
        input_ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        attention_mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        logits = self._session.run(["logits"], feeds)[0]
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        return [
            {"label": self.labels[int(index)], "confidence": float(probabilities[row, index])}
            for row, index in enumerate(best)
        ]
