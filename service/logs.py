"""Structured logging: one JSON object per line, with the request id, and no card numbers.

Request bodies are never logged. Anything that could carry a narration (messages, string fields) goes
through ``mask_digits``, so account and card numbers never reach a log line.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from service.normalize import mask_digits

__all__ = ["REQUEST_ID", "JsonFormatter", "configure_logging"]

#: The id of the request being handled (``-`` outside a request); set by the HTTP middleware.
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("txclassify_request_id", default="-")

# Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged as a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "request_id", ...extra fields, "exception"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_digits(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in payload:
                payload[key] = mask_digits(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exception"] = mask_digits(self.formatException(record.exc_info))
        return json.dumps(payload, default=str, ensure_ascii=False)


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_digits(super().format(record))


def configure_logging(level: str = "info", json_logs: bool = True) -> None:
    """Route the service's and uvicorn's loggers to stderr in one format. Call once, at start-up."""
    handler = logging.StreamHandler(sys.stderr)
    if json_logs:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(_PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("txclassify", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    # Our middleware writes one access line per request, with the request id; uvicorn's would duplicate it.
    logging.getLogger("uvicorn.access").disabled = True
