"""Agreement between an answer and a correction: the one rule online counters and offline eval share.

A correction *agrees* when the label the model gave (the top label, abstained or not) equals the label
the client says is right. ``Agreement`` tallies it per corrected label; the service's Prometheus
counter ``txclassify_feedback_items_total{label, agreed}`` counts the same pairs, so the online rate
(``sum(agreed="true") / sum``) and ``txclassify-train eval`` on the exported rows give the same number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Agreement", "agrees"]


def agrees(label: str, predicted: str) -> bool:
    return label == predicted


@dataclass
class Agreement:
    """Per corrected label: how many corrections, and how many of them the prediction agreed with."""

    totals: dict[str, int] = field(default_factory=dict)
    agreed: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Agreement:
        """The tally of ``(label, predicted)`` pairs."""
        tally = cls()
        for label, predicted in pairs:
            tally.add(label, predicted)
        return tally

    def add(self, label: str, predicted: str) -> None:
        self.totals[label] = self.totals.get(label, 0) + 1
        if agrees(label, predicted):
            self.agreed[label] = self.agreed.get(label, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def rate(self) -> float:
        """Agreed / total over every label (0.0 when empty)."""
        total = self.total
        return sum(self.agreed.values()) / total if total else 0.0

    def by_label(self) -> dict[str, float]:
        """Agreed / total per corrected label, labels in name order."""
        return {label: self.agreed.get(label, 0) / self.totals[label] for label in sorted(self.totals)}
