"""Corrections from production: the store (SQLite or PostgreSQL), its migrations, the write queue and
the export that training reads.

::

    FeedbackStore (Protocol)      insert rows idempotently, read them back
    ├── SqliteStore               sqlite:///path (WAL, one writer): one process
    └── PostgresStore             postgresql://... : many replicas
    FeedbackWriter                bounded queue; batches commits on one thread, off the event loop
"""

from __future__ import annotations

from service.feedback.store import FeedbackRow, FeedbackStore, open_store

__all__ = ["FeedbackRow", "FeedbackStore", "open_store"]
