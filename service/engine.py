"""One ONNX Runtime session and the padding rule that keeps results batch-invariant.

Each batch is padded to its own longest item with the card's ``pad_token_id`` and an attention mask of
zeros over the padding, so (for an fp32 or statically quantised model) a text's logits do not depend on
which texts share its batch. The engine is synchronous and thread-safe for one caller at a time; the
classifier runs it in a dedicated worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.errors import BundleError, InferenceError
from service.tokenization import TokenIds

__all__ = ["Logits", "OnnxEngine", "softmax"]

Logits = npt.NDArray[np.float32]


class OnnxEngine:
    """Runs ``model.onnx`` on batches of token-id arrays; returns float32 logits ``[n, num_labels]``."""

    def __init__(self, session: object, pad_token_id: int, num_labels: int) -> None:
        self._session = session
        self.pad_token_id = pad_token_id
        self.num_labels = num_labels
        names = {item.name for item in session.get_inputs()}  # type: ignore[attr-defined]
        self._feeds_token_types = "token_type_ids" in names

    @property
    def session(self) -> object:
        """The ONNX Runtime session (``ModelBundle.check_session`` checks its interface at start-up)."""
        return self._session

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        pad_token_id: int,
        num_labels: int | None,
        intra_op_threads: int,
        spin: bool = False,
    ) -> OnnxEngine:
        """``num_labels=None``: as many as the graph's ``logits`` output has (read from the session)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        # Parallelism comes from the caller: each engine lane calls ``run`` from its own thread (ORT
        # sessions are safe to run concurrently), so inter-op threads would only compete for the cores.
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        if not spin:
            # ORT's workers busy-wait between runs by default; on a pod whose few cores also run the
            # event loop and tokenisation, that spinning steals exactly the CPU those need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:
            message = " ".join(str(error).split())[:300]
            raise BundleError(f"{path}: ONNX Runtime cannot load it ({message})") from error
        if num_labels is None:
            from service.bundle import output_width

            num_labels = output_width(session, path)
        return cls(session, pad_token_id, num_labels)

    def run(self, sequences: Sequence[TokenIds]) -> Logits:
        """Logits for each sequence, in order. Always returns exactly ``len(sequences)`` rows."""
        if not sequences:
            return np.zeros((0, self.num_labels), dtype=np.float32)
        longest = max(len(ids) for ids in sequences)
        input_ids = np.full((len(sequences), longest), self.pad_token_id, dtype=np.int64)
        attention_mask = np.zeros((len(sequences), longest), dtype=np.int64)
        for row, ids in enumerate(sequences):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if self._feeds_token_types:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        (logits,) = self._session.run(["logits"], feeds)  # type: ignore[attr-defined]
        result = np.asarray(logits, dtype=np.float32)
        if result.shape != (len(sequences), self.num_labels):
            raise InferenceError(
                f"model returned logits of shape {result.shape}, expected {(len(sequences), self.num_labels)}"
            )
        return result


def softmax(logits: Logits) -> Logits:
    """Row-wise softmax in float32; each row depends only on itself."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    probabilities: Logits = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
    return probabilities
