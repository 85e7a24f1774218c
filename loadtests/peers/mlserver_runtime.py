"""MLServer peer: a custom runtime around the shared ONNX predictor, with MLServer's adaptive batching.

``loadtests/benchmark.py`` writes the two settings files into a temporary folder and starts
``.venv-mlserver/bin/mlserver start FOLDER`` from the repository root. Knobs (docs/benchmarks.md):
``max_batch_size`` 64 and ``max_batch_time`` 0.01 s in model-settings.json (MLServer's adaptive
batcher merges requests until either is reached); ``parallel_workers`` 0 in settings.json, so inference
runs in the server process as in ours (with workers, every batch crosses a process boundary).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

# Peer-only packages: installed in the peer's own venv, not where mypy runs.
from mlserver import MLModel  # type: ignore[import-not-found, unused-ignore]
from mlserver.codecs import NumpyCodec, StringCodec  # type: ignore[import-not-found, unused-ignore]
from mlserver.types import InferenceRequest, InferenceResponse  # type: ignore[import-not-found, unused-ignore]

from loadtests.peers.onnx_predictor import OnnxPredictor, intra_op_threads

MODEL_NAME = "txclassify"


class TxClassifyRuntime(MLModel):  # type: ignore[misc]
    async def load(self) -> bool:
        self._predictor = OnnxPredictor(Path(os.environ["PEER_MODEL_DIR"]), intra_op_threads())
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        texts = StringCodec.decode_input(payload.inputs[0])
        results = self._predictor.predict(texts)
        return InferenceResponse(
            model_name=self.name,
            outputs=[
                StringCodec.encode_output("label", [r["label"] for r in results]),
                NumpyCodec.encode_output("confidence", np.asarray([r["confidence"] for r in results])),
            ],
        )


def write_settings(folder: Path, http_port: int, grpc_port: int, metrics_port: int) -> None:
    """The settings.json and model-settings.json of one MLServer instance serving the predictor."""
    max_batch = int(os.environ.get("PEER_MAX_BATCH", "64"))
    max_batch_time = float(os.environ.get("PEER_MAX_BATCH_TIME_S", "0.01"))
    server: dict[str, Any] = {
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        "parallel_workers": 0,
        "load_models_at_startup": True,
        "logging_settings": str(folder / "logging.json"),
    }
    model: dict[str, Any] = {
        "name": MODEL_NAME,
        "implementation": "loadtests.peers.mlserver_runtime.TxClassifyRuntime",
        "max_batch_size": max_batch,
        "max_batch_time": max_batch_time,
    }
    # Per-request access logs off, as on our server: they cost the same CPU the model needs.
    logging_config = {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {"uvicorn.access": {"level": "WARNING"}},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "logging.json").write_text(json.dumps(logging_config))
    (folder / "settings.json").write_text(json.dumps(server, indent=2))
    (folder / "model-settings.json").write_text(json.dumps(model, indent=2))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    """Write settings for ``--port`` (gRPC and metrics on free ports) and exec ``mlserver start``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Start MLServer serving the ONNX predictor.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    write_settings(args.folder, args.port, _free_port(), _free_port())
    mlserver = Path(sys.executable).with_name("mlserver")
    os.execv(mlserver, [str(mlserver), "start", str(args.folder)])


if __name__ == "__main__":
    main()
