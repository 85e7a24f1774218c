"""Domain errors of the serving core. They know nothing of HTTP; ``service/api/errors.py`` maps them.

::

    ServiceError                  every error the service raises on purpose
    ├── BundleError               a model bundle is missing, corrupt or inconsistent (start-up)
    ├── ConfigurationError        a setting cannot be used, e.g. an empty API key file (start-up)
    ├── UnauthorizedError         no valid API key
    ├── InvalidInputError         the caller sent something unusable (which item, and why)
    ├── TooLargeError             too many items, or a body over the size limit
    ├── OverloadedError           the queue is full; carries ``retry_after_s`` from the drain rate
    ├── UnavailableError          not ready yet, draining, or the batch loop died
    │   └── StoreUnavailableError the feedback store cannot be reached; carries ``retry_after_s``
    ├── DeadlineExceededError     the request's deadline passed before its results were ready
    └── InferenceError            a batch failed inside the model; only its own waiters see this
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BundleError",
    "ConfigurationError",
    "DeadlineExceededError",
    "ErrorDetail",
    "InferenceError",
    "InvalidInputError",
    "OverloadedError",
    "ServiceError",
    "StoreUnavailableError",
    "TooLargeError",
    "UnauthorizedError",
    "UnavailableError",
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


class UnauthorizedError(ServiceError):
    code = "unauthorized"


class InvalidInputError(ServiceError):
    code = "invalid_input"


class TooLargeError(ServiceError):
    code = "too_large"


class OverloadedError(ServiceError):
    """Rejected whole, before any work was queued."""

    code = "overloaded"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


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
