"""The HTTP adapter: FastAPI routes over the classifier. Only this package imports FastAPI."""

from __future__ import annotations

from service.api.app import create_app, probe_checks, runtime_of

__all__ = ["create_app", "probe_checks", "runtime_of"]
