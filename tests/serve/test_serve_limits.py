"""The limits: a slow, idle, oversized or surplus client is cut off without slowing the others; tokens; draining."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from helpers import DEFAULT_MODEL
from edge_predict.serve import Limits, ModelSlot
from helpers import oip
from helpers.oip import tensor

FAST = Limits(max_body_bytes=1000, max_connections=4, idle_timeout=0.5, header_timeout=0.5, body_timeout=0.5, grace=5)
HEALTH = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def slot():
    return ModelSlot.from_path(DEFAULT_MODEL)


@pytest.fixture
def server(slot):
    with oip.running(slot, FAST) as server:
        yield server


def _connect(server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return sock


def _closed_after(sock: socket.socket) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and how long that took."""
    start, chunks = time.monotonic(), []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - start


def _health_ms(server) -> float:
    start = time.monotonic()
    assert oip.request(server.port, "GET", "/v2/health/live")[0] == 200
    return (time.monotonic() - start) * 1000


def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_deadline_others_are_served(server):
    sock = _connect(server)
    sent, start = 0, time.monotonic()
    head = b"GET /v2/health/live HTTP/1.1\r\n" + b"X-Slow: " + b"y" * 100
    try:
        while time.monotonic() - start < 3:  # a byte every 50 ms: each read is quick, the whole is not
            sock.sendall(head[sent : sent + 1])
            sent += 1
            assert _health_ms(server) < 1000  # a loaded CI host, not the trickle, is what could slow it
            time.sleep(0.05)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert time.monotonic() - start < 2  # cut off near header_timeout (0.5 s), not after 3 s of trickling


def test_a_body_that_does_not_arrive_is_answered_408_and_closed(server):
    sock = _connect(server)
    sock.sendall(b"POST /v2/models/default/infer HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
    answer, took = _closed_after(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {"error": "the request body took too long to arrive"}
    assert 0.3 < took < 2


def test_an_idle_keep_alive_connection_is_closed_after_idle_timeout(server):
    sock = _connect(server)
    sock.sendall(HEALTH)
    answer, took = _closed_after(sock)
    assert answer.startswith(b"HTTP/1.1 200 ") and b'{"live":true}' in answer
    assert 0.3 < took < 2


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-100-continue"])
def test_an_oversized_body_is_refused_413_unread(server, expect):
    head = b"POST /v2/models/default/infer HTTP/1.1\r\nContent-Length: 1001\r\n"
    answer = oip.raw(server.port, head + (b"Expect: 100-continue\r\n" if expect else b"") + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 413 ")  # never "100 Continue" first
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "error": "the body has 1001 bytes, more than this server's limit of 1000 (--max-body-bytes): send fewer rows "
        "per request"
    }


def test_past_max_connections_a_new_connection_is_answered_503(server):
    held = [_connect(server) for _ in range(FAST.max_connections)]
    for sock in held:  # each has its handler thread now
        sock.sendall(b"GET /v2/health/live HTTP/1.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    answer = oip.raw(server.port, HEALTH)
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"].startswith("the server is busy")
    held.pop().close()
    time.sleep(0.2)
    assert oip.request(server.port, "GET", "/v2/health/live")[0] == 200


@pytest.fixture
def token_server(slot):
    with oip.running(slot, FAST, token=b"s3cret-token-0123456789") as server:
        yield server


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "s3cret-token-0123456789"}, 401),
        ({"Authorization": "Bearer s3cret-token-0123456789"}, 200),
    ],
)
def test_with_a_token_model_endpoints_need_it(token_server, headers, status):
    got, response_headers, body = oip.request(token_server.port, "GET", "/v2/models/default", headers=headers)
    assert got == status
    if status == 401:
        assert response_headers["WWW-Authenticate"] == "Bearer"
        assert body == {"error": "missing or wrong bearer token: send the header 'Authorization: Bearer TOKEN'"}


def test_with_a_token_health_stays_open(token_server):
    assert oip.request(token_server.port, "GET", "/v2/health/ready")[::2] == (200, {"ready": True})


def test_stop_lets_a_request_in_flight_finish_and_closes_idle_connections(slot):
    with oip.running(slot, FAST) as server:
        idle = _connect(server)
        idle.sendall(HEALTH)
        assert idle.recv(65536).startswith(b"HTTP/1.1 200 ")
        busy = _connect(server)
        body = json.dumps({"inputs": [tensor("hours", [1, 7])]}).encode()
        busy.sendall(b"POST /v2/models/default/infer HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
        time.sleep(0.1)
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        time.sleep(0.1)
        assert idle.recv(65536) == b""  # closed at once, not after idle_timeout
        busy.sendall(body[5:])
        answer, _ = _closed_after(busy)
        assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer
        assert b'"data":["fail","pass"]' in answer
