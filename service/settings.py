"""The service's one settings object: every field is an env var with the ``TXC_`` prefix.

Each field's description says what it trades off; ``README.md`` shows them as a table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["Settings", "available_cores"]


def available_cores() -> int:
    """CPUs this process may run on (the cgroup/affinity view, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Serving settings. Build once at the edge (``Settings()`` reads the environment) and pass it down;
    library code that is given none uses ``Settings.defaults()``, which reads no ``TXC_*`` variable."""

    model_config = SettingsConfigDict(
        env_prefix="TXC_", extra="ignore", frozen=True, protected_namespaces=("settings_",)
    )

    @classmethod
    def defaults(cls, **values: Any) -> Settings:
        """The field defaults (and ``values``), validated, with no ``TXC_*`` variable read: what library
        use gets when the caller passes no settings (``Classifier.load(path)``)."""
        return _DefaultsOnly(**values)

    model_dir: Path | None = Field(
        default=None,
        description="Bundle directory to serve. Unset: the bundle named by models/index.json "
        "(pin or roll back a version by pointing this at another bundle).",
    )
    host: str = Field(default="0.0.0.0", description="Interface to listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port to listen on.")
    intra_op_threads: int = Field(
        default=1,
        ge=1,
        description="ONNX Runtime threads inside one batch. 1 (default) runs each batch on its lane's "
        "own thread, and lanes run side by side: on CPU that scores ~30% more texts per second than "
        "one batch spread over every core (docs/batching.md), and a small request waits only for the "
        "first lane to free up. More makes one batch faster and the lanes fewer.",
    )
    engine_lanes: int | None = Field(
        default=None,
        ge=1,
        description="Model batches that run at once on the one ONNX Runtime session, one worker thread "
        "each. Default: available cores / TXC_INTRA_OP_THREADS (at least 1). Set it on Kubernetes, "
        "where the process sees the node's cores rather than the pod's CPU limit (the chart does).",
    )
    max_batch_tokens: int = Field(
        default=2048,
        ge=1,
        description="Padded token budget of one model batch (longest length x items). Larger batches "
        "amortise per-call overhead but each takes longer, raising the latency of small requests "
        "queued behind it.",
    )
    max_batch_size: int = Field(
        default=64,
        ge=1,
        description="Most items in one model batch, whatever their length. Caps the batch of very "
        "short texts, whose per-text cost rises again beyond a few dozen on CPU.",
    )
    max_wait_ms: float = Field(
        default=0.0,
        ge=0,
        description="Longest an item waits for company when the model is idle. 0 runs whatever is "
        "queued at once; items that arrive meanwhile form the next batch (measured best on CPU). More "
        "fills batches at moderate load where each model call has a large fixed cost.",
    )
    length_bucket_width: int = Field(
        default=8,
        ge=1,
        description="Token lengths within this width share a batch first, so little padding is wasted. "
        "Narrower buckets pad less but make more, smaller batches from mixed traffic.",
    )
    fair_quantum_tokens: int = Field(
        default=256,
        ge=1,
        description="Tokens each client (or anonymous request) may put into a batch per scheduling "
        "round. Smaller interleaves clients more finely; larger favours whoever holds the turn.",
    )
    latency_budget_ms: float = Field(
        default=10.0,
        ge=0,
        description="Target time of one model batch while latency-sensitive requests wait or arrived "
        "within TXC_LATENCY_WINDOW_MS; the learned cost model turns it into a token budget. Lower cuts "
        "small requests' p99 and costs bulk throughput (more, smaller batches); 0 always cuts full "
        "batches.",
    )
    interactive_max_items: int = Field(
        default=20,
        ge=0,
        description="Requests of at most this many transactions are latency-sensitive: served first, "
        "in batches cut to TXC_LATENCY_BUDGET_MS. Higher treats bigger requests as interactive.",
    )
    latency_window_ms: float = Field(
        default=1000.0,
        ge=0,
        description="How long after the last latency-sensitive request batches stay within the "
        "latency budget. Longer protects sparse small requests from a full bulk batch ahead of them; "
        "shorter returns to full batches sooner.",
    )
    switch_interval_ms: float = Field(
        default=0.5,
        gt=0,
        le=100,
        description="The server process's interpreter switch interval (sys.setswitchinterval): how long a "
        "thread holding the GIL runs before another waiting thread may take it. Python's 5 ms lets a "
        "large request's normalisation hold off the event loop and the engine lanes several times per "
        "small request. Lower lets the loop and the lanes in sooner (small requests' p50 beside bulk load, "
        "docs/batching.md); each switch costs a little. Only `txclassify serve` applies it; library use "
        "leaves the interpreter alone.",
    )
    deadline_admission: bool = Field(
        default=False,
        description="Refuse (429) a request the cost model predicts cannot finish before its deadline, and "
        "withdraw queued requests that no longer can. Off by default: the model's speed is learned from "
        "the batches it runs, and small interactive batches under-state what a bulk batch runs at, so "
        "with it on a quiet server refused 5,000-item requests it would have finished (CI's SLA load "
        "test). On, at 3x capacity it finishes some long requests instead of timing all of them out.",
    )
    max_queue_items: int = Field(
        default=20_000,
        ge=1,
        description="Admission limit in queued transactions (not requests). A request that would pass "
        "it is rejected whole with 429 and a Retry-After; higher absorbs bursts but lets queue wait, "
        "hence latency, grow.",
    )
    max_concurrent_requests: int = Field(
        default=32,
        ge=1,
        description="Classify requests in progress at once (being parsed, queued or scored). More are "
        "refused at once with 429 and a Retry-After, before their body is read. Queued items alone do "
        "not bound latency: parsing, tokenising and answering share one event loop, and offered more "
        "than it serves, every request slows down. Admitted latency is about this divided by "
        "throughput: at 3x capacity on 2 cores, 32 kept p99 near 0.3 s and 64 let it reach 3.5 s "
        "(docs/hardening.md); higher absorbs bursts of small requests.",
    )
    max_request_items: int = Field(
        default=5_000, ge=1, description="Most transactions in one request; more is refused with 413."
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="Largest request body in bytes, enforced before parsing (413). 5,000 typical "
        "narrations take about 0.5 MB; the limit bounds the memory one request can claim.",
    )
    memory_budget_mb: int = Field(
        default=256,
        ge=16,
        description="MiB that requests in flight may hold together, each reserving its estimate "
        "(request_memory_factor x its body) before its body is read; a request that does not fit gets "
        "429. Sets the peak above the idle footprint: the chart's memory limit is derived from it "
        "(docs/hardening.md). Must hold one largest request.",
    )
    request_memory_factor: float = Field(
        default=28.0,
        gt=1,
        description="Peak bytes a request holds per byte of its body (body, parsed objects, token ids, "
        "response): 26.5 measured for 512-character CJK/emoji texts with top_k 16, the worst legal "
        "request (docs/hardening.md). Lower admits more at once and risks the budget; higher refuses "
        "earlier.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest total size of a request's headers (431). uvicorn's parser takes headers "
        "of any size; keep a proxy's limit in front as well (this check runs once they are read).",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A connection's next request must have sent all its headers within this many "
        "seconds of the connection opening (or of the previous response), else 408 and close. Bounds "
        "slowloris and silent connections; a proxy in front usually has a tighter limit.",
    )
    keep_alive_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="Idle time after a response before a keep-alive connection is closed. Keep it "
        "above the client's or proxy's idle timeout to avoid races on reused connections.",
    )
    body_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="Longest time to receive a whole request body, else 408. A trickling upload holds "
        "no request slot meanwhile, but it holds its connection and its share of the body budget; 15 s "
        "takes a 4 MB body at 2.2 Mbit/s.",
    )
    write_timeout_s: float = Field(
        default=15.0,
        gt=0,
        description="A client that reads none of its response for this long is disconnected and its "
        "buffered response freed. Lower frees memory from stalled readers sooner.",
    )
    probe_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of a second listener that answers /healthz and /readyz from a thread, not "
        "the event loop, so probes stay fast under the heaviest load (the chart sets 8081 and probes "
        "it). Unset: probes only on the main port.",
    )
    loop_stall_s: float = Field(
        default=5.0,
        gt=0,
        description="On the probe port, liveness and readiness fail once the event loop has not run "
        "for this long (a wedged loop must not look healthy). Lower restarts a stuck pod sooner and "
        "risks failing one that is only very busy.",
    )
    max_connections: int = Field(
        default=1024,
        ge=1,
        description="Open HTTP connections; past it a new connection gets 503 and is closed before it is "
        "read. Bounds file descriptors and per-connection memory; probes compete for the same "
        "connections, so keep it well above the clients' pool sizes.",
    )
    request_timeout_ms: float = Field(
        default=30_000,
        gt=0,
        description="Default deadline of a classify request; its unfinished items are dropped and it "
        "gets 504. A client may ask for less (or more, up to max_request_timeout_ms) with the "
        "X-Request-Timeout-Ms header.",
    )
    max_request_timeout_ms: float = Field(
        default=120_000, gt=0, description="Upper bound on the X-Request-Timeout-Ms header."
    )
    cache_size: int = Field(
        default=100_000,
        ge=0,
        description="LRU result cache entries (normalised text -> probabilities); 0 disables. Statements "
        "repeat merchants, so hits are common; each entry costs about 300 bytes (100,000 = ~30 MB).",
    )
    graceful_timeout_s: float = Field(
        default=25.0,
        ge=0,
        description="On SIGTERM: how long in-flight requests may take to finish before the server "
        "stops. Keep terminationGracePeriodSeconds >= preStop sleep + this + a margin.",
    )
    api_keys: str | None = Field(
        default=None,
        description="Comma-separated API keys. With any key configured (here or in api_keys_file), "
        "requests need 'Authorization: Bearer KEY' or 'X-API-Key: KEY'; none configured means no "
        "authentication (for a private network only).",
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="File with one API key per line ('#' comments allowed), e.g. a mounted Secret. A "
        "configured file that is missing or holds no key stops start-up (fail closed).",
    )
    auth_open_paths: str = Field(
        default="/healthz,/readyz,/metrics",
        description="Comma-separated paths that stay open when keys are configured, so probes and "
        "Prometheus need no key. Remove /metrics to require a key for scraping.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the service's loggers."
    )
    json_logs: bool = Field(
        default=True, description="One JSON object per log line (for collectors); false for plain text."
    )
    # -- the production loop (service/production.py, docs/operations.md) -------------------------------
    feedback_dsn: str | None = Field(
        default=None,
        description="Where POST /v1/feedback stores corrections: sqlite:///path/file.db (embedded, WAL, "
        "one process) or postgresql://user:pass@host:5432/db (shared by replicas; needs the feedback "
        "extra). Unset: feedback is off (503). A store that is down answers feedback 503 and never "
        "affects classify.",
    )
    feedback_max_queue_rows: int = Field(
        default=20_000,
        ge=1,
        description="Corrections waiting for their commit; a request that would pass it gets 429. "
        "Higher absorbs bursts while the store is slow, at the cost of memory and of callers waiting.",
    )
    shadow_model_dir: Path | None = Field(
        default=None,
        description="A second bundle that scores every classify request's texts after the answers are "
        "sent (agreement metrics only; served answers never change). Costs CPU: on a busy pod it "
        "sheds load (drops) rather than slow the primary. Unset: no shadow.",
    )
    shadow_max_queue_items: int = Field(
        default=5_000,
        ge=1,
        description="Transactions queued for the shadow; beyond it requests are not shadowed (counted "
        "in txclassify_shadow_dropped_items_total). Higher shadows more of a burst, using more memory.",
    )
    drift_window_items: int = Field(
        default=10_000,
        ge=100,
        description="Served answers whose label mix the drift gauge (PSI vs the card's reference) "
        "compares. Smaller reacts sooner and is noisier.",
    )

    @property
    def memory_budget_bytes(self) -> int:
        return self.memory_budget_mb * 2**20

    @property
    def lanes(self) -> int:
        """Batches that run at once: ``engine_lanes``, else the cores ``intra_op_threads`` leave."""
        if self.engine_lanes is not None:
            return self.engine_lanes
        return max(1, available_cores() // self.intra_op_threads)

    @property
    def max_wait_s(self) -> float:
        return self.max_wait_ms / 1000.0

    @property
    def latency_budget_s(self) -> float:
        return self.latency_budget_ms / 1000.0

    @property
    def latency_window_s(self) -> float:
        return self.latency_window_ms / 1000.0

    @property
    def request_timeout_s(self) -> float:
        return self.request_timeout_ms / 1000.0


class _DefaultsOnly(Settings):
    """``Settings`` from the field defaults and explicit values only: no environment, no dotenv."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
