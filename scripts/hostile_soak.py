"""Hostile soak: the worst *legal* load of hardening wave 2, replayed against one real server.

Each attack is bounded in count and time and targets 127.0.0.1 only. While an attack runs, a probe
thread asks ``/readyz`` every 50 ms on a fresh connection (as the kubelet does); after it, the script
prints the server's RSS (before, peak, after), open fds, status counts, probe latency (p50/p99/max;
on the probe port, ``TXC_PROBE_PORT``, as the chart probes, and on the main port for comparison)
and, where model work is involved, goodput: the share of model time spent on requests that
succeeded (from ``txclassify_model_seconds_total``).

Attacks (``--attacks``, default all, in this order):
- ``worst``: 32 concurrent requests of 5,000 distinct 512-character texts (ASCII, CJK, emoji; ~4 MB
  bodies; top_k 16), repeated ``--rounds`` times: memory and probes (findings 1 and 4);
- ``goodput``: closed-loop capacity with 1,000-item long-text requests, then 3x that offered open-loop
  for ``--duration`` s: status counts, Retry-After on every 429, goodput (finding 2);
- ``trickle``: 32 uploads trickling at 100 B/s while 30 normal requests are sent (finding 3);
- ``no_read``: 100 clients that send a big-response request and never read (finding 5);
- ``refusal``: 10 x a 4 MB body sent urllib-style (whole body before reading) while the memory
  budget is held: every one must read its 429 (finding 6);
- ``slowloris``: 300 connections sending headers a byte at a time plus 200 silent ones (finding 7).

Usage (repository root)::

    .venv/bin/python scripts/hostile_soak.py                       # default bundle, default settings
    .venv/bin/python scripts/hostile_soak.py --attacks worst,goodput --rounds 1 --duration 30
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: make ``scripts`` importable
    sys.path.insert(0, str(REPO_ROOT))

from scripts.overload_soak import (  # noqa: E402
    LOOPBACK,
    RawClient,
    _free_port,
    _start_server,
    percentile,
    resident_memory_bytes,
)

__all__ = ["AttackReport", "ProbeWatch", "main", "worst_body"]

_MIB = 2**20
_CJK = [chr(code) for code in range(0x4E00, 0x4E00 + 2_000)]
_EMOJI = [chr(code) for code in range(0x1F600, 0x1F650)]
_WORDS = ("POS", "CARD", "PURCHASE", "TESCO", "STORES", "LONDON", "REF", "SEPA", "UBER", "TRIP", "AMZN")


def worst_body(items: int = 5_000, chars: int = 512, top_k: int = 16, seed: int = 0) -> bytes:
    """A legal request at the limits: ``items`` distinct texts of ``chars`` characters, each mostly
    ASCII words with 60 CJK characters and 30 emoji (~4 MB for 5,000 x 512)."""
    rng = random.Random(seed)
    transactions = []
    for i in range(items):
        words: list[str] = []
        while sum(len(word) + 1 for word in words) < chars - 90:
            words.append(rng.choice(_WORDS) if rng.random() < 0.6 else str(rng.randrange(10**5)))
        ascii_part = " ".join(words)[: chars - 90 - 8]
        tail = "".join(rng.choice(_CJK) for _ in range(60)) + "".join(rng.choice(_EMOJI) for _ in range(30))
        text = f"{i:07d} {ascii_part} {tail}"
        text = (text + " " + "X" * chars)[:chars]
        transactions.append({"id": str(i), "text": text})
    return json.dumps({"top_k": top_k, "transactions": transactions}, ensure_ascii=False).encode()


# -- measuring ------------------------------------------------------------------------------------------


class ProbeWatch:
    """``GET /readyz`` every ``interval_s`` on a new connection, in its own thread; latencies in s
    (a failed or non-200 probe counts as ``timeout_s``)."""

    def __init__(self, base_url: str, interval_s: float = 0.05, timeout_s: float = 5.0) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or LOOPBACK, parts.port or 80
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)

    def __enter__(self) -> ProbeWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
                connection.request("GET", "/readyz")
                ok = connection.getresponse().status == 200
                connection.close()
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            if not ok:
                self.failures += 1
                elapsed = max(elapsed, self._timeout_s)
            self.latencies.append(elapsed)
            self._stop.wait(max(0.0, self._interval_s - elapsed))

    def summary(self) -> str:
        values = sorted(self.latencies)
        if not values:
            return "probes: none"
        return (
            f"probes {len(values)}: p50 {percentile(values, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms, "
            f"failed {self.failures}"
        )


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class AttackReport:
    name: str
    statuses: Counter[str] = field(default_factory=Counter)
    rss_before: int = 0
    rss_peak: int = 0
    rss_after: int = 0
    fds_before: int = 0
    fds_peak: int = 0
    fds_after: int = 0
    probes: str = ""
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"[{self.name}] statuses {dict(sorted(self.statuses.items()))}; "
            f"RSS {self.rss_before / _MIB:.0f} -> "
            f"peak {self.rss_peak / _MIB:.0f} -> {self.rss_after / _MIB:.0f} MiB; fds {self.fds_before} -> "
            f"peak {self.fds_peak} -> {self.fds_after}; {self.probes}"
            + "".join(f"\n    {note}" for note in self.notes)
        )


#: The probe listener's URL (set by ``main``): probes go there, as the chart's kubelet probes do.
PROBE_URL: str | None = None


@contextmanager
def watched(name: str, base_url: str, pid: int) -> Iterator[AttackReport]:
    """Measure RSS, fds and probes (probe port and main port) around one attack."""
    report = AttackReport(name)
    report.rss_before = report.rss_peak = resident_memory_bytes(pid)
    report.fds_before = report.fds_peak = open_fds(pid)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            try:
                report.rss_peak = max(report.rss_peak, resident_memory_bytes(pid))
                report.fds_peak = max(report.fds_peak, open_fds(pid))
            except (OSError, RuntimeError):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with ProbeWatch(PROBE_URL or base_url) as probes, ProbeWatch(base_url, interval_s=0.2) as main_port:
        try:
            yield report
        finally:
            stop.set()
            sampler.join()
    report.probes = f"probe port {probes.summary()}; main port {main_port.summary()}"
    report.rss_after = resident_memory_bytes(pid)
    report.fds_after = open_fds(pid)


def scrape(base_url: str) -> str:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:
        text: str = response.read().decode()
        return text


def model_seconds(exposition: str) -> dict[str, float]:
    """``txclassify_model_seconds_total`` by outcome."""
    totals: dict[str, float] = {}
    for line in exposition.splitlines():
        if line.startswith("txclassify_model_seconds_total{"):
            labels, _, value = line.partition("} ")
            outcome = labels.split('outcome="', 1)[1].split('"', 1)[0]
            totals[outcome] = totals.get(outcome, 0.0) + float(value)
    return totals


def goodput_note(before: str, after: str) -> str:
    start, end = model_seconds(before), model_seconds(after)
    spent = {key: end.get(key, 0.0) - start.get(key, 0.0) for key in set(start) | set(end)}
    total = sum(spent.values())
    if total <= 0:
        return "goodput: no model time recorded"
    shares = ", ".join(f"{key} {value:.1f} s" for key, value in sorted(spent.items()))
    return f"goodput {spent.get('ok', 0.0) / total:.1%} of {total:.1f} s model time ({shares})"


# -- attacks ------------------------------------------------------------------------------------------


async def _post_all(base_url: str, bodies: Sequence[bytes], report: AttackReport) -> None:
    async def one(body: bytes) -> None:
        client = RawClient(base_url)
        try:
            status, headers, _ = await client.post_json("/v1/classify", body)
            report.statuses[str(status)] += 1
            if status == 429 and not headers.get("retry-after", "").isdigit():
                report.statuses["429 without Retry-After"] += 1
        except (OSError, asyncio.IncompleteReadError) as error:
            report.statuses[type(error).__name__] += 1
        finally:
            await client.aclose()

    await asyncio.gather(*(one(body) for body in bodies))


def attack_worst(base_url: str, pid: int, *, clients: int, rounds: int) -> AttackReport:
    bodies = [worst_body(seed=seed) for seed in range(clients)]
    before = scrape(base_url)
    with watched("worst", base_url, pid) as report:
        for _ in range(rounds):
            asyncio.run(_post_all(base_url, bodies, report))
    report.notes.append(f"bodies {len(bodies[0]) / 1e6:.2f} MB each, {clients} at once, {rounds} round(s)")
    report.notes.append(goodput_note(before, scrape(base_url)))
    return report


def _long_request(seed: int, items: int) -> bytes:
    return worst_body(items=items, chars=512, top_k=3, seed=1_000 + seed)


async def _closed_loop_rate(base_url: str, bodies: Sequence[bytes], seconds: float) -> float:
    done = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def worker(offset: int) -> None:
        nonlocal done
        client = RawClient(base_url)
        i = offset
        try:
            while time.monotonic() < deadline:
                status, _, _ = await client.post_json("/v1/classify", bodies[i % len(bodies)])
                i += 4
                if status == 200:
                    done += 1
        finally:
            await client.aclose()

    await asyncio.gather(*(worker(i) for i in range(4)))
    return done / (time.monotonic() - started)


async def _open_loop(
    base_url: str, bodies: Sequence[bytes], rate: float, seconds: float, report: AttackReport
) -> None:
    tasks: list[asyncio.Task[None]] = []
    started = time.monotonic()
    count = int(rate * seconds)
    for i in range(count):
        due = started + i / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(_post_all(base_url, [bodies[i % len(bodies)]], report)))
    await asyncio.gather(*tasks)


def attack_goodput(base_url: str, pid: int, *, duration_s: float, items: int, factor: float) -> AttackReport:
    warm = [_long_request(seed, items) for seed in range(32)]
    capacity = asyncio.run(_closed_loop_rate(base_url, warm, seconds=min(20.0, duration_s)))
    rate = max(capacity * factor, 0.5)
    # Texts never seen by the capacity phase: a cache hit would be an answer without model work.
    bodies = [_long_request(1_000 + seed, items) for seed in range(int(rate * duration_s) + 1)]
    before = scrape(base_url)
    with watched("goodput", base_url, pid) as report:
        asyncio.run(_open_loop(base_url, bodies, rate, duration_s, report))
    report.notes.append(
        f"capacity {capacity:.2f} req/s closed-loop ({items} long texts each), offered {rate:.2f} req/s "
        f"for {duration_s:.0f} s"
    )
    report.notes.append(goodput_note(before, scrape(base_url)))
    return report


def _connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname or LOOPBACK, parts.port or 80), timeout=30)


def _head(length: int) -> bytes:
    return (
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


def attack_trickle(base_url: str, pid: int, *, uploads: int = 32, normal: int = 30) -> AttackReport:
    transactions = [{"id": str(i), "text": f"TESCO STORE {i}"} for i in range(200)]
    body = json.dumps({"transactions": transactions}).encode()
    stop = threading.Event()
    answers: Counter[str] = Counter()

    def trickle() -> None:
        with _connect(base_url) as connection:
            connection.sendall(_head(len(body)))
            sent = 0
            while sent < len(body) and not stop.is_set():
                try:
                    connection.sendall(body[sent : sent + 10])
                except OSError:
                    break
                sent += 10
                stop.wait(0.1)  # the attack: 100 bytes per second
            connection.settimeout(30)
            try:
                answers[connection.recv(12).decode("latin-1")[9:12] or "closed"] += 1
            except OSError as error:
                answers[type(error).__name__] += 1

    with watched("trickle", base_url, pid) as report:
        threads = [threading.Thread(target=trickle, daemon=True) for _ in range(uploads)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # the uploads are under way
        small = json.dumps({"transactions": [{"id": "a", "text": "TESCO STORES"}]}).encode()
        asyncio.run(_post_all(base_url, [small] * normal, report))
        for thread in threads:
            thread.join(timeout=60)
        stop.set()
    report.notes.append(f"{uploads} trickling uploads at 100 B/s were answered: {dict(answers)}")
    return report


def attack_no_read(base_url: str, pid: int, *, clients: int = 100) -> AttackReport:
    body = worst_body(items=5_000, chars=40, top_k=16, seed=7)
    with watched("no_read", base_url, pid) as report:
        held = []
        for _ in range(clients):
            connection = _connect(base_url)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            connection.sendall(_head(len(body)) + body)
            held.append(connection)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and open_fds(pid) > report.fds_before + 2:
            time.sleep(0.5)
        report.notes.append(f"fds back to {open_fds(pid)} after {90 - (deadline - time.monotonic()):.0f} s")
        for connection in held:
            connection.close()
    return report


def attack_refusal(base_url: str, pid: int, *, posts: int = 10) -> AttackReport:
    body = b'{"transactions": [' + b",".join(b'{"id": "%d", "text": "TESCO"}' % i for i in range(2)) + b"]}"
    big = body + b" " * (4 * 1024 * 1024 - len(body) - 16)
    holders = []
    with watched("refusal", base_url, pid) as report:
        for _ in range(64):  # declare largest bodies and send none of them: the budget fills up
            connection = _connect(base_url)
            connection.sendall(_head(4 * 1024 * 1024 - 16) + b"{")
            holders.append(connection)
        for _ in range(posts):
            request = urllib.request.Request(
                f"{base_url}/v1/classify",
                data=big,
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    report.statuses[str(response.status)] += 1
            except urllib.error.HTTPError as error:
                report.statuses[f"{error.code} Retry-After={error.headers.get('Retry-After')}"] += 1
            except OSError as error:
                report.statuses[type(error).__name__] += 1
        for connection in holders:
            connection.close()
    return report


def attack_slowloris(base_url: str, pid: int, *, slow: int = 300, silent: int = 200) -> AttackReport:
    with watched("slowloris", base_url, pid) as report:
        slow_connections = [_connect(base_url) for _ in range(slow)]
        silent_connections = [_connect(base_url) for _ in range(silent)]
        head = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1_000
        started = time.monotonic()
        position = 0
        while time.monotonic() - started < 30 and position < len(head):
            for connection in slow_connections:
                with suppress(OSError):
                    connection.send(head[position : position + 1])
            position += 1
            time.sleep(0.2)
        report.fds_peak = max(report.fds_peak, open_fds(pid))
        report.notes.append(f"server fds after 30 s of slowloris: {open_fds(pid)}")
        for connection in slow_connections + silent_connections:
            connection.close()
    return report


ATTACKS: dict[str, Callable[[argparse.Namespace, str, int], AttackReport]] = {
    "worst": lambda args, url, pid: attack_worst(url, pid, clients=args.clients, rounds=args.rounds),
    "goodput": lambda args, url, pid: attack_goodput(
        url, pid, duration_s=args.duration, items=args.goodput_items, factor=args.factor
    ),
    "trickle": lambda args, url, pid: attack_trickle(url, pid),
    "no_read": lambda args, url, pid: attack_no_read(url, pid),
    "refusal": lambda args, url, pid: attack_refusal(url, pid),
    "slowloris": lambda args, url, pid: attack_slowloris(url, pid),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=Path, default=None, help="bundle (default: models/index.json)")
    parser.add_argument(
        "--attacks", default=",".join(ATTACKS), help="comma-separated, from: " + ", ".join(ATTACKS)
    )
    parser.add_argument("--clients", type=int, default=32, help="worst: concurrent requests")
    parser.add_argument("--rounds", type=int, default=2, help="worst: waves of --clients requests")
    parser.add_argument("--duration", type=float, default=60.0, help="goodput: seconds of open-loop load")
    parser.add_argument("--goodput-items", type=int, default=1_000, help="goodput: long texts per request")
    parser.add_argument("--factor", type=float, default=3.0, help="goodput: offered load / capacity")
    parser.add_argument("--env", action="append", default=[], metavar="TXC_NAME=VALUE", help="server setting")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.attacks.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in ATTACKS]
    if unknown:
        parser.error(f"unknown attacks {unknown}")
    env = dict(item.split("=", 1) for item in args.env)
    if args.model_dir is not None:
        env["TXC_MODEL_DIR"] = str(args.model_dir)
    env.setdefault("TXC_LOG_LEVEL", "warning")
    global PROBE_URL
    probe_port = _free_port()
    env.setdefault("TXC_PROBE_PORT", str(probe_port))
    PROBE_URL = f"http://{LOOPBACK}:{env['TXC_PROBE_PORT']}"
    with tempfile.TemporaryDirectory() as scratch:
        process, base_url = _start_server(env, Path(scratch) / "server.log")
        try:
            rss = resident_memory_bytes(process.pid) / _MIB
            print(f"server pid {process.pid} at {base_url}; RSS {rss:.0f} MiB", flush=True)
            for name in chosen:
                report = ATTACKS[name](args, base_url, process.pid)
                print(report.line(), flush=True)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
