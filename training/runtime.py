"""ONNX Runtime inference for the gate, through the serving package's own code: the bundle's tokenizer
(``service.tokenization.TextTokenizer``: truncation at ``max_seq_len``, no padding) and the serving engine
(``service.engine.OnnxEngine``: each batch right-padded to its longest row with ``pad_token_id``, zeros for
``token_type_ids`` if declared). What the gate measures is what a pod computes, not a copy of it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.engine import OnnxEngine, softmax
from service.lexical import LexicalModel
from service.scheduling import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_BATCH_TOKENS, plan_batches
from service.tokenization import TextTokenizer, TokenIds

__all__ = ["OnnxClassifier", "softmax"]


class OnnxClassifier:
    """One model file with its tokenizer; ``threads`` intra-op threads, sequential execution.

    ``spin`` keeps ORT's default busy-waiting workers, as every gate measured so far did (its throughput
    check runs the model alone); the service turns spinning off because its event loop shares the cores.
    ``logits`` mixes in the bundle's lexical model once ``with_lexical`` set one, as the service does;
    ``run_ids`` is always the ONNX model alone.
    """

    lexical: LexicalModel | None = None

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        max_len: int,
        pad_id: int,
        threads: int = 2,
        spin: bool = True,
        labels: Sequence[str] | None = None,
    ) -> None:
        # ``labels``: the outputs the model must have; None takes as many as its graph has.
        self.engine = OnnxEngine.from_file(
            model_path,
            pad_token_id=pad_id,
            num_labels=None if labels is None else len(labels),
            intra_op_threads=threads,
            spin=spin,
        )
        self.tokenizer = TextTokenizer.from_file(tokenizer_path, max_len)

    def with_lexical(self, lexical: LexicalModel | None) -> OnnxClassifier:
        """The same session and tokenizer, answering as a bundle with ``lexical`` does."""
        served = copy.copy(self)
        served.lexical = lexical
        return served

    def encode(self, texts: Sequence[str]) -> list[TokenIds]:
        return self.tokenizer.encode(texts)

    def run_ids(self, rows: Sequence[TokenIds]) -> npt.NDArray[np.float32]:
        """Logits for one batch of token-id rows, padded as the service pads it."""
        return self.engine.run(rows)

    def logits(
        self,
        texts: Sequence[str],
        *,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    ) -> npt.NDArray[np.float32]:
        """Logits in input order, in the batches ``Classifier.classify`` cuts (``plan_batches``)."""
        encoded = self.encode(texts)
        out = np.zeros((len(texts), self.engine.num_labels), dtype=np.float32)
        lengths = [len(ids) for ids in encoded]
        for batch in plan_batches(lengths, max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size):
            out[batch] = self.run_ids([encoded[i] for i in batch])
        return out if self.lexical is None else self.lexical.mix(out, texts)
