"""What the app holds between requests: settings, metrics, the classifier and its lifecycle phase."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from service.classifier import Classifier
from service.errors import UnavailableError
from service.metrics import ServiceMetrics
from service.production import ProductionLoop
from service.settings import Settings

__all__ = ["AppState", "Phase"]


class Phase(enum.Enum):
    STARTING = "starting"  # loading the bundle and warming up: not ready
    READY = "ready"
    DRAINING = "draining"  # SIGTERM or shutdown: finish admitted work, refuse new work
    FAILED = "failed"  # start-up failed or the batch loop died


@dataclass
class AppState:
    settings: Settings
    metrics: ServiceMetrics
    classifier: Classifier | None = None
    #: Feedback, prediction monitoring and the shadow (built in the lifespan with the classifier).
    production: ProductionLoop | None = None
    phase: Phase = Phase.STARTING
    #: Classify requests past admission and not yet answered (the drain waits for 0).
    active_requests: int = 0

    def ready_classifier(self) -> Classifier:
        """The classifier, if the app may take new work now; else ``UnavailableError`` (503)."""
        if self.phase is Phase.DRAINING:
            raise UnavailableError("the server is draining; retry on another replica")
        if self.phase is not Phase.READY or self.classifier is None:
            raise UnavailableError(f"not ready ({self.phase.value})")
        batcher = self.classifier.batcher
        if batcher is None or not batcher.healthy:
            raise UnavailableError("the batch loop is not running")
        return self.classifier

    @property
    def alive(self) -> bool:
        """False once something is broken beyond recovery in this process (liveness should restart it)."""
        if self.phase is Phase.FAILED:
            return False
        if self.phase is Phase.READY and self.classifier is not None:
            batcher = self.classifier.batcher
            return batcher is not None and batcher.healthy
        return True
