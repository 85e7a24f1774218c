"""What the served answers look like: per-label counts, a confidence histogram, and drift from reference.

``PredictionMonitor`` is a Prometheus collector: it counts a request's answers with numpy in one step
(5,000 answers cost microseconds, not 5,000 counter calls on the event loop) and renders
``txclassify_predictions_total{label}``, ``txclassify_prediction_confidence`` (a histogram) and, when the
bundle's card has a ``reference``, ``txclassify_label_drift_psi``: the population stability index of the
label mix of the last ``window_items`` answers against the reference label distribution. A card without
one exports no drift gauge (and the service logs that it has none).

The card key, written by training on the bundle's reference data (``reference_from_predictions``)::

    "reference": {"label_distribution": {"FOOD_AND_DRINK": 0.21, ...},
                  "confidence_histogram": {"edges": [0.0, 0.1, ..., 1.0], "shares": [...]},
                  "rows": 20000}
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from service.metrics import LABEL_DRIFT_PSI, PREDICTION_CONFIDENCE, PREDICTIONS_TOTAL

__all__ = [
    "CONFIDENCE_EDGES",
    "PredictionMonitor",
    "Reference",
    "SlidingCounts",
    "population_stability_index",
    "reference_from_predictions",
]

#: Upper bounds of the confidence histogram (also the reference histogram's edges, after 0.0).
CONFIDENCE_EDGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
#: Shares below this count as this in the PSI, so an empty bin gives a large but finite term.
_PSI_FLOOR = 1e-4


def population_stability_index(actual: Sequence[float], expected: Sequence[float]) -> float:
    """PSI = sum over bins of (a - e) * ln(a / e), shares floored at 1e-4. 0 = same mix; by the usual
    reading < 0.1 is stable, 0.1-0.25 a moderate shift, > 0.25 a major one."""
    if len(actual) != len(expected):
        raise ValueError(f"{len(actual)} actual shares for {len(expected)} expected")
    total = 0.0
    for a, e in zip(actual, expected, strict=True):
        a, e = max(a, _PSI_FLOOR), max(e, _PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


@dataclass(frozen=True)
class Reference:
    """The label mix (shares in the bundle's label order) of the bundle's reference data."""

    label_shares: tuple[float, ...]
    rows: int | None = None

    @classmethod
    def from_card(cls, card: Mapping[str, Any], labels: Sequence[str]) -> Reference | None:
        """The card's ``reference``, or None when it has none. Raises ``ValueError`` if malformed."""
        reference = card.get("reference")
        if reference is None:
            return None
        distribution = reference.get("label_distribution") if isinstance(reference, Mapping) else None
        if not isinstance(distribution, Mapping) or not distribution:
            raise ValueError("card 'reference' needs a non-empty 'label_distribution' {label: share}")
        unknown = sorted(set(distribution) - set(labels))
        if unknown:
            raise ValueError(f"card 'reference' names labels the bundle lacks: {', '.join(unknown)}")
        shares = [float(distribution.get(label, 0.0)) for label in labels]
        total = sum(shares)
        if total <= 0 or any(share < 0 for share in shares):
            raise ValueError("card 'reference' label shares must be >= 0 and not all 0")
        rows = reference.get("rows")
        return cls(tuple(share / total for share in shares), int(rows) if isinstance(rows, int) else None)


def reference_from_predictions(
    labels: Sequence[str], predicted: Sequence[str], confidences: Sequence[float]
) -> dict[str, Any]:
    """The card's ``reference`` for a bundle's answers on its reference data (for the training side)."""
    if not predicted:
        raise ValueError("a reference needs at least one prediction")
    index = {label: i for i, label in enumerate(labels)}
    counts = np.bincount([index[label] for label in predicted], minlength=len(labels))
    bins = np.bincount(_confidence_bins(np.asarray(confidences)), minlength=len(CONFIDENCE_EDGES))
    return {
        "label_distribution": {
            label: round(float(c) / len(predicted), 6) for label, c in zip(labels, counts, strict=True)
        },
        "confidence_histogram": {
            "edges": [0.0, *CONFIDENCE_EDGES],
            "shares": [round(float(b) / len(predicted), 6) for b in bins],
        },
        "rows": len(predicted),
    }


def _confidence_bins(confidences: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.intp]:
    """The histogram bin of each confidence (bin i holds (edge[i-1], edge[i]])."""
    bins = np.searchsorted(np.asarray(CONFIDENCE_EDGES), confidences, side="left")
    return np.minimum(bins, len(CONFIDENCE_EDGES) - 1)


class SlidingCounts:
    """Counts per bin of the last ``window`` observations (a ring buffer of bin indices)."""

    def __init__(self, bins: int, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.bins = bins
        self.window = window
        self._ring = np.full(window, -1, dtype=np.intp)
        self._head = 0
        self.counts = np.zeros(bins, dtype=np.int64)

    @property
    def size(self) -> int:
        return int(self.counts.sum())

    def add(self, indices: npt.NDArray[np.intp]) -> None:
        if len(indices) >= self.window:
            self._ring[:] = indices[-self.window :]
            self._head = 0
            self.counts = np.bincount(self._ring, minlength=self.bins).astype(np.int64)
            return
        positions = (self._head + np.arange(len(indices))) % self.window
        old = self._ring[positions]
        self.counts -= np.bincount(old[old >= 0], minlength=self.bins)
        self._ring[positions] = indices
        self.counts += np.bincount(indices, minlength=self.bins)
        self._head = int((self._head + len(indices)) % self.window)

    def shares(self) -> list[float]:
        size = self.size
        return [float(c) / size for c in self.counts] if size else [0.0] * self.bins


class PredictionMonitor(Collector):
    """Counts served answers; register it on the app's registry (``registry.register(monitor)``)."""

    def __init__(
        self, labels: Sequence[str], reference: Reference | None, *, window_items: int, min_items: int = 100
    ) -> None:
        self.labels = tuple(labels)
        self.reference = reference
        self.min_items = min_items
        self._index = {label: i for i, label in enumerate(self.labels)}
        self._lock = threading.Lock()
        self._totals = np.zeros(len(self.labels), dtype=np.int64)
        self._confidence_counts = np.zeros(len(CONFIDENCE_EDGES), dtype=np.int64)
        self._confidence_sum = 0.0
        self._window = SlidingCounts(len(self.labels), window_items)

    def observe(self, labels: Sequence[str], confidences: Sequence[float]) -> None:
        """Count one request's answers (one label and confidence per transaction)."""
        if not labels:
            return
        indices = np.fromiter((self._index[label] for label in labels), dtype=np.intp, count=len(labels))
        values = np.asarray(confidences, dtype=np.float64)
        bins = _confidence_bins(values)
        with self._lock:
            self._totals += np.bincount(indices, minlength=len(self.labels))
            self._confidence_counts += np.bincount(bins, minlength=len(CONFIDENCE_EDGES))
            self._confidence_sum += float(values.sum())
            self._window.add(indices)

    def drift(self) -> float | None:
        """The PSI of the window's label mix vs the reference; None without a reference or enough items."""
        with self._lock:
            if self.reference is None or self._window.size < self.min_items:
                return None
            shares = self._window.shares()
        return population_stability_index(shares, self.reference.label_shares)

    def collect(self) -> Iterator[Any]:
        with self._lock:
            totals = self._totals.copy()
            confidence = self._confidence_counts.copy()
            confidence_sum = self._confidence_sum
        predictions = CounterMetricFamily(
            PREDICTIONS_TOTAL.removesuffix("_total"), "Served answers by label (cache hits included).",
            labels=["label"],
        )  # fmt: skip
        for label, count in zip(self.labels, totals, strict=True):
            predictions.add_metric([label], float(count))
        yield predictions
        cumulative = np.cumsum(confidence)
        buckets = [(repr(edge), float(c)) for edge, c in zip(CONFIDENCE_EDGES, cumulative, strict=True)]
        buckets[-1] = ("+Inf", float(cumulative[-1]))  # 1.0 is the top edge: every confidence is <= 1
        yield HistogramMetricFamily(
            PREDICTION_CONFIDENCE, "Confidence of the served top label.", buckets=buckets,
            sum_value=confidence_sum,
        )  # fmt: skip
        if self.reference is not None:
            drift = self.drift()
            gauge = GaugeMetricFamily(
                LABEL_DRIFT_PSI,
                "PSI of the label mix of the last served answers vs the bundle's reference (NaN until "
                "enough answers).",
            )
            gauge.add_metric([], math.nan if drift is None else drift)
            yield gauge
