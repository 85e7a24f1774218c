"""Recording corrections: validate, attach the served answer, commit, count.

``FeedbackRecorder.record`` is what ``POST /v1/feedback`` calls. The served answer for each text is what
the classifier gives it now: its cache when the text was classified recently, else the model again
(same bundle, same text and direction: the same answer). The rows are committed through the writer
before ``record`` returns, and only rows that were new move the agreement counters, so a resent
request counts once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from service.classifier import Classifier
from service.errors import ErrorDetail, InvalidInputError
from service.feedback.agreement import agrees
from service.feedback.store import FeedbackRow
from service.feedback.writer import FeedbackWriter
from service.metrics import ServiceMetrics

__all__ = ["Correction", "FeedbackRecorder", "Recorded"]


@dataclass(frozen=True)
class Correction:
    item_id: str
    text: str
    label: str
    direction: str | None = None


@dataclass(frozen=True)
class Recorded:
    """``accepted``: corrections now stored (all of the request); ``new``: those not stored before."""

    accepted: int
    new: int


class FeedbackRecorder:
    def __init__(
        self,
        writer: FeedbackWriter,
        metrics: ServiceMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.writer = writer
        self._metrics = metrics
        self._clock = clock
        self._now = now

    async def record(
        self, classifier: Classifier, client_id: str, corrections: Sequence[Correction]
    ) -> Recorded:
        """Store ``corrections`` for ``client_id``; returns once they are committed.

        Raises ``InvalidInputError`` naming each item (``("feedback", i, "label"|"text"|"direction")``),
        ``StoreUnavailableError`` when the store is down (before any model work), ``OverloadedError``
        when the write queue or the classifier's queue is full.
        """
        labels = set(classifier.bundle.labels)
        problems = [
            ErrorDetail(("feedback", i, "label"), f"{c.label!r} is not one of the model's labels")
            for i, c in enumerate(corrections)
            if c.label not in labels
        ]
        if problems:
            raise InvalidInputError(f"{len(problems)} label(s) are not the model's labels", problems[:20])
        self.writer.check_available()  # fail fast: no model work for rows that cannot be stored now
        try:
            predictions = await classifier.aclassify(
                [c.text for c in corrections],
                directions=[c.direction for c in corrections],
                client_id=client_id,
            )
        except InvalidInputError as error:
            raise InvalidInputError(error.message, [_feedback_loc(d) for d in error.details]) from None
        bundle = classifier.bundle
        created_at = self._now()
        rows = [
            FeedbackRow(
                client_id=client_id,
                item_id=c.item_id,
                text=c.text,
                direction=c.direction,
                label=c.label,
                predicted=p.label,
                confidence=p.confidence,
                model_name=bundle.name,
                model_version=bundle.version,
                created_at=created_at,
            )
            for c, p in zip(corrections, predictions, strict=True)
        ]
        started = self._clock()
        new = await self.writer.write(rows)
        self._metrics.feedback_commit.observe(self._clock() - started)
        counts = Counter((row.label, agrees(row.label, row.predicted)) for row in new)
        for (label, agreed), count in counts.items():
            self._metrics.feedback_items.labels(label=label, agreed=str(agreed).lower()).inc(count)
        return Recorded(accepted=len(rows), new=len(new))


_FIELDS = {"texts": "text", "directions": "direction"}


def _feedback_loc(detail: ErrorDetail) -> ErrorDetail:
    if len(detail.loc) == 2 and detail.loc[0] in _FIELDS:
        return ErrorDetail(("feedback", detail.loc[1], _FIELDS[str(detail.loc[0])]), detail.message)
    return detail
