"""BentoML peer: the shared ONNX predictor behind a batchable BentoML API (adaptive batching).

Run from the repository root in the BentoML environment::

    PEER_MODEL_DIR=models/txclassify-1.0.0 .venv-bentoml/bin/bentoml serve \
        loadtests.peers.bentoml_service:TxClassify --host 127.0.0.1 --port 3000

Knobs (also in docs/benchmarks.md): one worker process (one model copy, like our one server process);
``max_batch_size`` 64 items and ``max_latency_ms`` 10000 ms end to end: BentoML's adaptive batcher sizes
its wait from a fitted latency model and sheds requests predicted to miss ``max_latency_ms``, so a
generous bound keeps it from rejecting work our server would queue. ``PEER_MAX_BATCH`` and
``PEER_MAX_LATENCY_MS`` override them.
"""

from __future__ import annotations

import os
from typing import Any

# Peer-only packages: installed in the peer's own venv, not where mypy runs.
import bentoml  # type: ignore[import-not-found, unused-ignore]

from loadtests.peers.onnx_predictor import OnnxPredictor

MAX_BATCH_SIZE = int(os.environ.get("PEER_MAX_BATCH", "64"))
MAX_LATENCY_MS = int(os.environ.get("PEER_MAX_LATENCY_MS", "10000"))


# Access log off, as for every other row: a log line per request costs a 2-core server measurably.
@bentoml.service(
    workers=1, traffic={"timeout": 60, "max_concurrency": 1024}, logging={"access": {"enabled": False}}
)
class TxClassify:
    def __init__(self) -> None:
        self.predictor = OnnxPredictor.from_env()

    @bentoml.api(  # type: ignore[untyped-decorator, unused-ignore]
        batchable=True, batch_dim=0, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS
    )
    def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        return self.predictor.predict(texts)
