"""Start, probe and stop the servers the benchmark compares, each as a child process on 127.0.0.1.

Each server is a command line, an environment and a wire format; readiness is "a one-text request
answers 200 with one result", the one probe every server here understands.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import aiohttp

from loadtests.openloop import WIRE_FORMATS, WireFormat

__all__ = ["RunningServer", "ServerSpec", "free_port"]

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class ServerSpec:
    """``command`` may hold ``{port}``; ``env`` is added to this process's environment."""

    name: str
    command: Sequence[str]
    wire: str
    env: Mapping[str, str] = field(default_factory=dict)
    startup_timeout_s: float = 240.0

    @property
    def wire_format(self) -> WireFormat:
        return WIRE_FORMATS[self.wire]


class RunningServer:
    """A server child process in its own process group; a context manager that always stops it."""

    def __init__(self, spec: ServerSpec, log_path: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RunningServer:
        command = [part.format(port=self.port) for part in self.spec.command]
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **self.spec.env}
        self._log = self._log_path.open("wb")
        self._process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            asyncio.run(self._wait_ready())
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (its main thread has the same id)."""
        return None if self._process is None else self._process.pid

    async def _wait_ready(self) -> None:
        wire = self.spec.wire_format
        deadline = time.monotonic() + self.spec.startup_timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise RuntimeError(
                        f"{self.spec.name} exited with {self._process.returncode}; see {self._log_path}"
                    )
                try:
                    async with session.post(
                        self.base_url + wire.path, json=wire.body(["card payment tesco"])
                    ) as r:
                        if r.status == 200 and wire.count_results(await r.json(content_type=None)) == 1:
                            return
                except (aiohttp.ClientError, TimeoutError, KeyError, ValueError):
                    pass
                await asyncio.sleep(1.0)
        raise TimeoutError(
            f"{self.spec.name} not ready after {self.spec.startup_timeout_s:.0f} s; see {self._log_path}"
        )

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL whatever is left after 30 s."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        # Children that outlived their parent (Ray's actors move to their own process groups) are
        # still in the session this process leads.
        for pid in _session_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()


def _session_members(session_id: int) -> list[int]:
    """Pids of live processes whose session id is ``session_id`` (from /proc)."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == session_id:
            members.append(int(entry.name))
    return members
