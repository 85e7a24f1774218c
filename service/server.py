"""The uvicorn process: one server, one model, and a drain on SIGTERM that keeps listening.

Plain uvicorn stops listening at the first SIGTERM and then waits for open connections. Kubernetes
still routes a few requests to a terminating pod until the endpoint update has spread, and those would
meet a closed port. So the first SIGTERM (or Ctrl-C) only starts draining: readiness and new classify
requests get 503 while every admitted request finishes. Then uvicorn's normal shutdown runs, and the
process exits 0. A second signal shuts down at once. The whole drain is bounded by
``graceful_timeout_s``, which the runtime (``service/runtime.py``) owns: if admitted work is still
unfinished half a second before it ends, that work is answered 503 ("retry on another replica") rather
than cut off when the process exits.

The server also installs the guarded HTTP protocol (``service/protocol.py``: header, write and idle
timeouts, a connection bound, JSON 400s) with the limits from the app's settings, and, with
``probe_port`` set, runs the probe listener (``service/probe_server.py``) beside it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import socket
import sys
from types import FrameType

import uvicorn
from fastapi import FastAPI

from service.api import probe_checks, runtime_of
from service.probe_server import ProbeServer
from service.protocol import ConnectionLimits, protocol_factory
from service.settings import Settings

__all__ = ["DrainingServer"]

logger = logging.getLogger("txclassify.server")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        settings: Settings = runtime_of(app).settings
        config.http = protocol_factory(
            ConnectionLimits(
                header_timeout_s=settings.header_timeout_s,
                write_timeout_s=settings.write_timeout_s,
                max_connections=settings.max_connections,
                max_header_bytes=settings.max_header_bytes,
            )
        )
        config.timeout_keep_alive = settings.keep_alive_timeout_s  # type: ignore[assignment]
        # Each request task starts from an empty context, never one a signal handler interrupted.
        config.reset_contextvars = True
        super().__init__(config)
        self._app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        settings: Settings = runtime_of(self._app).settings
        probes = None
        if settings.probe_port is not None:
            alive, ready = probe_checks(self._app)
            probes = ProbeServer(settings.host, settings.probe_port, alive=alive, ready=ready).start()
        # The process's GIL switch interval (TXC_SWITCH_INTERVAL_MS), for this server's life only.
        previous = sys.getswitchinterval()
        sys.setswitchinterval(settings.switch_interval_ms / 1000.0)
        try:
            await super().serve(sockets)
        finally:
            sys.setswitchinterval(previous)
            if probes is not None:
                probes.stop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._loop is None or self._drain is not None or self.should_exit:
            super().handle_exit(sig, frame)  # second signal, or not serving yet: stop now
            return
        # Signal handlers run between bytecodes of the loop's thread, inside whatever request's context
        # was current: hand over to the loop, in an empty context, so the drain's log lines carry no
        # other request's id.
        self._loop.call_soon_threadsafe(self._start_drain, context=contextvars.Context())

    def _start_drain(self) -> None:
        if self._drain is None:
            runtime_of(self._app).begin_drain()
            self._drain = asyncio.ensure_future(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        runtime = runtime_of(self._app)
        await runtime.drain()
        # What is left of the grace period bounds uvicorn's own wait for open connections.
        self.config.timeout_graceful_shutdown = max(1, math.ceil(runtime.grace_left_s()))
        self.should_exit = True
