"""Stores for the feedback tests: a SQLite file per test, and a real PostgreSQL server per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedback.postgres import PostgresServer, find_bindir


def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are; skips (not root, so cannot install them) or fails (root: CI must)."""
    bindir = find_bindir()
    if bindir is None:
        if os.geteuid() != 0:
            pytest.skip(
                "PostgreSQL binaries (initdb, pg_ctl) not found and not root to install them: "
                "apt-get install postgresql (deploy/install-test-deps.sh)"
            )
        pytest.fail(
            "PostgreSQL binaries not found: run deploy/install-test-deps.sh (apt-get install postgresql)"
        )
    pytest.importorskip("psycopg", reason="psycopg not installed: pip install -e '.[feedback]'")
    return bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    server = PostgresServer(bindir).init()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's server."""
    return postgres_server.create_database()


@pytest.fixture
def sqlite_dsn(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'feedback.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_dsn(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs against both stores."""
    name = "sqlite_dsn" if request.param == "sqlite" else "postgres_dsn"
    dsn: str = request.getfixturevalue(name)
    return dsn


@pytest.fixture
def server_env(tiny_bundle: Path) -> dict[str, str]:
    """``TXC_*`` settings for a real ``txclassify serve`` on the tiny bundle (tests/hardening/server.py)."""
    return {"TXC_MODEL_DIR": str(tiny_bundle), "TXC_INTRA_OP_THREADS": "1", "TXC_LOG_LEVEL": "info"}
