"""Slow and silent clients against a real ``txclassify serve`` (findings 3, 5, 6 and 7 of wave 2).

One server with short limits (1-2 s timeouts, 2 requests in progress, 24 connections, a 16 MiB
memory budget) so each attack resolves in seconds. Trickling is the attack itself (bytes paced on
purpose); the tests wait on the server's answers, its closed sockets and its metrics, never on a
fixed sleep.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.hardening.metrics import metric_sum
from tests.hardening.server import HOST, ServerProcess, poll_until

HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 2.0
WRITE_TIMEOUT_S = 1.0
MAX_CONNECTIONS = 24
BODY_LIMIT = 1024 * 1024


@pytest.fixture(scope="module")
def server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {
        "TXC_MODEL_DIR": str(tiny_bundle),
        "TXC_INTRA_OP_THREADS": "1",
        "TXC_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "TXC_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S),
        "TXC_WRITE_TIMEOUT_S": str(WRITE_TIMEOUT_S),
        "TXC_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "TXC_MAX_CONCURRENT_REQUESTS": "2",
        "TXC_MAX_BODY_BYTES": str(BODY_LIMIT),
        "TXC_MEMORY_BUDGET_MB": "32",  # one largest request (1 MiB x 28) and a little more
        "TXC_CACHE_SIZE": "0",
    }
    with ServerProcess(env, tmp_path_factory.mktemp("slow-clients")) as running:
        running.wait_ready()
        yield running


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=10)


def _read_until_closed(connection: socket.socket, timeout_s: float) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``timeout_s``)."""
    connection.settimeout(timeout_s)
    data = b""
    while True:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _json_body(response: bytes) -> dict[str, object]:
    body: dict[str, object] = json.loads(response.partition(b"\r\n\r\n")[2])
    return body


def _classify_body(items: int, text: str = "TESCO STORES 3297 LONDON") -> bytes:
    transactions = [{"id": str(i), "text": f"{text} {i}"} for i in range(items)]
    return json.dumps({"transactions": transactions}).encode()


