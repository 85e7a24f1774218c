"""How long a model batch takes, learned online from the batches the worker has timed.

A batch of ``padded_tokens`` (longest row x rows) is modelled as::

    seconds = per_batch_s + per_token_s * padded_tokens

``per_batch_s`` is the fixed cost of a call (ONNX Runtime's dispatch, the softmax, the thread hand-off);
``per_token_s`` is what each padded token costs. Both are fitted by least squares over the recent
batches with exponential forgetting (``half_life`` batches), so the fit follows a machine that gets
busier or quieter. The batcher uses the fit the other way round: ``tokens_within(seconds)`` is the
largest padded batch predicted to finish in ``seconds``, which is how a latency budget becomes a token
budget (docs/batching.md).

Pure arithmetic, no clock: the caller passes the seconds it measured.
"""

from __future__ import annotations

import math

__all__ = ["BatchCostModel"]


class BatchCostModel:
    """Seconds per batch and per padded token, fitted from ``observe(padded_tokens, seconds)``.

    ``fitted`` is false until ``min_batches`` batches were seen; until then ``predict`` and
    ``tokens_within`` return None and callers use their static limits.
    """

    def __init__(self, *, half_life: float = 64.0, min_batches: int = 4) -> None:
        if half_life <= 0:
            raise ValueError("half_life must be positive")
        self._decay = 0.5 ** (1.0 / half_life)
        self._min_batches = min_batches
        self.batches = 0
        # Exponentially weighted sums for the least-squares fit: weight, x, y, x*x, x*y.
        self._w = self._x = self._y = self._xx = self._xy = 0.0
        self.per_batch_s = 0.0
        self.per_token_s = 0.0

    @property
    def fitted(self) -> bool:
        return self.batches >= self._min_batches and self.per_token_s > 0

    def observe(self, padded_tokens: int, seconds: float) -> None:
        """Add one timed batch; non-positive sizes or times are ignored."""
        if padded_tokens <= 0 or seconds <= 0 or not math.isfinite(seconds):
            return
        d = self._decay
        x, y = float(padded_tokens), seconds
        self._w = d * self._w + 1.0
        self._x = d * self._x + x
        self._y = d * self._y + y
        self._xx = d * self._xx + x * x
        self._xy = d * self._xy + x * y
        self.batches += 1
        self._refit()

    def _refit(self) -> None:
        mean_x, mean_y = self._x / self._w, self._y / self._w
        var_x = self._xx / self._w - mean_x * mean_x
        cov = self._xy / self._w - mean_x * mean_y
        # Batches of (nearly) one size say nothing about the split between the two costs: charge it all
        # per token, through the origin, which over-predicts small batches (the safe side for a budget).
        if var_x <= 1e-9 * max(1.0, mean_x * mean_x) or cov <= 0:
            self.per_batch_s, self.per_token_s = 0.0, self._xy / self._xx
            return
        slope = cov / var_x
        intercept = mean_y - slope * mean_x
        if intercept < 0:  # a negative fixed cost is noise: refit through the origin
            self.per_batch_s, self.per_token_s = 0.0, self._xy / self._xx
            return
        self.per_batch_s, self.per_token_s = intercept, slope

    def predict(self, padded_tokens: int) -> float | None:
        """Predicted seconds for a batch of ``padded_tokens``; None until fitted."""
        if not self.fitted:
            return None
        return self.per_batch_s + self.per_token_s * padded_tokens

    @property
    def break_even_tokens(self) -> int:
        """Padded tokens at which a batch's token cost equals its fixed cost: smaller batches spend
        most of their time on the call itself, so a budget below this buys little latency for a lot
        of throughput. 1 while the fixed cost is unknown or zero."""
        if not self.fitted or self.per_batch_s <= 0:
            return 1
        return max(1, math.ceil(self.per_batch_s / self.per_token_s))

    def tokens_within(self, seconds: float) -> int | None:
        """The most padded tokens predicted to run within ``seconds`` (at least 1); None until fitted."""
        if not self.fitted:
            return None
        return max(1, int((seconds - self.per_batch_s) / self.per_token_s))
