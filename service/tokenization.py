"""Turn normalised narrations into token ids, truncated at the bundle's ``max_seq_len``.

Padding is deliberately off here: each batch is padded by the engine to its own longest item, so a
text's ids never depend on its neighbours, and the batcher can count each item's true length.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from service.errors import BundleError

__all__ = ["TOKENIZE_SLICE", "TextTokenizer", "TokenIds"]

TokenIds = npt.NDArray[np.int64]
#: Texts tokenised per call. A Rust ``Encoding`` keeps tokens, offsets and the truncated overflow of
#: its text: 5,000 texts of 512 characters held ~165 MiB at once; slices of 256 hold ~8 MiB.
TOKENIZE_SLICE = 256


class TextTokenizer:
    """A Hugging Face fast tokenizer with truncation at ``max_seq_len`` and no padding."""

    def __init__(self, tokenizer: object, max_seq_len: int) -> None:
        self._tokenizer = tokenizer
        self.max_seq_len = max_seq_len

    @classmethod
    def from_file(cls, path: Path, max_seq_len: int) -> TextTokenizer:
        """Load ``tokenizer.json``; raises ``BundleError`` naming the file if it cannot be used."""
        from tokenizers import Tokenizer

        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as error:  # the Rust side raises plain Exception subclasses
            message = " ".join(str(error).split())[:300]
            raise BundleError(f"{path}: not a usable tokenizer ({message})") from error
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_seq_len)
        return cls(tokenizer, max_seq_len)

    @property
    def max_token_id(self) -> int:
        """The largest id this tokenizer can produce (added tokens included)."""
        vocabulary: dict[str, int] = self._tokenizer.get_vocab(with_added_tokens=True)  # type: ignore[attr-defined]
        return max(vocabulary.values())

    def encode(self, texts: Sequence[str]) -> list[TokenIds]:
        """Token ids for each text (special tokens included), each at most ``max_seq_len`` long.

        Always returns one array per text, in order. Runs in Rust and releases the GIL, so callers on
        an event loop should call it from a worker thread.
        """
        ids: list[TokenIds] = []
        for start in range(0, len(texts), TOKENIZE_SLICE):
            encodings = self._tokenizer.encode_batch(list(texts[start : start + TOKENIZE_SLICE]))  # type: ignore[attr-defined]
            ids.extend(np.asarray(encoding.ids, dtype=np.int64) for encoding in encodings)
        return ids
