"""Limits that only a real HTTP server shows: oversized bodies refused without being read whole, huge
headers refused, over raw sockets against ``txclassify serve``.

The in-process catalogue (test_bad_input.py) skips uvicorn's parser; these go through it byte by byte.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.server import HOST, ServerProcess

LIMIT = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"TXC_MODEL_DIR": str(tiny_bundle), "TXC_INTRA_OP_THREADS": "1", "TXC_MAX_BODY_BYTES": str(LIMIT)}
    with ServerProcess(env, tmp_path_factory.mktemp("protocol")) as running:
        running.wait_ready()
        yield running


def _connect(server: ServerProcess) -> socket.socket:
    connection = socket.create_connection((HOST, server.port), timeout=10)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHUNK)
    return connection


def _read_response(connection: socket.socket) -> tuple[int, str]:
    """Status and the whole response text (the server closes or sends Content-Length bytes)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    status = int(head.split(b" ")[1]) if head.startswith(b"HTTP/1.1") else 0
    return status, (head + b"\r\n\r\n" + body).decode("latin-1")


def _send_until_answered(connection: socket.socket, chunks: Iterator[bytes]) -> int:
    """Send chunks until the server starts answering (or the stream ends); returns bytes sent."""
    sent = 0
    for chunk in chunks:
        readable, _, _ = select.select([connection], [], [], 0)
        if readable:
            break
        try:
            connection.sendall(chunk)
        except OSError:  # the server answered and closed while we were still sending
            break
        sent += len(chunk)
    return sent


def _assert_still_serving(server: ServerProcess) -> None:
    assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    body = {"transactions": [{"id": "a", "text": "TESCO STORES"}]}
    assert httpx.post(f"{server.base_url}/v1/classify", json=body, timeout=30).status_code == 200


def test_declared_oversized_body_is_refused_before_any_of_it_is_read(server: ServerProcess) -> None:
    with _connect(server) as connection:
        connection.sendall(
            b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % (64 * LIMIT)
        )
        readable, _, _ = select.select([connection], [], [], 10)
        assert readable, "no answer to the headers alone: the server waits for a 64 MiB body"
        status, response = _read_response(connection)
    assert status == 413, response
    assert f"{LIMIT}" in response, response
    _assert_still_serving(server)


def test_streamed_oversized_body_is_refused_once_past_the_limit(server: ServerProcess) -> None:
    """Chunked upload with no length: the server stops reading soon after the limit, and says why."""

    def chunked() -> Iterator[bytes]:
        yield b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        yield b"Transfer-Encoding: chunked\r\n\r\n"
        for _ in range(64 * LIMIT // CHUNK):
            yield b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n"

    with _connect(server) as connection:
        sent = _send_until_answered(connection, chunked())
        status, response = _read_response(connection)
    assert status == 413, response
    # Socket buffers on both sides hold a few MiB that the server never had to read.
    assert sent < 16 * LIMIT, f"{sent} bytes went out before the refusal; the limit is {LIMIT}"
    _assert_still_serving(server)


@pytest.mark.parametrize("size", [36 * 1024, 64 * 1024, 1024 * 1024])
def test_huge_header_is_refused_with_a_reason(server: ServerProcess, size: int) -> None:
    """Just over the limit, the app names the header; far over it, the protocol stops reading soon after
    the limit and answers from what it has (httptools alone read a 50 MB header whole)."""
    piece = 4 * 1024
    with _connect(server) as connection:
        sent = _send_until_answered(
            connection,
            iter(
                [
                    b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Client-Id: ",
                    *[b"c" * piece for _ in range(size // piece)],
                    b"\r\n\r\n",
                ]
            ),
        )
        status, response = _read_response(connection)
    assert status == 431, f"{sent} bytes sent: {response[:500]}"
    assert "headers_too_large" in response, response[:500]
    if size < 40 * 1024:
        assert "x-client-id" in response.lower(), response[:500]
    else:
        assert "32768" in response, response[:500]
        assert sent < 512 * 1024, f"{sent} header bytes went out before the refusal"
    _assert_still_serving(server)
