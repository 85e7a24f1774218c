"""The naive first version: FastAPI scoring one transaction at a time with the PyTorch fp32 student.

What a team ships before it has a batcher: a sync endpoint (FastAPI runs it in its thread pool), a
Hugging Face checkpoint loaded with transformers, one forward pass per transaction. It speaks our
``POST /v1/classify`` body so the load generator sends it exactly what it sends our server. Run::

    NAIVE_CHECKPOINT=artifacts/student-fp32 .venv/bin/python -m loadtests.peers.naive_fastapi --port 8001

Knobs: ``torch.set_num_threads(PEER_INTRA_OP_THREADS, default 2)``; the same normalisation and
``max_seq_len`` truncation as the bundle; no padding (one text per forward pass needs none).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from loadtests.peers.onnx_predictor import intra_op_threads
from service.normalize import normalize_text


class Transaction(BaseModel):
    id: str
    text: str


class ClassifyRequest(BaseModel):
    transactions: list[Transaction]
    top_k: int = 1


class _Model:
    def __init__(self, checkpoint: Path, max_seq_len: int) -> None:
        auto_tokenizer: Any = AutoTokenizer  # transformers' factories are untyped
        auto_model: Any = AutoModelForSequenceClassification
        self.tokenizer = auto_tokenizer.from_pretrained(checkpoint)
        # float32 whatever the checkpoint stores (the model build keeps float16 student weights).
        self.model = auto_model.from_pretrained(checkpoint, torch_dtype=torch.float32).eval()
        self.labels = [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        self.max_seq_len = max_seq_len

    def classify_one(self, text: str) -> dict[str, Any]:
        encoded = self.tokenizer(
            normalize_text(text), truncation=True, max_length=self.max_seq_len, return_tensors="pt"
        )
        with torch.inference_mode():
            probabilities = torch.softmax(self.model(**encoded).logits[0], dim=-1)
        confidence, index = torch.max(probabilities, dim=-1)
        return {"label": self.labels[int(index)], "confidence": float(confidence)}


def create_app(checkpoint: Path, max_seq_len: int) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        torch.set_num_threads(intra_op_threads())
        app.state.model = _Model(checkpoint, max_seq_len)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/classify")
    def classify(body: ClassifyRequest, request: Request) -> dict[str, Any]:
        model: _Model = request.app.state.model
        results = [{"id": t.id, **model.classify_one(t.text)} for t in body.transactions]
        return {"results": results}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the fp32 student one transaction at a time.")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--checkpoint", type=Path, default=Path(os.environ.get("NAIVE_CHECKPOINT", "artifacts/student-fp32"))
    )
    parser.add_argument("--max-seq-len", type=int, default=48)
    args = parser.parse_args()
    app = create_app(args.checkpoint, args.max_seq_len)
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
