"""Synthetic traffic: narrations that repeat merchants like real statements, and request bodies.

The pool is drawn once from the training data generator (Zipf over merchants: a few merchants dominate,
as on a real bank statement), and requests take the next texts from it in order. Drawing in order
rather than at random keeps the generator's own repetition: sampling a small pool with replacement
would repeat exact narrations far more often than real traffic does, and flatter the server's cache.
Once the pool is used up it starts over, so long runs need a pool to match (``--narration-pool``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "REQUEST_CLASSES",
    "NarrationPool",
    "SizeRange",
    "classify_body",
]

#: Locust request names, one per request class of the SLA (``loadtests/sla.yaml``).
REQUEST_CLASSES = ("interactive", "batch", "monohq_batch")


@dataclass(frozen=True)
class SizeRange:
    """An inclusive range of transactions per request, drawn uniformly."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if not 1 <= self.low <= self.high:
            raise ValueError(f"need 1 <= low <= high, got {self.low}..{self.high}")

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    @classmethod
    def parse(cls, text: str) -> SizeRange:
        """Parse ``"1-20"`` or ``"5000"``."""
        low, _, high = text.partition("-")
        return cls(int(low), int(high or low))


class NarrationPool:
    """A fixed list of narrations; ``draw`` hands them out in order, wrapping around at the end."""

    def __init__(self, texts: Sequence[str], seed: int = 0) -> None:
        if not texts:
            raise ValueError("a narration pool needs at least one text")
        self._texts = list(texts)
        # Users of one process share the pool; each starts where the last draw ended.
        self._cursor = random.Random(seed).randrange(len(self._texts))

    def __len__(self) -> int:
        return len(self._texts)

    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    def draw(self, count: int) -> list[str]:
        start, self._cursor = self._cursor, (self._cursor + count) % len(self._texts)
        return [self._texts[(start + offset) % len(self._texts)] for offset in range(count)]

    @classmethod
    def generate(cls, size: int, seed: int) -> NarrationPool:
        """Sample ``size`` narrations from the training data generator (Zipf over merchants)."""
        # Imported here: the generator lives in the training package, which a load-test host may lack
        # until it is asked for texts.
        from training.data import sample_narrations

        narrations = sample_narrations(size, seed=seed)
        return cls([narration.text for narration in narrations], seed=seed)


def classify_body(texts: Sequence[str], id_prefix: str = "t", top_k: int = 1) -> dict[str, Any]:
    """The ``POST /v1/classify`` body for ``texts``, ids ``<prefix>0 .. <prefix>N-1`` in order."""
    return {
        "transactions": [{"id": f"{id_prefix}{index}", "text": text} for index, text in enumerate(texts)],
        "top_k": top_k,
    }
