"""The classify response, built and serialised off the event loop.

Building and serialising one 5,000-item ``top_k`` 16 response took ~225 ms of event-loop time, and
32 such clients pushed ``/readyz`` to p50 4.2 s, past the kubelet's timeouts (wave 2, finding 4).
Here the top-k is chosen for all items at once with numpy and the JSON is written as text in one
worker thread, shared by all requests: one thread, so responses never crowd the loop out of the GIL
with many threads, and the loop keeps answering probes while a response is built. The bytes are the
same as ``json.dumps`` of the documented shape (``ensure_ascii=False``).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from starlette.responses import Response

from service.classifier import Prediction

__all__ = ["classify_response", "render_classify_json"]

#: Responses of at most this many results are rendered on the event loop (~3 us each): a thread
#: hand-off costs more than that, and one-transaction requests are dominated by such fixed costs.
INLINE_MAX_ITEMS = 32

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _serialiser() -> ThreadPoolExecutor:
    # Created on first use, not at import; one per process, like the loop it relieves.
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="txc-response")
        return _executor


def render_classify_json(
    model_name: str, model_version: str, ids: Sequence[str], predictions: Sequence[Prediction], top_k: int
) -> bytes:
    """The response body: ``{"model": {...}, "results": [{"id", "label", "confidence", "abstained",
    "top_k": [{"label", "confidence"}, ...]}, ...]}``, results in input order, each ``top_k`` most
    likely first (ties in label order, as ``Prediction.top``)."""
    if len(ids) != len(predictions):
        raise RuntimeError(f"{len(ids)} ids for {len(predictions)} predictions; this is a bug")
    dumps = json.dumps
    head = (
        f'{{"model": {{"name": {dumps(model_name, ensure_ascii=False)}, '
        f'"version": {dumps(model_version, ensure_ascii=False)}}}, "results": ['
    )
    if not predictions:
        return (head + "]}").encode()
    if top_k == 1:
        # The top label and its probability are the prediction's own (``Classifier._prediction`` takes
        # the first largest, as the stable sort below does): no matrix to sort, 29 -> 4 us for one item.
        return _render_top1(head, ids, predictions)
    labels = predictions[0].labels
    quoted = [dumps(label, ensure_ascii=False) for label in labels]
    matrix = np.stack([prediction.probabilities for prediction in predictions])
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :top_k]
    chosen = np.take_along_axis(matrix, order, axis=1).tolist()
    order_rows = order.tolist()
    parts = [head]
    for i, prediction in enumerate(predictions):
        ranked = ", ".join(
            f'{{"label": {quoted[j]}, "confidence": {value!r}}}'
            for j, value in zip(order_rows[i], chosen[i], strict=True)
        )
        parts.append(
            f'{", " if i else ""}{{"id": {dumps(ids[i], ensure_ascii=False)}, '
            f'"label": {dumps(prediction.label, ensure_ascii=False)}, '
            f'"confidence": {prediction.confidence!r}, '
            f'"abstained": {"true" if prediction.abstained else "false"}, "top_k": [{ranked}]}}'
        )
    parts.append("]}")
    return "".join(parts).encode()


def _render_top1(head: str, ids: Sequence[str], predictions: Sequence[Prediction]) -> bytes:
    dumps = json.dumps
    parts = [head]
    for i, prediction in enumerate(predictions):
        label = dumps(prediction.label, ensure_ascii=False)
        confidence = repr(prediction.confidence)
        parts.append(
            f'{", " if i else ""}{{"id": {dumps(ids[i], ensure_ascii=False)}, "label": {label}, '
            f'"confidence": {confidence}, "abstained": {"true" if prediction.abstained else "false"}, '
            f'"top_k": [{{"label": {label}, "confidence": {confidence}}}]}}'
        )
    parts.append("]}")
    return "".join(parts).encode()


async def classify_response(
    model_name: str,
    model_version: str,
    ids: Sequence[str],
    predictions: Sequence[Prediction],
    top_k: int,
    headers: Mapping[str, str],
) -> Response:
    """``render_classify_json`` as an ``application/json`` response: in the serialiser thread, except
    for small responses, which cost less to build on the loop than the hand-off to the thread."""
    if len(predictions) <= INLINE_MAX_ITEMS:
        body = render_classify_json(model_name, model_version, ids, predictions, top_k)
    else:
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(
            _serialiser(), render_classify_json, model_name, model_version, ids, predictions, top_k
        )
    return Response(body, media_type="application/json", headers=dict(headers))
