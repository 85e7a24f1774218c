"""Request and response bodies of the HTTP API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Any, NotRequired

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
    with_config,
)
from typing_extensions import TypedDict

from service.errors import ErrorDetail, TooLargeError
from service.normalize import Direction

__all__ = [
    "ClassifyRequest",
    "ClassifyResponse",
    "ErrorResponse",
    "GazetteerOut",
    "InputsOut",
    "LabelScoreOut",
    "ModelInfo",
    "ModelRef",
    "ModelsResponse",
    "ResultOut",
    "StatusResponse",
    "Transaction",
    "bound_top_k",
]

#: The serving app's ``max_request_items``, set per request by ``BodyLimitMiddleware``.
MAX_REQUEST_ITEMS: ContextVar[int] = ContextVar("txclassify_max_request_items", default=5_000)
MAX_TEXT_CHARS = 512
MAX_ID_CHARS = 128


# Text that is empty only after normalisation (control characters) is refused by the classifier, which
# normalises each text once anyway; the route maps its error back to the transaction.
TransactionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS, pattern=r"\S")
]


def _no_bool_or_string(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON integer, not {type(value).__name__}")
    return value


# A JSON Schema integer: 2 and 2.0 pass; true and "2", which pydantic's lax mode would coerce, do not
# (found by fuzzing: the schema said integer and `true` was served as 1).
JsonInteger = Annotated[int, BeforeValidator(_no_bool_or_string)]


# A TypedDict, not a model: the same validation (pydantic-core's), but no model instance per item.
# Validating a 5,000-item request took 5.1 ms as models and 2.1 ms as dicts (best of 30, 2 cores),
# all of it on the event loop, where small requests queued behind the statements wait for it.
@with_config(ConfigDict(extra="forbid"))
class Transaction(TypedDict):
    id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS, description="Unique within the request.")]
    text: Annotated[
        TransactionText,
        Field(
            description="The narration, 1-512 characters after trimming; the model reads at most its "
            "max_seq_len tokens of it."
        ),
    ]
    direction: NotRequired[
        Annotated[
            Direction | None,
            Field(
                description='"debit" (money out) or "credit" (money in); optional. Read only by models '
                "whose `inputs.direction` is true in GET /v1/models; other models ignore it.",
            ),
        ]
    ]


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "transactions": [
                        {"id": "t1", "text": "POS PURCHASE STARBUCKS #1234 SEATTLE WA", "direction": "debit"},
                        {"id": "t2", "text": "ACH CREDIT ACME CORP PAYROLL", "direction": "credit"},
                        {"id": "t3", "text": "ZELLE JOHN SMITH"},
                    ],
                    "top_k": 2,
                }
            ]
        },
    )

    transactions: list[Transaction] = Field(
        min_length=1, description="1 to max_request_items (default 5,000) transactions."
    )
    # The upper bound is the served model's label count, so the OpenAPI document states it from the loaded
    # bundle (``bound_top_k``) and the route enforces it; no number here could be right for every bundle.
    top_k: JsonInteger = Field(
        default=1,
        ge=1,
        description="How many labels to return per transaction: 1 to the model's label count.",
    )

    @model_validator(mode="before")
    @classmethod
    def _count_before_validating(cls, data: Any) -> Any:
        """Refuse too many transactions (413) before validating any of them: a 4 MB body of tiny items
        (130,000) took 0.8 s of event-loop time to validate only to be refused (docs/hardening.md)."""
        if isinstance(data, dict):
            transactions = data.get("transactions")
            limit = MAX_REQUEST_ITEMS.get()
            if isinstance(transactions, list) and len(transactions) > limit:
                # Not a ValueError: pydantic lets it through, and the error table answers 413.
                raise TooLargeError(
                    f"{len(transactions)} transactions; at most {limit} per request",
                    [ErrorDetail(("transactions",), f"at most {limit} items")],
                )
        return data

    @model_validator(mode="after")
    def _ids_are_unique(self) -> ClassifyRequest:
        if len({transaction["id"] for transaction in self.transactions}) == len(self.transactions):
            return self
        first_seen: dict[str, int] = {}
        for index, transaction in enumerate(self.transactions):
            earlier = first_seen.setdefault(transaction["id"], index)
            if earlier != index:
                raise ValueError(
                    f"transactions[{index}].id {transaction['id']!r} repeats transactions[{earlier}].id; "
                    "ids must be unique within a request"
                )
        raise RuntimeError("ids repeat but no repeat was found; this is a bug")


def bound_top_k(openapi: dict[str, Any], labels: int) -> dict[str, Any]:
    """Set ``ClassifyRequest.top_k``'s ``maximum`` in a generated OpenAPI document to ``labels`` (the
    served bundle's label count); returns the document, changed in place."""
    openapi["components"]["schemas"]["ClassifyRequest"]["properties"]["top_k"]["maximum"] = labels
    return openapi


class LabelScoreOut(BaseModel):
    label: str
    confidence: float


class ResultOut(BaseModel):
    id: str
    label: str = Field(description="The most likely label (given even when abstained).")
    confidence: float
    abstained: bool = Field(description="True when confidence is under the model's abstain threshold.")
    top_k: list[LabelScoreOut]


class ModelRef(BaseModel):
    name: str
    version: str


class ClassifyResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": {"name": "txclassify", "version": "1.2.0"},
                    "results": [
                        {
                            "id": "t1",
                            "label": "FOOD_AND_DRINK",
                            "confidence": 0.97,
                            "abstained": False,
                            "top_k": [{"label": "FOOD_AND_DRINK", "confidence": 0.97}],
                        }
                    ],
                }
            ]
        }
    )

    model: ModelRef
    results: list[ResultOut] = Field(description="One result per transaction, in request order.")


class GazetteerOut(BaseModel):
    source: str = Field(description="Where the brand table comes from, with its version.")
    entries: int
    matching: str = Field(
        description="How its keys match a narration: `exact` (word for word) or `compact` (also names a "
        "statement glues or splits)."
    )


class InputsOut(BaseModel):
    direction: bool = Field(description="Whether the model reads each transaction's `direction`.")
    gazetteer: GazetteerOut | None = Field(
        description="The brand table whose hint the model reads, or null for none."
    )


class ModelInfo(BaseModel):
    name: str
    version: str
    labels: list[str]
    max_seq_len: int
    abstain_threshold: float
    normalization: str = Field(description="How the model's input is built (service/normalize.py).")
    inputs: InputsOut = Field(description="What the model reads besides the narration.")
    card: dict[str, Any] = Field(description="The bundle's model_card.json.")


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class StatusResponse(BaseModel):
    status: str


class ErrorDetailOut(BaseModel):
    loc: list[str | int]
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetailOut]


class ErrorResponse(BaseModel):
    error: ErrorBody
