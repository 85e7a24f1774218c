"""The one table from domain errors to HTTP, and the one function that renders every failure.

Every status the service sends (or logs, for 499) comes from ``ERROR_TABLE``: the exception handlers,
the pure-ASGI guards (``send_error``), the HTTP protocol's own refusals (``service/protocol.py``), the
OpenAPI error responses (``openapi_responses``) and the README's table (tests/service/test_errors.py)
all read it. Body: ``{"error": {"code": "...", "message": "...", "details": [{"loc": [...],
"message": "..."}]}}``; ``Retry-After`` comes with every error that carries ``retry_after_s``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Send

from service.api.schemas import ErrorResponse
from service.errors import (
    BadRequestError,
    BundleError,
    ClientGoneError,
    DeadlineExceededError,
    ErrorDetail,
    HeadersTooLargeError,
    InferenceError,
    InvalidInputError,
    MethodNotAllowedError,
    NotFoundError,
    OverloadedError,
    RequestTimeoutError,
    ServiceError,
    StoreUnavailableError,
    TooLargeError,
    TooManyConnectionsError,
    UnauthorizedError,
    UnavailableError,
    UnsupportedMediaTypeError,
)

__all__ = [
    "ERROR_TABLE",
    "ErrorKind",
    "Rendered",
    "error_body",
    "install_error_handlers",
    "openapi_responses",
    "render",
    "send_error",
    "status_for",
]

logger = logging.getLogger("txclassify.api")


@dataclass(frozen=True)
class ErrorKind:
    """One row of the table: ``error`` (and its subclasses, unless an earlier row matches) is sent as
    ``status``; ``description`` is what the OpenAPI document and the README say of it."""

    error: type[ServiceError]
    status: int
    description: str

    @property
    def code(self) -> str:
        return self.error.code


#: Domain error -> HTTP status. The first matching row (in this order) wins; the last row catches all.
ERROR_TABLE: tuple[ErrorKind, ...] = (
    ErrorKind(BadRequestError, 400, "Malformed HTTP, or a header the service reads once is repeated."),
    ErrorKind(UnauthorizedError, 401, "API keys are configured and the request has no valid key."),
    ErrorKind(NotFoundError, 404, "No such route."),
    ErrorKind(MethodNotAllowedError, 405, "The route does not take this method."),
    ErrorKind(RequestTimeoutError, 408, "The request's headers or body did not arrive in time."),
    ErrorKind(TooLargeError, 413, "Too many transactions, or the body is over the size limit."),
    ErrorKind(UnsupportedMediaTypeError, 415, "The body is not declared as application/json."),
    ErrorKind(InvalidInputError, 422, "Invalid input; `details` name each item and problem."),
    ErrorKind(TooManyConnectionsError, 429, "Too many open connections; refused before reading."),
    ErrorKind(
        OverloadedError,
        429,
        "No room now (queue full, too many requests in progress, memory budget, or the work cannot "
        "finish before its deadline); retry after `Retry-After` seconds.",
    ),
    ErrorKind(HeadersTooLargeError, 431, "Request headers over the size limit."),
    ErrorKind(ClientGoneError, 499, "The client went away first (logged and counted, never sent)."),
    ErrorKind(InferenceError, 500, "Inference failed for this request's batch."),
    ErrorKind(StoreUnavailableError, 503, "The feedback store cannot be reached; retry after `Retry-After`."),
    ErrorKind(UnavailableError, 503, "Not ready yet, or draining."),
    ErrorKind(BundleError, 503, "The model bundle cannot be served."),
    ErrorKind(DeadlineExceededError, 504, "The request's deadline passed."),
    ErrorKind(ServiceError, 500, "An internal error; the message gives the request id."),
)

#: 5xx whose message is the caller's own business (not ready, deadline): no request id, no error log.
_EXPECTED_5XX = frozenset({503, 504})


def _kind(error: ServiceError) -> ErrorKind:
    for kind in ERROR_TABLE:
        if isinstance(error, kind.error):
            return kind
    raise AssertionError("ERROR_TABLE's last row matches every ServiceError")


def status_for(error: ServiceError) -> int:
    return _kind(error).status


def error_body(code: str, message: str, details: Sequence[ErrorDetail] = ()) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [{"loc": list(detail.loc), "message": detail.message} for detail in details],
        }
    }


@dataclass(frozen=True)
class Rendered:
    """An error as it goes on the wire."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    #: A 5xx that is not the caller's own business (not 503/504): it names the request id, and the
    #: exception handler logs it.
    unexpected: bool = False

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Client Closed Request" if self.status == 499 else "Error"


