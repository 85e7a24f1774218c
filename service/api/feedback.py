"""``POST /v1/feedback``: corrections to served answers, stored before they are acknowledged.

The route validates the body, makes one call (``ProductionLoop.record_feedback``) and answers
``{"accepted": N, "duplicates": D}`` once the rows are committed. A correction is keyed by (client id,
``id``): resending one is a no-op that still answers 200, so a client may retry any failed or timed-out
request as is. The client id is the ``X-Client-Id`` header (``anonymous`` without one), scoped by the
API key's fingerprint when keys are configured, so two tenants' ids never collide.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.api.auth import presented_key
from service.api.errors import openapi_responses
from service.api.schemas import MAX_ID_CHARS, MAX_REQUEST_ITEMS, TransactionText
from service.errors import ErrorDetail, TooLargeError, UnavailableError
from service.feedback.recorder import Correction
from service.normalize import Direction
from service.runtime import Runtime

__all__ = ["FeedbackItem", "FeedbackRequest", "FeedbackResponse", "client_identity", "router"]

router = APIRouter()
MAX_LABEL_CHARS = 64


class FeedbackItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="The client's id for this item.")
    text: TransactionText = Field(description="The narration as it was classified.")
    label: str = Field(
        min_length=1, max_length=MAX_LABEL_CHARS, description="The right label: one of GET /v1/models labels."
    )
    direction: Direction | None = Field(default=None, description='"debit" or "credit", as classified.')


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "feedback": [
                        {
                            "id": "t1",
                            "text": "POS TESCO STORES 3297",
                            "label": "FOOD_AND_DRINK",
                            "direction": "debit",
                        }
                    ]
                }
            ]
        },
    )

    feedback: list[FeedbackItem] = Field(min_length=1, description="1 to max_request_items corrections.")

    @model_validator(mode="before")
    @classmethod
    def _count_before_validating(cls, data: Any) -> Any:
        if isinstance(data, dict):
            items = data.get("feedback")
            limit = MAX_REQUEST_ITEMS.get()
            if isinstance(items, list) and len(items) > limit:
                raise TooLargeError(
                    f"{len(items)} corrections; at most {limit} per request",
                    [ErrorDetail(("feedback",), f"at most {limit} items")],
                )
        return data

    @model_validator(mode="after")
    def _ids_are_unique(self) -> FeedbackRequest:
        first_seen: dict[str, int] = {}
        for index, item in enumerate(self.feedback):
            earlier = first_seen.setdefault(item.id, index)
            if earlier != index:
                raise ValueError(
                    f"feedback[{index}].id {item.id!r} repeats feedback[{earlier}].id; "
                    "ids must be unique within a request"
                )
        return self


class FeedbackResponse(BaseModel):
    accepted: int = Field(description="Corrections stored (committed), i.e. all of the request.")
    duplicates: int = Field(description="Of those, how many were stored already (a resent id).")


async def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def client_identity(request: Request, x_client_id: str | None) -> str:
    """Who sent the request, as feedback keys it: ``[key fingerprint/]client id``."""
    client = x_client_id or "anonymous"
    key = presented_key(request.scope)
    if not key:
        return client
    return f"{hashlib.sha256(key.encode('utf-8')).hexdigest()[:12]}/{client}"


_RESPONSES = openapi_responses(
    401, 408, 413, 415, 422, 429, 431, 503,
    notes={
        422: "`details` name each item (`feedback`, index, field).",
        503: "Here also: feedback is not configured. Classify is unaffected by the store.",
    },
)  # fmt: skip


@router.post("/v1/feedback", response_model=FeedbackResponse, responses=_RESPONSES, tags=["feedback"])
async def feedback(
    body: FeedbackRequest,
    request: Request,
    state: Annotated[Runtime, Depends(_runtime)],
    x_client_id: Annotated[str | None, Header(max_length=128)] = None,
) -> FeedbackResponse:
    """Store 1 to 5,000 corrections beside the answers the service gives their texts.

    Answers 200 only after the corrections are committed. Idempotent per (client, `id`).
    """
    classifier = state.ready_classifier()
    if state.production is None:
        raise UnavailableError("not ready (starting)")
    corrections = [Correction(item.id, item.text, item.label, item.direction) for item in body.feedback]
    recorded = await state.production.record_feedback(
        classifier, client_identity(request, x_client_id), corrections
    )
    return FeedbackResponse(accepted=recorded.accepted, duplicates=recorded.accepted - recorded.new)
