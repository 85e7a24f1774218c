"""Prometheus metrics. Names are module constants: the Helm chart's tests import them from here.

The registry belongs to one app (``create_app`` builds it), never to the module, so two apps in one
process (tests) do not share counters. ``txclassify_queue_wait_seconds`` is what the autoscaler keys on:
its mean per pod (rate of sum / rate of count) is 0 at idle and rises as soon as batches back up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "BATCH_SIZE",
    "BATCH_TOKENS",
    "CACHE_HITS_TOTAL",
    "FEEDBACK_COMMIT_SECONDS",
    "FEEDBACK_ITEMS_TOTAL",
    "INFERENCE_SECONDS",
    "INFLIGHT_ITEMS",
    "ITEMS_TOTAL",
    "LABEL_DRIFT_PSI",
    "MODEL_INFO",
    "MODEL_SECONDS_TOTAL",
    "OLDEST_QUEUED_ITEM_AGE_SECONDS",
    "PREDICTIONS_TOTAL",
    "PREDICTION_CONFIDENCE",
    "QUEUE_ITEMS",
    "QUEUE_WAIT_SECONDS",
    "REJECTED_TOTAL",
    "REQUEST_SECONDS",
    "SHADOW_DISAGREEMENTS_TOTAL",
    "SHADOW_DROPPED_ITEMS_TOTAL",
    "SHADOW_ERRORS_TOTAL",
    "SHADOW_INFO",
    "SHADOW_ITEMS_TOTAL",
    "SHADOW_SECONDS",
    "ServiceMetrics",
]

QUEUE_WAIT_SECONDS = "txclassify_queue_wait_seconds"
BATCH_SIZE = "txclassify_batch_size"
BATCH_TOKENS = "txclassify_batch_tokens"
INFERENCE_SECONDS = "txclassify_inference_seconds"
REQUEST_SECONDS = "txclassify_request_seconds"
ITEMS_TOTAL = "txclassify_items_total"
QUEUE_ITEMS = "txclassify_queue_items"
INFLIGHT_ITEMS = "txclassify_inflight_items"
OLDEST_QUEUED_ITEM_AGE_SECONDS = "txclassify_oldest_queued_item_age_seconds"
REJECTED_TOTAL = "txclassify_rejected_total"
CACHE_HITS_TOTAL = "txclassify_cache_hits_total"
MODEL_INFO = "txclassify_model_info"
MODEL_SECONDS_TOTAL = "txclassify_model_seconds"
# The production loop (service/production.py): corrections, drift, shadow scoring.
FEEDBACK_ITEMS_TOTAL = "txclassify_feedback_items_total"
FEEDBACK_COMMIT_SECONDS = "txclassify_feedback_commit_seconds"
PREDICTIONS_TOTAL = "txclassify_predictions_total"
PREDICTION_CONFIDENCE = "txclassify_prediction_confidence"
LABEL_DRIFT_PSI = "txclassify_label_drift_psi"
SHADOW_ITEMS_TOTAL = "txclassify_shadow_items_total"
SHADOW_DISAGREEMENTS_TOTAL = "txclassify_shadow_disagreements_total"
SHADOW_DROPPED_ITEMS_TOTAL = "txclassify_shadow_dropped_items_total"
SHADOW_ERRORS_TOTAL = "txclassify_shadow_errors_total"
SHADOW_SECONDS = "txclassify_shadow_seconds"
SHADOW_INFO = "txclassify_shadow_info"

# Fine steps from 1 ms to 0.5 s, where an HPA target for queue wait lives, then coarse up to the deadline.
QUEUE_WAIT_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1,
    0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5)
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 256)
BATCH_TOKEN_BUCKETS = (16, 32, 64, 128, 256, 512, 1024, 1536, 2048, 3072, 4096, 8192)


class ServiceMetrics:
    """All series of one app, in its own registry. Implements the batcher's and classifier's observer."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.queue_wait = Histogram(
            QUEUE_WAIT_SECONDS, "Time each item waited in the queue before its batch started.",
            buckets=QUEUE_WAIT_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_size = Histogram(
            BATCH_SIZE, "Items per model batch (duplicates included).", buckets=BATCH_SIZE_BUCKETS, registry=r
        )
        self.batch_tokens = Histogram(
            BATCH_TOKENS, "Padded tokens per model batch (longest x rows).",
            buckets=BATCH_TOKEN_BUCKETS, registry=r,
        )  # fmt: skip
        self.inference = Histogram(
            INFERENCE_SECONDS, "Model time per batch.", buckets=INFERENCE_BUCKETS, registry=r
        )
        self.request = Histogram(
            REQUEST_SECONDS,
            "HTTP request duration.",
            ["route", "status"],
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.items = Counter(ITEMS_TOTAL, "Transactions by outcome.", ["outcome"], registry=r)
        self.queue_items = Gauge(QUEUE_ITEMS, "Transactions waiting in the queue.", registry=r)
        self.inflight_items = Gauge(INFLIGHT_ITEMS, "Transactions inside the running batch.", registry=r)
        self.oldest_age = Gauge(
            OLDEST_QUEUED_ITEM_AGE_SECONDS, "Age of the oldest queued transaction (0 when empty).", registry=r
        )
        self.rejections = Counter(REJECTED_TOTAL, "Requests refused, by reason.", ["reason"], registry=r)
        self.cache_hits_total = Counter(CACHE_HITS_TOTAL, "Transactions answered by the cache.", registry=r)
        self.model_info = Gauge(MODEL_INFO, "The loaded model (value 1).", ["name", "version"], registry=r)
        # Per-label prediction counts, the confidence histogram and the drift gauge are exported by
        # service.monitoring.PredictionMonitor (a collector on this registry: it counts in bulk).
        self.feedback_items = Counter(
            FEEDBACK_ITEMS_TOTAL, "New corrections stored, by corrected label and whether the served "
            "label agreed with it.", ["label", "agreed"], registry=r,
        )  # fmt: skip
        self.feedback_commit = Histogram(
            FEEDBACK_COMMIT_SECONDS, "Time from queueing a feedback request to its commit.",
            buckets=INFERENCE_BUCKETS, registry=r,
        )  # fmt: skip
        self.shadow_items = Counter(
            SHADOW_ITEMS_TOTAL, "Transactions the shadow model scored, by agreement with the served label.",
            ["agreed"], registry=r,
        )  # fmt: skip
        self.shadow_disagreements = Counter(
            SHADOW_DISAGREEMENTS_TOTAL, "Transactions the shadow labelled differently, by both labels.",
            ["label", "shadow_label"], registry=r,
        )  # fmt: skip
        self.shadow_dropped = Counter(
            SHADOW_DROPPED_ITEMS_TOTAL,
            "Transactions not shadow-scored because its queue was full.",
            registry=r,
        )
        self.shadow_errors = Counter(SHADOW_ERRORS_TOTAL, "Shadow batches that failed.", registry=r)
        self.shadow_seconds = Histogram(
            SHADOW_SECONDS, "Shadow scoring time per request batch.", buckets=INFERENCE_BUCKETS, registry=r
        )
        self.shadow_info = Gauge(SHADOW_INFO, "The shadow model (value 1).", ["name", "version"], registry=r)

    def bind_queue(
        self, queued: Callable[[], float], inflight: Callable[[], float], oldest_age: Callable[[], float]
    ) -> None:
        """Read the queue gauges at scrape time from the live batcher."""
        self.queue_items.set_function(queued)
        self.inflight_items.set_function(inflight)
        self.oldest_age.set_function(oldest_age)

    def bind_model_seconds(self, read: Callable[[], Mapping[str, float]]) -> None:
        """Export ``txclassify_model_seconds_total{outcome}`` from the live batcher at scrape time."""
        self.registry.register(_ModelSecondsCollector(read))

    def set_model(self, name: str, version: str) -> None:
        self.model_info.labels(name=name, version=version).set(1)

    # -- observer protocol (batcher and classifier) -------------------------------------------------------

    def batch_started(self, *, items: int, rows: int, padded_tokens: int, waits: Sequence[float]) -> None:
        self.batch_size.observe(items)
        self.batch_tokens.observe(padded_tokens)
        for wait in waits:
            self.queue_wait.observe(wait)

    def batch_finished(self, *, seconds: float, ok: bool) -> None:
        self.inference.observe(seconds)

    def items_done(self, outcome: str, count: int) -> None:
        if count:
            self.items.labels(outcome=outcome).inc(count)

    def rejected(self, reason: str) -> None:
        self.rejections.labels(reason=reason).inc()

    def cache_hits(self, count: int) -> None:
        self.cache_hits_total.inc(count)
        self.items.labels(outcome="cached").inc(count)

    def request_finished(self, route: str, status: int, seconds: float) -> None:
        self.request.labels(route=route, status=str(status)).observe(seconds)


class _ModelSecondsCollector(Collector):
    """Model time by the outcome of the requests it served; goodput = ``ok`` / all."""

    def __init__(self, read: Callable[[], Mapping[str, float]]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            MODEL_SECONDS_TOTAL,
            "Model time by how the requests it served ended (ok, expired, cancelled, failed, discarded).",
            labels=["outcome"],
        )
        for outcome, seconds in sorted(self._read().items()):
            family.add_metric([outcome], seconds)
        yield family
