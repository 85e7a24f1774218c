"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temp dir, as a non-root user.

The binaries come from Debian's ``postgresql`` package (``deploy/install-test-deps.sh`` installs it).
PostgreSQL refuses to run as root, so under root the cluster belongs to ``nobody`` and every command
runs through ``runuser``. The server listens on a free loopback port with its socket in the temp dir,
trusts local connections (nothing else can reach it) and is stopped and deleted when the session ends.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.hardening.server import free_port

__all__ = ["PostgresServer", "find_bindir"]

_USER = "nobody"


def find_bindir() -> Path | None:
    """The directory holding ``initdb`` and ``pg_ctl``: PATH, else Debian's versioned directory."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


class PostgresServer:
    """One cluster; ``dsn(database)`` connects to it, ``create_database()`` gives each test its own."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="txc-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, user=_USER)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", _USER, "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, cwd=self.root, timeout=120)

    @property
    def superuser(self) -> str:
        return _USER if self._as_root else (os.environ.get("USER") or "postgres")

    def init(self) -> PostgresServer:
        self._run(
            "initdb", "-D", str(self.data), "-U", self.superuser, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        return self

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.root} -c fsync=on"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; returns its DSN."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
