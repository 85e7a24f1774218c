"""The one table from domain errors to HTTP, and the JSON error body every failure uses.

Body: ``{"error": {"code": "...", "message": "...", "details": [{"loc": [...], "message": "..."}]}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import (
    BundleError,
    DeadlineExceededError,
    ErrorDetail,
    InferenceError,
    InvalidInputError,
    OverloadedError,
    ServiceError,
    StoreUnavailableError,
    TooLargeError,
    UnauthorizedError,
    UnavailableError,
)

__all__ = ["STATUS_BY_ERROR", "error_body", "error_response", "install_error_handlers"]

logger = logging.getLogger("txclassify.api")

#: Domain error -> HTTP status. The first matching class (in this order) wins.
STATUS_BY_ERROR: tuple[tuple[type[ServiceError], int], ...] = (
    (InvalidInputError, 422),
    (UnauthorizedError, 401),
    (TooLargeError, 413),
    (OverloadedError, 429),
    (UnavailableError, 503),
    (BundleError, 503),
    (DeadlineExceededError, 504),
    (InferenceError, 500),
)


def status_for(error: ServiceError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 500


def error_body(code: str, message: str, details: Sequence[ErrorDetail] = ()) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [{"loc": list(detail.loc), "message": detail.message} for detail in details],
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[ErrorDetail] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


async def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceError)
    status = status_for(error)
    headers: dict[str, str] = {}
    if isinstance(error, OverloadedError | StoreUnavailableError):
        headers["Retry-After"] = str(error.retry_after_s)
    message = error.message
    if status >= 500 and status != 503 and status != 504:
        message = f"{message} (request id {_request_id(request)})"
        logger.error("request failed: %s", error.message, extra={"code": error.code})
    return error_response(status, error.code, message, error.details, headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = []
    for problem in error.errors():
        loc = [part for part in problem.get("loc", ()) if part != "body"]
        details.append(ErrorDetail(tuple(loc), str(problem.get("msg", "invalid"))))
    summary = "; ".join(
        f"{'.'.join(str(part) for part in detail.loc) or 'body'}: {detail.message}" for detail in details[:3]
    )
    return error_response(422, "invalid_input", f"invalid request: {summary}", details[:100])


def _unparsable_body(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"request body is not valid UTF-8 (byte {cause.start}: {cause.reason})"
    if isinstance(cause, RecursionError):
        return "request body JSON is nested too deeply"
    return f"request body is not valid JSON ({type(cause).__name__})"


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and error.__cause__ is not None:
        # FastAPI turns any body-decoding failure into one vague 400; name the actual problem, with the
        # same status as every other unusable body (malformed JSON is already 422).
        return error_response(422, "invalid_input", _unparsable_body(error.__cause__))
    codes = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}
    return error_response(
        error.status_code,
        codes.get(error.status_code, "http_error"),
        str(error.detail),
        headers=error.headers,
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.error("unhandled error", exc_info=error)
    request_id = _request_id(request)
    return error_response(
        500,
        "internal_error",
        f"internal error (request id {request_id})",
        headers={"X-Request-Id": request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
