"""The same int8 ONNX model for every peer server: a plain ``predict(list[str]) -> list[dict]``.

Peers (BentoML, MLServer, Ray Serve) run in their own virtual environments, which hold onnxruntime,
tokenizers and numpy but not our dependencies. What this module needs of ours is the bundle reader
(``service.bundle``) and its input builder (``ModelBundle.model_input``: ``service.normalize`` with the
bundle's own gazetteer hint), which import only those three: the peers read the bundle by the service's
rules and feed the model what the service feeds it. What it does *not* do is what the peers don't do
either: no length bucketing, no cache; each call is one padded batch.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from service.bundle import ModelBundle

__all__ = ["OnnxPredictor", "intra_op_threads"]


def intra_op_threads() -> int:
    """ONNX Runtime intra-op threads for a peer: ``PEER_INTRA_OP_THREADS``, default 2 (this machine)."""
    return int(os.environ.get("PEER_INTRA_OP_THREADS", "2"))


class OnnxPredictor:
    """One ONNX Runtime session over a model bundle; ``predict`` keeps input order and length."""

    def __init__(self, bundle_dir: Path, threads: int) -> None:
        self._bundle = ModelBundle.load(bundle_dir, open_model=False)
        self.labels: list[str] = list(self._bundle.labels)
        self._tokenizer = Tokenizer.from_file(str(self._bundle.tokenizer_path))
        self._tokenizer.enable_truncation(self._bundle.max_seq_len)
        self._tokenizer.enable_padding(pad_id=self._bundle.pad_token_id)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(self._bundle.model_path), options, providers=["CPUExecutionProvider"]
        )
        self._bundle.check_session(self._session)
        self._input_names = {node.name for node in self._session.get_inputs()}

    @classmethod
    def from_env(cls) -> OnnxPredictor:
        """The bundle at ``PEER_MODEL_DIR``, with ``intra_op_threads()`` threads."""
        return cls(Path(os.environ["PEER_MODEL_DIR"]), intra_op_threads())

    def predict(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch([self._bundle.model_input(text) for text in texts])
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
