"""The production loop of one process: corrections in, answers watched, a candidate in the shadow.

``ProductionLoop.start(settings, classifier, metrics)`` builds whatever the settings ask for: the
feedback store and its writer (``TXC_FEEDBACK_DSN``), the prediction monitor with its drift gauge (always;
drift only when the card has a ``reference``) and the shadow scorer (``TXC_SHADOW_MODEL_DIR``).
``served(...)`` is called once per classify request with its final answers; ``stop`` ends it all. It
knows nothing of HTTP: the routes call it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from service.classifier import Classifier, Prediction
from service.errors import BundleError, UnavailableError
from service.feedback.recorder import Correction, FeedbackRecorder, Recorded
from service.feedback.store import open_store
from service.feedback.writer import FeedbackWriter
from service.metrics import ServiceMetrics
from service.monitoring import PredictionMonitor, Reference
from service.settings import Settings
from service.shadow import ShadowScorer

__all__ = ["ProductionLoop"]

logger = logging.getLogger("txclassify.production")


@dataclass
class ProductionLoop:
    monitor: PredictionMonitor
    recorder: FeedbackRecorder | None = None
    shadow: ShadowScorer | None = None

    @classmethod
    async def start(
        cls, settings: Settings, classifier: Classifier, metrics: ServiceMetrics
    ) -> ProductionLoop:
        """Build and start the parts ``settings`` configure.

        Raises ``ConfigurationError`` for an unusable DSN and ``BundleError`` for a shadow bundle that
        cannot serve (start-up fails loudly; a store that is merely down does not stop it).
        """
        bundle = classifier.bundle
        try:
            reference = Reference.from_card(bundle.card, bundle.labels)
        except ValueError as error:
            raise BundleError(f"{bundle.path / 'model_card.json'}: {error}") from None
        if reference is None:
            logger.warning(
                "the model card has no 'reference': no label drift gauge is exported",
                extra={"model": bundle.name, "version": bundle.version},
            )
        monitor = PredictionMonitor(bundle.labels, reference, window_items=settings.drift_window_items)
        metrics.registry.register(monitor)
        loop = cls(monitor)
        if settings.feedback_dsn:
            writer = FeedbackWriter(
                open_store(settings.feedback_dsn), max_queue_rows=settings.feedback_max_queue_rows
            )
            await writer.start()
            loop.recorder = FeedbackRecorder(writer, metrics)
            logger.info("feedback store configured", extra={"store": writer.store.dsn_display})
        if settings.shadow_model_dir is not None:
            batcher = classifier.batcher
            backlog = (lambda: batcher.queued_items) if batcher is not None else (lambda: 0)
            loop.shadow = await _start_shadow(settings, metrics, backlog)
        return loop

    def served(
        self, texts: Sequence[str], directions: Sequence[str | None], predictions: Sequence[Prediction]
    ) -> None:
        """One classify request's final answers: count them, and offer them to the shadow. Never blocks."""
        self.monitor.observe([p.label for p in predictions], [p.confidence for p in predictions])
        if self.shadow is not None:
            self.shadow.offer(texts, directions, predictions)

    async def record_feedback(
        self, classifier: Classifier, client_id: str, corrections: Sequence[Correction]
    ) -> Recorded:
        """Store corrections (see ``FeedbackRecorder.record``); ``UnavailableError`` when feedback is off."""
        if self.recorder is None:
            raise UnavailableError("feedback is not configured on this server (TXC_FEEDBACK_DSN)")
        return await self.recorder.record(classifier, client_id, corrections)

    async def stop(self) -> None:
        if self.shadow is not None:
            await self.shadow.stop()
        if self.recorder is not None:
            await self.recorder.writer.stop()


async def _start_shadow(
    settings: Settings, metrics: ServiceMetrics, primary_backlog: Callable[[], int]
) -> ShadowScorer:
    # One ONNX thread in one lane: the shadow must leave the cores to the model whose answers are served.
    shadow_settings = settings.model_copy(update={"intra_op_threads": 1, "engine_lanes": 1})
    model = await asyncio.to_thread(Classifier.load, settings.shadow_model_dir, shadow_settings)
    await asyncio.to_thread(model.warm_up)
    scorer = ShadowScorer(
        model, metrics, max_queue_items=settings.shadow_max_queue_items, primary_backlog=primary_backlog
    )
    await scorer.start()
    metrics.shadow_info.labels(name=model.bundle.name, version=model.bundle.version).set(1)
    logger.info(
        "shadow model loaded",
        extra={"model": model.bundle.name, "version": model.bundle.version, "path": str(model.bundle.path)},
    )
    return scorer
