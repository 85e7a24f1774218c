"""The HTTP adapter: FastAPI routes over the classifier. Only this package imports FastAPI."""

from __future__ import annotations

from service.api.app import (
    abandon_admitted_work,
    create_app,
    probe_checks,
    start_draining,
    wait_until_idle,
)

__all__ = ["abandon_admitted_work", "create_app", "probe_checks", "start_draining", "wait_until_idle"]
