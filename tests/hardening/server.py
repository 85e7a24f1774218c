"""A real ``txclassify serve`` process on 127.0.0.1, for behaviours that only a real process shows.

Signals, start-up exits, sockets and resident memory cannot be tested in-process: these tests start the
console script exactly as a pod does, on a free loopback port, with ``TXC_*`` settings in its environment,
and read its stderr (the JSON log) from a file so that a chatty server can never block on a full pipe.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import httpx

__all__ = ["ServerProcess", "free_port", "poll_until", "serve_command"]

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port that was free on the loopback interface a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def serve_command(port: int) -> list[str]:
    """The console script when it is installed, else the same entry point through the interpreter."""
    script = Path(sys.executable).with_name("txclassify")
    args = ["serve", "--host", HOST, "--port", str(port)]
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())", *args]


def poll_until(probe: Callable[[], T | None], *, timeout_s: float, what: str, interval_s: float = 0.02) -> T:
    """Call ``probe`` until it returns something other than ``None``; fail after ``timeout_s``.

    This is how the hardening tests wait: on a condition with a deadline, never on a fixed sleep.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.1f} s waiting for {what}")
        time.sleep(interval_s)


_LOG_SEQUENCE = itertools.count()


class ServerProcess:
    """``txclassify serve`` in a subprocess; a context manager that always reaps it.

    ``env`` holds ``TXC_*`` settings on top of the current environment. Output goes to files under
    ``log_dir`` (stdout and stderr kept apart, as a log collector would see them).
    """

    def __init__(self, env: Mapping[str, str], log_dir: Path, *, port: int | None = None) -> None:
        self.port = port if port is not None else free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self._env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        # Named by a per-process sequence as well as the port: servers that fail before binding leave
        # their port free, so free_port() can hand the same port to the next one, and two servers
        # writing one log file mixed up which fault printed what.
        name = f"server-{self.port}-{next(_LOG_SEQUENCE)}"
        self._stdout_path = log_dir / f"{name}.out"
        self._stderr_path = log_dir / f"{name}.err"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def process(self) -> subprocess.Popen[bytes]:
        if self._process is None:
            raise RuntimeError("the server was not started")
        return self._process

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> ServerProcess:
        with self._stdout_path.open("wb") as out, self._stderr_path.open("wb") as err:
            self._process = subprocess.Popen(
                serve_command(self.port), cwd=REPO_ROOT, env=self._env, stdout=out, stderr=err
            )
        return self

    def output(self) -> str:
        """Everything the process wrote so far, stdout then stderr."""
        return self._stdout_path.read_text(errors="replace") + self._stderr_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until ``/readyz`` answers 200; fail with the server's output if it exits first."""

        def ready() -> bool | None:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode} before ready:\n{self.output()[-4000:]}"
                )
            try:
                return httpx.get(f"{self.base_url}/readyz", timeout=2.0).status_code == 200 or None
            except httpx.TransportError:
                return None

        poll_until(ready, timeout_s=timeout_s, what=f"{self.base_url}/readyz to answer 200", interval_s=0.1)

    def wait_exit(self, timeout_s: float) -> int:
        """The exit code, waiting at most ``timeout_s``; fails (and kills) if the process outlives it."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"server still running {timeout_s:.1f} s later:\n{self.output()[-4000:]}"
            ) from None

    def terminate(self) -> None:
        """Send SIGTERM, as the kubelet does."""
        self.process.send_signal(signal.SIGTERM)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
