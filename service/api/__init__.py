"""The HTTP adapter: FastAPI routes over the classifier. Only this package imports FastAPI."""

from __future__ import annotations

from service.api.app import create_app, start_draining, wait_until_idle

__all__ = ["create_app", "start_draining", "wait_until_idle"]
