"""The listening server: a thread per connection (the standard library's), bounded, reloadable, stopped gracefully."""

from __future__ import annotations

import ipaddress
import socket
import socketserver
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Callable

from edge_predict.errors import EdgePredictError
from edge_predict.serve.handler import Handler
from edge_predict.serve.limits import Limits
from edge_predict.serve.slot import ModelSlot

_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"


def is_loopback(host: str) -> bool:
    """True if every address `host` resolves to is a loopback one (127.0.0.0/8, ::1)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


class Server(ThreadingHTTPServer):
    """Serves one ModelSlot over HTTP. Build it with Server.listen; run it with serve(); stop() from any thread."""

    daemon_threads = True
    request_queue_size = 128  # the listen backlog: socketserver's 5 drops connections when 32 clients start at once
    block_on_close = False  # stop() waits for requests in flight itself, and only for `grace` seconds

    def __init__(
        self, address, family: int, slot: ModelSlot, limits: Limits, token: bytes | None, log: Callable[[str], None]
    ):
        self.address_family = family  # TCPServer.__init__ makes its socket of this family and binds it
        self.slot, self.limits, self.token, self.log = slot, limits, token, log
        self.scoring = threading.BoundedSemaphore(limits.max_scoring)
        self.stopping = False
        self._connections: set[Handler] = set()
        self._starting = 0  # connections accepted whose handler has not registered yet
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        super().__init__(address, Handler)

    @classmethod
    def listen(
        cls,
        host: str,
        port: int,
        slot: ModelSlot,
        *,
        limits: Limits = Limits(),
        token: bytes | None = None,
        log: Callable[[str], None] = lambda line: None,
    ) -> "Server":
        """Bind host:port (port 0: any free port, see .port); EdgePredictError if the address cannot be had."""
        try:
            family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
            return cls((host, port), family, slot, limits, token, log)
        except (OSError, UnicodeError, OverflowError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise EdgePredictError(f"cannot listen on {host}:{port}: {reason}") from None

    def server_bind(self) -> None:
        """Bind, without HTTPServer's reverse DNS lookup of the address (socket.getfqdn), which stalls a device
        whose network has no DNS; server_name is only used in CGI variables."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def port(self) -> int:
        return self.server_address[1]

    # -- connections ------------------------------------------------------------------------
    def process_request(self, request, client_address) -> None:
        """A thread for the connection, unless max_connections are open: then 503 at once, and closed."""
        with self._lock:
            full = len(self._connections) + self._starting >= self.limits.max_connections or self.stopping
            if not full:
                self._starting += 1
        if full:
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request: socket.socket) -> None:
        body = b'{"error":"the server is busy (too many connections, or stopping); try again shortly"}'
        try:
            request.settimeout(1.0)
            request.sendall(_BUSY + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def opened(self, handler: Handler) -> None:
        with self._lock:
            self._starting -= 1
            self._connections.add(handler)

    def closed(self, handler: Handler) -> None:
        with self._changed:
            self._connections.discard(handler)
            self._changed.notify_all()

    def handle_error(self, request, client_address) -> None:
        """An error no handler caught (a connection reset mid-answer): one line in the log, never a traceback."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            self.log(f"unexpected {type(exc).__name__} on a connection: {exc} (a bug; please report it)")

    # -- model updates ----------------------------------------------------------------------
    def reload(self) -> bool:
        """Load the model file again and serve it if it passes every check; else keep the old one. Logs one line."""
        old = self.slot.current
        try:
            new = self.slot.reload()
        except EdgePredictError as exc:
            self.log(f"reload failed, still serving version {old.version} (sha256 {old.predictor.sha256}): {exc}")
            return False
        except MemoryError:
            self.log(f"reload failed, still serving version {old.version}: out of memory loading the new model")
            return False
        self.log(f"reloaded {new.predictor.source}: now serving version {new.version} (sha256 {new.predictor.sha256})")
        return True

    # -- running and stopping ---------------------------------------------------------------
    def serve(self) -> None:
        """Serve until stop() (or KeyboardInterrupt, re-raised), then let requests in flight finish."""
        try:
            self.serve_forever(poll_interval=0.2)
        finally:
            self._drain()

    def stop(self) -> None:
        """Stop accepting and let serve() return once requests in flight finish; safe from a signal handler."""
        self.stopping = True
        threading.Thread(target=self.shutdown, daemon=True).start()  # shutdown() waits for serve_forever's loop

    def _drain(self) -> None:
        self.stopping = True
        self.socket.close()  # no new connections, even before serve_forever's loop notices
        deadline = time.monotonic() + self.limits.grace
        with self._changed:
            while True:
                self._close_idle()
                busy = list(self._connections)
                if not busy or time.monotonic() >= deadline:
                    break
                self._changed.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        if busy:
            self.log(f"stopped with {len(busy)} requests unfinished after {self.limits.grace:g} s")

    def _close_idle(self) -> None:
        """Wake the connections waiting for a next request: they end instead of waiting idle_timeout."""
        for handler in self._connections:
            if not handler.reader.started:
                try:
                    handler.request.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
