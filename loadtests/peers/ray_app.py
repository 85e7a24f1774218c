"""Ray Serve peer: the shared ONNX predictor behind ``@serve.batch`` (one call = one item).

Run from the repository root in the Ray environment::

    PEER_MODEL_DIR=models/txclassify-1.0.0 .venv-ray/bin/python -m loadtests.peers.ray_app --port 8000

Knobs (docs/benchmarks.md): one replica; ``@serve.batch(max_batch_size=64, batch_wait_timeout_s=0.01)``;
``max_ongoing_requests`` raised from its default (5) to 1024, since with 5 the batch could never hold
more than 5 items; a request's texts are submitted as separate batch calls, Ray's documented pattern.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from typing import Any

# Peer-only packages: installed in the peer's own venv, not where mypy runs.
import ray  # type: ignore[import-not-found, unused-ignore]
from ray import serve  # type: ignore[import-not-found, unused-ignore]
from starlette.requests import Request

from loadtests.peers.onnx_predictor import OnnxPredictor

MAX_BATCH_SIZE = int(os.environ.get("PEER_MAX_BATCH", "64"))
BATCH_WAIT_S = float(os.environ.get("PEER_MAX_BATCH_TIME_S", "0.01"))


@serve.deployment(num_replicas=1, max_ongoing_requests=1024, ray_actor_options={"num_cpus": 0})
class TxClassify:
    def __init__(self) -> None:
        self.predictor = OnnxPredictor.from_env()

    @serve.batch(max_batch_size=MAX_BATCH_SIZE, batch_wait_timeout_s=BATCH_WAIT_S)  # type: ignore[untyped-decorator, unused-ignore]
    async def classify_batch(self, texts: list[str]) -> list[dict[str, Any]]:
        return self.predictor.predict(texts)

    async def __call__(self, request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        return list(await asyncio.gather(*(self.classify_batch(text) for text in body["texts"])))


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the ONNX model with Ray Serve.")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    serve.start(
        http_options={"host": "127.0.0.1", "port": args.port}, logging_config={"enable_access_log": False}
    )
    app = TxClassify.bind()  # type: ignore[attr-defined, unused-ignore]
    serve.run(app, name="txclassify", route_prefix="/classify")
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ray serve ready", flush=True)
    loop.run_until_complete(stop.wait())
    # No serve.shutdown(): its graceful drain can take minutes; the benchmark has finished by now.
    ray.shutdown()


if __name__ == "__main__":
    main()
