"""What one client may take of the server: body size, connections, concurrent scoring, and time."""

from __future__ import annotations

import io
import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The bounds the server enforces; docs/serve.md gives the defaults and what a client sees past each."""

    max_body_bytes: int = 4 << 20  # 413 past this; a 1,000-row batch of 8 features is about 100 KB of JSON
    max_connections: int = 64  # open connections; past this a new one is answered 503 and closed
    max_scoring: int = 4  # requests decoded and scored at once; the others wait their turn
    idle_timeout: float = 60.0  # a keep-alive connection with no request for this long is closed
    header_timeout: float = 10.0  # from a request's first byte to the end of its headers
    body_timeout: float = 30.0  # to receive the body once the headers are in, and to send the answer
    grace: float = 30.0  # on stop, how long requests in flight may take to finish


class DeadlineReader(io.RawIOBase):
    """A socket's reads against a deadline for the whole request, not per read: a client sending one byte every few
    seconds (slowloris) is cut off when the deadline passes, however often it sends."""

    def __init__(self, sock: socket.socket, limits: Limits):
        self._sock = sock
        self._limits = limits
        self._deadline: float | None = None
        self.started = False  # the current request's first byte has arrived

    def next_request(self) -> None:
        """Wait up to idle_timeout for a request to begin; then its headers have header_timeout to arrive."""
        self._deadline = None
        self.started = False

    def body(self) -> None:
        """The headers are in: the body (and the answer) have body_timeout."""
        self._deadline = time.monotonic() + self._limits.body_timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._deadline is None:
            timeout = self._limits.idle_timeout
        else:
            timeout = self._deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError("the request took too long to arrive")
        self._sock.settimeout(timeout)
        n = self._sock.recv_into(buffer)
        if self._deadline is None and n:
            self._deadline = time.monotonic() + self._limits.header_timeout
            self.started = True
        return n
