"""Memory bounded by construction: a byte budget for requests in flight, and giving freed heap back.

A legal request can cost tens of MiB (a 4 MB body of 5,000 long texts: the body, its parsed objects,
token ids, the response), and 32 of them at once took 2.7 GiB (docs/hardening.md, wave 2). The
``MemoryBudget`` admits a request only while the sum of its estimated cost and everyone else's fits,
so the peak is set by configuration, not by traffic. The estimate is taken from the body's size before
a byte of it is stored (``estimate_request_bytes``), which is an upper bound because every later
allocation of a request grows with its body.

glibc keeps freed memory in its arenas: after the wave-2 load RSS stayed at 2.6 GiB with little live,
and ``malloc_trim(0)`` brought it to 405 MiB. ``HeapTrimmer`` calls it once a large amount of budget has
been released and the service is quiet; ``MALLOC_ARENA_MAX=2`` (set by the chart and the image) keeps
worker threads from spreading the heap over many arenas in the first place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import threading
import time
from collections.abc import Callable

__all__ = ["HeapTrimmer", "MemoryBudget", "estimate_request_bytes", "trim_heap"]

logger = logging.getLogger("txclassify.memory")
_MIB = 2**20


def estimate_request_bytes(body_bytes: int, factor: float, floor_bytes: int = 256 * 1024) -> int:
    """Bytes a request with a body of ``body_bytes`` may hold at its peak: ``factor`` x the body (the
    body itself, parsed objects, token ids and the response), never less than ``floor_bytes``."""
    return max(floor_bytes, math.ceil(body_bytes * factor))


class MemoryBudget:
    """Bytes reserved by requests in flight, at most ``limit_bytes`` in all. Not thread-safe: one event
    loop owns it. A reservation larger than the whole budget is refused too (the caller answers 413
    or 429; it can never fit)."""

    def __init__(self, limit_bytes: int) -> None:
        if limit_bytes <= 0:
            raise ValueError("the memory budget must be positive")
        self.limit_bytes = limit_bytes
        self.reserved_bytes = 0
        self.peak_bytes = 0

    def try_reserve(self, nbytes: int) -> bool:
        """Reserve ``nbytes`` if they fit; False (and nothing reserved) otherwise."""
        if nbytes < 0:
            raise ValueError("a reservation cannot be negative")
        if self.reserved_bytes + nbytes > self.limit_bytes:
            return False
        self.reserved_bytes += nbytes
        self.peak_bytes = max(self.peak_bytes, self.reserved_bytes)
        return True

    def release(self, nbytes: int) -> None:
        if nbytes < 0 or nbytes > self.reserved_bytes:
            raise RuntimeError(f"releasing {nbytes} of {self.reserved_bytes} reserved bytes; this is a bug")
        self.reserved_bytes -= nbytes


def _load_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
    function.argtypes = [ctypes.c_size_t]
    function.restype = ctypes.c_int
    trim: Callable[[int], int] = function
    return trim


_MALLOC_TRIM = _load_malloc_trim()


def trim_heap() -> bool:
    """Return freed heap pages to the OS (glibc ``malloc_trim(0)``); False where there is no glibc."""
    if _MALLOC_TRIM is None:
        return False
    _MALLOC_TRIM(0)
    return True


class HeapTrimmer:
    """Trims the heap in a background thread after ``threshold_bytes`` of budget were released, once
    the budget is nearly idle (at most ``idle_fraction`` reserved) and at most every ``min_interval_s``.

    Trimming walks the heap (a few ms per 100 MiB) in its own thread, so the event loop never waits.
    """

    def __init__(
        self,
        budget: MemoryBudget,
        *,
        threshold_bytes: int = 64 * _MIB,
        idle_fraction: float = 0.25,
        min_interval_s: float = 1.0,
        trim: Callable[[], bool] = trim_heap,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._budget = budget
        self._threshold = threshold_bytes
        self._idle_fraction = idle_fraction
        self._min_interval_s = min_interval_s
        self._trim = trim
        self._clock = clock
        self._released_since_trim = 0
        self._last_trim = -math.inf
        self._running = threading.Event()
        self.trims = 0

    def released(self, nbytes: int) -> None:
        """Call after ``budget.release(nbytes)``; may start a trim."""
        self._released_since_trim += nbytes
        if (
            self._released_since_trim < self._threshold
            or self._budget.reserved_bytes > self._idle_fraction * self._budget.limit_bytes
            or self._clock() - self._last_trim < self._min_interval_s
            or self._running.is_set()
        ):
            return
        self._released_since_trim = 0
        self._last_trim = self._clock()
        self._running.set()
        threading.Thread(target=self._run, name="txc-heap-trim", daemon=True).start()

    def _run(self) -> None:
        try:
            self._trim()
            self.trims += 1
        except Exception:  # pragma: no cover - trimming is an optimisation; never fail a request for it
            logger.exception("heap trim failed")
        finally:
            self._running.clear()
