"""The floor of any FastAPI server here: our ``POST /v1/classify`` wire format, no model at all.

The endpoint reads the body, decodes it with ``json.loads`` and answers one constant result per
transaction; uvicorn runs it as ``txclassify serve`` runs ours (uvloop, httptools, no access log). What
it costs per request, in the closed loop beside the raw engine (``loadtests.closedloop --rows
fastapi-empty``), is what FastAPI and uvicorn cost before any work of ours: docs/profiling.md. Run::

    .venv/bin/python -m loadtests.peers.empty_fastapi --port 8001
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from fastapi import FastAPI, Request, Response


def create_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/classify")
    async def classify(request: Request) -> Response:
        body = json.loads(await request.body())
        results = [
            {"id": item["id"], "label": "OTHER", "confidence": 1.0, "abstained": False, "top_k": []}
            for item in body["transactions"]
        ]
        return Response(json.dumps({"results": results}).encode(), media_type="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        create_app(), host=args.host, port=args.port, loop="uvloop", http="httptools", access_log=False,
        log_level="warning",
    )  # fmt: skip


if __name__ == "__main__":
    main()
