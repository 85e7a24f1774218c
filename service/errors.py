"""Domain errors of the serving core. They know nothing of HTTP; ``service/api/errors.py`` maps them.

::

    ServiceError                  every error the service raises on purpose
    ├── BundleError               a model bundle is missing, corrupt or inconsistent (start-up)
    ├── ConfigurationError        a setting cannot be used, e.g. an empty API key file (start-up)
    ├── BadRequestError           malformed HTTP, or a header the service reads once sent twice
    ├── UnauthorizedError         no valid API key
    ├── NotFoundError             no such route
    ├── MethodNotAllowedError     the route does not take this method
    ├── RequestTimeoutError       the request's headers or body did not arrive in time
    ├── InvalidInputError         the caller sent something unusable (which item, and why)
    ├── TooLargeError             too many items, or a body over the size limit
    ├── UnsupportedMediaTypeError the body is not declared as JSON
    ├── HeadersTooLargeError      the request's headers are over the size limit
    ├── OverloadedError           no room now (queue, requests in progress, memory, deadline); carries
    │   │                         ``retry_after_s``
    │   └── TooManyConnectionsError  past the bound on open connections (refused before reading)
    ├── UnavailableError          not ready yet, draining, or the batch loop died
    │   └── StoreUnavailableError the feedback store cannot be reached; carries ``retry_after_s``
    ├── DeadlineExceededError     the request's deadline passed before its results were ready
    ├── InferenceError            a batch failed inside the model; only its own waiters see this
    └── ClientGoneError           the client went away before it was answered (nobody reads the answer)

Each has one HTTP status, in the one table ``service/api/errors.py`` holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BadRequestError",
    "BundleError",
    "ClientGoneError",
    "ConfigurationError",
    "DeadlineExceededError",
    "ErrorDetail",
    "HeadersTooLargeError",
    "InferenceError",
    "InvalidInputError",
    "MethodNotAllowedError",
    "NotFoundError",
    "OverloadedError",
    "RequestTimeoutError",
    "ServiceError",
    "StoreUnavailableError",
    "TooLargeError",
    "TooManyConnectionsError",
    "UnauthorizedError",
    "UnavailableError",
    "UnsupportedMediaTypeError",
]


@dataclass(frozen=True)
class ErrorDetail:
    """One problem with one part of the input: ``loc`` is a path such as ``("transactions", 3, "text")``."""

    loc: tuple[str | int, ...]
    message: str


class ServiceError(Exception):
    """Base class; ``code`` is a stable machine-readable name, ``details`` say where the problem is."""

    code = "internal_error"

    def __init__(self, message: str, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)


class BundleError(ServiceError):
    """A bundle cannot be served. The message is one line that names the file and the problem."""

    code = "bundle_error"


class ConfigurationError(ServiceError):
    """A setting cannot be used. The message is one line that names the setting or file."""

    code = "configuration_error"


class BadRequestError(ServiceError):
    code = "bad_request"


class UnauthorizedError(ServiceError):
    code = "unauthorized"


class NotFoundError(ServiceError):
    code = "not_found"


class MethodNotAllowedError(ServiceError):
    code = "method_not_allowed"


class RequestTimeoutError(ServiceError):
    code = "request_timeout"


class InvalidInputError(ServiceError):
    code = "invalid_input"


class TooLargeError(ServiceError):
    code = "too_large"


class UnsupportedMediaTypeError(ServiceError):
    code = "unsupported_media_type"


class HeadersTooLargeError(ServiceError):
    code = "headers_too_large"


class OverloadedError(ServiceError):
    """Rejected whole, before any work was queued. Retry after ``retry_after_s`` (whole seconds)."""

    code = "overloaded"

    def __init__(self, message: str, retry_after_s: int, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message, details)
        self.retry_after_s = retry_after_s


class TooManyConnectionsError(OverloadedError):
    code = "too_many_connections"


class UnavailableError(ServiceError):
    code = "unavailable"


class StoreUnavailableError(UnavailableError):
    """The feedback store is down; classify is unaffected. Retry after ``retry_after_s``."""

    code = "store_unavailable"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeadlineExceededError(ServiceError):
    code = "deadline_exceeded"


class InferenceError(ServiceError):
    code = "inference_failed"


class ClientGoneError(ServiceError):
    """The client disconnected before its answer was ready: logged and counted, sent to nobody."""

    code = "client_gone"
