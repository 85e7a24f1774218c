"""ONNX Runtime inference exactly as the service runs it: the bundle's tokenizer.json, truncation at
``max_seq_len``, right padding per batch with ``pad_token_id``, zeros for ``token_type_ids`` if declared."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

__all__ = ["OnnxClassifier", "softmax"]


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    out: npt.NDArray[np.float32] = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
    return out


class OnnxClassifier:
    """A plain ORT session over one model file; ``threads`` intra-op threads, sequential execution."""

    def __init__(
        self, model_path: Path, tokenizer_path: Path, *, max_len: int, pad_id: int, threads: int = 2
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_len)
        self.pad_id = pad_id

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [list(e.ids) for e in self.tokenizer.encode_batch(list(texts))]

    def run_ids(self, rows: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        """Logits for one padded batch built from token-id rows."""
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        logits: npt.NDArray[np.float32] = self.session.run(["logits"], feeds)[0]
        return logits

    def logits(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Logits in input order; batches are length-bucketed (as the service's batcher does)."""
        encoded = self.encode(texts)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            result = self.run_ids([encoded[i] for i in batch])
            if out.shape[1] == 0:
                out = np.zeros((len(texts), result.shape[1]), dtype=np.float32)
            out[batch] = result
        return out