def render(
    error: ServiceError, request_id: str | None = None, extra_headers: Iterable[tuple[str, str]] = ()
) -> Rendered:
    """The one rendering of ``error``: its status from the table, its JSON body, ``Retry-After`` when it
    carries ``retry_after_s``, ``WWW-Authenticate`` for 401. An unexpected 5xx names the request id
    (in the message and ``X-Request-Id``)."""
    kind = _kind(error)
    headers: list[tuple[str, str]] = [("content-type", "application/json")]
    retry_after = getattr(error, "retry_after_s", None)
    if retry_after is not None:
        headers.append(("retry-after", str(int(retry_after))))
    if isinstance(error, UnauthorizedError):
        headers.append(("www-authenticate", 'Bearer realm="txclassify"'))
    message = error.message
    unexpected = kind.status >= 500 and kind.status not in _EXPECTED_5XX
    if unexpected:
        shown = request_id or "-"
        message = f"{message} (request id {shown})"
        headers.append(("x-request-id", shown))
    headers.extend(extra_headers)
    body = json.dumps(error_body(error.code, message, error.details[:100])).encode()
    return Rendered(kind.status, tuple(headers), body, unexpected)


def _response(rendered: Rendered) -> Response:
    response = Response(rendered.body, status_code=rendered.status)
    for name, value in rendered.headers:
        response.headers[name] = value
    return response


async def send_error(send: Send, error: ServiceError, *, close: bool = True) -> None:
    """Answer ``error`` from a pure-ASGI guard, before the app runs; ``close`` ends the connection after
    it (for a request whose unread body must not be read)."""
    rendered = render(error)
    headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in rendered.headers]
    headers.append((b"content-length", str(len(rendered.body)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": rendered.status, "headers": headers})
    await send({"type": "http.response.body", "body": rendered.body})


def openapi_responses(
    *statuses: int,
    notes: Mapping[int, str] | None = None,
    exclude: Iterable[type[ServiceError]] = (),
) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` for these statuses, described from the table (rows of one status joined,
    less the rows of ``exclude``: errors the route never raises), with a route's own ``notes``."""
    skipped = (ServiceError, *exclude)
    described: dict[int, list[str]] = {}
    for kind in ERROR_TABLE:
        if kind.status in statuses and kind.error not in skipped:
            described.setdefault(kind.status, []).append(kind.description)
    missing = (set(statuses) | set(notes or {})) - set(described)
    if missing:
        raise ValueError(f"statuses not in ERROR_TABLE: {sorted(missing)}")
    for status, note in (notes or {}).items():
        described[status].append(note)
    return {
        status: {"model": ErrorResponse, "description": " ".join(descriptions)}
        for status, descriptions in sorted(described.items())
    }


def _request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", "-"))


async def _service_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ServiceError)
    rendered = render(error, _request_id(request))
    if rendered.unexpected:
        logger.error("request failed: %s", error.message, extra={"code": error.code})
    return _response(rendered)


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    details = []
    for problem in error.errors():
        loc = [part for part in problem.get("loc", ()) if part != "body"]
        details.append(ErrorDetail(tuple(loc), str(problem.get("msg", "invalid"))))
    summary = "; ".join(
        f"{'.'.join(str(part) for part in detail.loc) or 'body'}: {detail.message}" for detail in details[:3]
    )
    return _response(render(InvalidInputError(f"invalid request: {summary}", details[:100])))


def _unparsable_body(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"request body is not valid UTF-8 (byte {cause.start}: {cause.reason})"
    if isinstance(cause, RecursionError):
        return "request body JSON is nested too deeply"
    return f"request body is not valid JSON ({type(cause).__name__})"


#: The framework's own HTTP exceptions, as the domain errors of the same status.
_FRAMEWORK_ERRORS: dict[int, type[ServiceError]] = {
    400: BadRequestError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: TooLargeError,
    415: UnsupportedMediaTypeError,
}


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 400 and error.__cause__ is not None:
        # FastAPI turns any body-decoding failure into one vague 400; name the actual problem, with the
        # same status as every other unusable body (malformed JSON is already 422).
        return _response(render(InvalidInputError(_unparsable_body(error.__cause__))))
    kind = _FRAMEWORK_ERRORS.get(error.status_code)
    if kind is None:
        logger.error("unexpected HTTP exception %d: %s", error.status_code, error.detail)
        return _response(render(ServiceError("internal error"), _request_id(request)))
    # 405 carries the route's Allow header.
    extra = [(name.lower(), value) for name, value in (error.headers or {}).items()]
    return _response(render(kind(str(error.detail)), extra_headers=extra))


async def _unexpected(request: Request, error: Exception) -> Response:
    logger.error("unhandled error", exc_info=error)
    return _response(render(ServiceError("internal error"), _request_id(request)))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
