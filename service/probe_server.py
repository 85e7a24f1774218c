"""Kubelet probes on their own port, answered by a thread instead of the event loop.

On the main port a probe waits its turn behind every callback on the loop: under the worst legal load
(bodies parsed and validated, responses written) ``/readyz`` reached p50 4.2 s and max 7.9 s, past the
chart's 2 s and 3 s probe timeouts, so the kubelet would have restarted healthy pods (wave 2,
finding 4). Here a small threaded HTTP server answers ``GET``/``HEAD /healthz`` and ``/readyz`` from
the app's state; it needs the GIL only for a few microseconds per probe.

Answering off the loop must not hide a wedged loop: the app's loop stamps a heartbeat every 250 ms
(``LoopHeartbeat``), and both probes fail once it is older than ``stall_s``. Readiness also fails
while starting, draining or after the batch loop died, exactly as on the main port.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LoopHeartbeat", "ProbeServer"]

logger = logging.getLogger("txclassify.probes")

#: (ok, reason) for one probe.
Check = Callable[[], tuple[bool, str]]


class LoopHeartbeat:
    """The event loop's last sign of life. ``run()`` is a task of that loop; ``age_s()`` may be read
    from any thread."""

    def __init__(self, interval_s: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last = clock()

    async def run(self) -> None:
        while True:
            self._last = self._clock()
            await asyncio.sleep(self.interval_s)

    def age_s(self) -> float:
        return max(0.0, self._clock() - self._last)


class _ProbeHandler(BaseHTTPRequestHandler):
    server: _ProbeHTTPServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        check = self.server.checks.get(self.path)
        payload: dict[str, object]
        if check is None:
            status, payload = 404, _error("not_found", f"no probe at {self.path[:100]}")
        else:
            ok, reason = check()
            if ok:
                status, payload = 200, {"status": reason}
            else:
                status, payload = 503, _error("unavailable", reason)
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # probes arrive every few seconds; the main port's metrics and logs cover the service


class _ProbeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], checks: dict[str, Check]) -> None:
        self.checks = checks
        super().__init__(address, _ProbeHandler)


def _error(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "details": []}}


class ProbeServer:
    """``/healthz`` (``alive``) and ``/readyz`` (``ready``) on ``host:port`` (0: a free port), in a
    daemon thread. Each check returns (ok, reason); a request times out after ``timeout_s``."""

    def __init__(self, host: str, port: int, *, alive: Check, ready: Check, timeout_s: float = 5.0) -> None:
        self._httpd = _ProbeHTTPServer((host, port), {"/healthz": alive, "/readyz": ready})
        self._httpd.timeout = timeout_s
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="txc-probes", daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._httpd.server_address[1]
        return port

    def start(self) -> ProbeServer:
        self._thread.start()
        logger.info("probes listening", extra={"port": self.port})
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