def _post_head(length: int) -> bytes:
    return (
        b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


def _open_connections(server: ServerProcess) -> int:
    return sum(
        1
        for connection in psutil.Process(server.pid).net_connections(kind="tcp")
        if connection.status == psutil.CONN_ESTABLISHED and connection.laddr.port == server.port
    )


def _assert_serving(server: ServerProcess) -> None:
    response = httpx.post(
        f"{server.base_url}/v1/classify",
        content=_classify_body(1),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_a_silent_connection_gets_408_after_the_header_timeout(server: ServerProcess) -> None:
    with _connect(server) as connection:
        started = time.monotonic()
        response = _read_until_closed(connection, timeout_s=10 * HEADER_TIMEOUT_S)
        waited = time.monotonic() - started
    assert _status(response) == 408, response
    assert _json_body(response)["error"]["code"] == "request_timeout"  # type: ignore[index]
    assert HEADER_TIMEOUT_S * 0.9 <= waited < HEADER_TIMEOUT_S + 3, waited


def test_slowloris_headers_are_cut_off_at_the_header_timeout(server: ServerProcess) -> None:
    """A byte every 100 ms kept uvicorn's connection open for good (each byte reset its idle timer)."""
    head = b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200
    started = time.monotonic()
    with _connect(server) as connection:
        for byte in head:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break  # the server closed on us
            time.sleep(0.1)  # the attack: headers at 10 bytes per second
            if time.monotonic() - started > HEADER_TIMEOUT_S + 3:
                break
        response = _read_until_closed(connection, timeout_s=5)
    assert _status(response) == 408, response
    assert time.monotonic() - started < HEADER_TIMEOUT_S + 3


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    with _connect(server) as connection:
        connection.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        response = _read_until_closed(connection, timeout_s=10 * HEADER_TIMEOUT_S)
    assert _status(response) == 200, response
    # The first response, then, with no next request, a 408 (the header timeout here is shorter than
    # the keep-alive timeout) and the close.
    assert response.count(b"HTTP/1.1 ") == 2, response
    assert b"HTTP/1.1 408" in response, response


def test_trickling_uploads_hold_no_request_slot_and_time_out(server: ServerProcess) -> None:
    """More trickling uploads than request slots: a normal request is still served, each trickler gets
    408 once the body timeout passes, and nothing was counted against the slots."""
    body = _classify_body(20)
    tricklers = [_connect(server) for _ in range(4)]
    try:
        for connection in tricklers:
            connection.sendall(_post_head(len(body)) + body[:10])
        _assert_serving(server)
        _assert_serving(server)
        answers = [_read_until_closed(connection, timeout_s=BODY_TIMEOUT_S + 5) for connection in tricklers]
    finally:
        for connection in tricklers:
            connection.close()
    assert [_status(answer) for answer in answers] == [408] * 4, answers
    exposition = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    assert metric_sum(exposition, "txclassify_rejected_total", reason="concurrency") == 0


def test_a_refusal_is_readable_by_a_client_that_sends_its_whole_body_first(server: ServerProcess) -> None:
    """With the memory budget held, urllib (which writes the whole body before it reads) gets the 429
    with Retry-After, where a refusal sent before the body was drained reset its connection."""
    holder = _connect(server)  # declares a largest body: its reservation fills most of the budget
    try:
        holder.sendall(_post_head(BODY_LIMIT) + b"{")

        def refused() -> urllib.error.HTTPError | None:
            request = urllib.request.Request(
                f"{server.base_url}/v1/classify",
                data=b" " * (BODY_LIMIT - 2) + b"{}",
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            try:
                urllib.request.urlopen(request, timeout=30).close()
            except urllib.error.HTTPError as error:
                return error
            return None

        errors = [refused() for _ in range(3)]
    finally:
        holder.close()
    for error in errors:
        assert error is not None, errors
        assert error.code == 429, errors
        assert error.headers["Retry-After"] == "1"
        assert json.loads(error.read())["error"]["code"] == "overloaded"
    _assert_serving(server)


def test_a_client_that_never_reads_is_disconnected_and_its_response_freed(server: ServerProcess) -> None:
    body = _classify_body(5_000, "A LONG NARRATION FOR A LARGE RESPONSE")
    body = body.replace(b'"transactions"', b'"top_k": 8, "transactions"', 1)
    baseline = _open_connections(server)
    connection = _connect(server)
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.sendall(_post_head(len(body)) + body)
        poll_until(
            lambda: True if _open_connections(server) <= baseline else None,
            timeout_s=60,
            what="the server to drop the connection of a client that reads nothing",
            interval_s=0.1,
        )
    finally:
        connection.close()
    _assert_serving(server)


def test_connections_past_the_bound_get_429_before_anything_is_read(server: ServerProcess) -> None:
    held: list[socket.socket] = []
    try:
        while len(held) < MAX_CONNECTIONS:
            held.append(_connect(server))
        poll_until(
            lambda: True if _open_connections(server) >= MAX_CONNECTIONS else None,
            timeout_s=10,
            what="the server to accept the held connections",
        )
        with _connect(server) as extra:
            response = _read_until_closed(extra, timeout_s=5)
    finally:
        for connection in held:
            connection.close()
    assert _status(response) == 429, response
    assert b"retry-after: 1" in response.lower()
    assert _json_body(response)["error"]["code"] == "too_many_connections"  # type: ignore[index]
    poll_until(
        lambda: True if _open_connections(server) < MAX_CONNECTIONS else None,
        timeout_s=10,
        what="the held connections to close",
    )
    _assert_serving(server)


@pytest.mark.parametrize(
    "request_bytes",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b"\x00\x01\x02\r\n\r\n"],
)
def test_malformed_http_gets_the_json_error_body(server: ServerProcess, request_bytes: bytes) -> None:
    with _connect(server) as connection:
        connection.sendall(request_bytes)
        response = _read_until_closed(connection, timeout_s=5)
    assert _status(response) == 400, response
    assert b"content-type: application/json" in response.lower(), response
    assert _json_body(response)["error"]["code"] == "bad_request"  # type: ignore[index]
