"""One HTTP connection: requests read against the limits, routed to the protocol, answered in JSON, never a traceback."""

from __future__ import annotations

import hmac
import io
import json
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from edge_predict import __version__
from edge_predict.errors import EdgePredictError, InputError
from edge_predict.serve import protocol
from edge_predict.serve.limits import DeadlineReader
from edge_predict.serve.protocol import RequestError

_MODEL_PATH = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?")


class Handler(BaseHTTPRequestHandler):
    """Serves the REST half of the Open Inference Protocol for the server's one model (self.server: a Server)."""

    protocol_version = "HTTP/1.1"  # keep-alive: a client sends request after request on one connection
    server_version = f"edge-predict/{__version__}"
    sys_version = ""  # no Python version in the Server header
    error_content_type = "application/json"

    def setup(self) -> None:
        self.reader = DeadlineReader(self.request, self.server.limits)
        self.server.opened(self)
        super().setup()
        self.rfile.close()
        self.rfile = io.BufferedReader(self.reader, 64 << 10)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self)

    def handle_one_request(self) -> None:
        self.reader.next_request()
        super().handle_one_request()
        if self.server.stopping:
            self.close_connection = True

    # -- routes ---------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        self.reader.body()  # the headers are in: the body and the answer have body_timeout from here
        try:
            status, body, headers = self._route(method, self.path.split("?", 1)[0])
        except RequestError as exc:
            status, body, headers = exc.status, _error(str(exc)), {}
        except TimeoutError:  # the body came too slowly (see Limits.body_timeout): answered, then closed
            self.close_connection = True
            status, body, headers = 408, _error("the request body took too long to arrive"), {}
        except ConnectionError:  # the client went away: nobody to answer
            self.close_connection = True
            return
        except InputError as exc:  # a bad row or value: the library's message, naming the sample and feature
            status, body, headers = 400, _error(str(exc)), {}
        except EdgePredictError as exc:  # the model computed something impossible for this input
            self.server.log(f"500 on {method} {self.path}: {exc}")
            status, body, headers = 500, _error(str(exc)), {}
        except MemoryError:
            status, body, headers = 503, _error("out of memory: send fewer rows per request"), {}
        except Exception as exc:  # a bug: one line in the log, no traceback to the client
            self.server.log(f"unexpected {type(exc).__name__} on {method} {self.path}: {exc} (a bug; please report it)")
            status, body, headers = 500, _error(f"unexpected {type(exc).__name__} (a bug in edge-predict serve)"), {}
        self._send(status, body, headers)

    def _route(self, method: str, path: str) -> tuple[int, bytes, dict]:
        if path in ("/v2/health/live", "/v2/health/ready", "/v2"):
            self._need(method, "GET")
            if path == "/v2":
                doc = {"name": "edge-predict", "version": __version__, "extensions": protocol.SERVER_EXTENSIONS}
                return 200, _json(doc), {}
            if path == "/v2/health/live":
                return 200, _json({"live": True}), {}
            ready = not self.server.stopping
            return (200 if ready else 503), _json({"ready": ready}), {}
        match = _MODEL_PATH.fullmatch(path)
        if match is None:
            raise RequestError(404, f"no endpoint {path}: see /v2/health/live, /v2/models/{{name}} and its /infer")
        self._authorize()
        served = self.server.slot.current  # this request finishes on this model, whatever a reload does meanwhile
        name, version, action = unquote(match.group(1)), match.group(2), match.group(3)
        if name != served.name or (version is not None and unquote(version) != served.version):
            wanted = f"{name!r} version {unquote(version)!r}" if version is not None else repr(name)
            raise RequestError(404, f"no model {wanted}: this server serves {served.name!r} version {served.version!r}")
        if action == "/infer":
            self._need(method, "POST")
            return self._infer(served)
        self._need(method, "GET")
        if action == "/ready":
            return 200, _json({"name": served.name, "ready": True}), {}
        return 200, served.metadata, {}

    def _infer(self, served) -> tuple[int, bytes, dict]:
        body = self._body()
        header_length = self._header_length(len(body))
        with self.server.scoring:  # bounded: decoding and scoring take memory and CPU, waiting takes neither
            header, binary = (body, b"") if header_length is None else (body[:header_length], body[header_length:])
            request = protocol.read_infer(header, binary, served.predictor)
            table = served.predictor.predict_table(request.X)
            answer, json_length = protocol.infer_response(table, request, served.name, served.version)
        if json_length is None:
            return 200, answer, {}
        return (
            200,
            answer,
            {"Inference-Header-Content-Length": str(json_length), "Content-Type": "application/octet-stream"},
        )

    # -- the request's parts ------------------------------------------------------------------
    def _need(self, method: str, allowed: str) -> None:
        if method != allowed:
            raise RequestError(405, f"{method} is not allowed here; use {allowed}")

    def _authorize(self) -> None:
        token = self.server.token
        if token is None:
            return
        given = (self.headers.get("Authorization") or "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, b"Bearer " + token):
            raise RequestError(401, "missing or wrong bearer token: send the header 'Authorization: Bearer TOKEN'")

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise RequestError(411, "chunked bodies are not accepted: send the body with a Content-Length")
        encoding = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        length = self._content_length()
        if length > self.server.limits.max_body_bytes:
            self.close_connection = True  # the body is left unread: nothing else can follow on this connection
            raise RequestError(
                413,
                f"the body has {length} bytes, more than this server's limit of {self.server.limits.max_body_bytes} "
                "(--max-body-bytes): send fewer rows per request",
            )
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away mid-body
            self.close_connection = True
            raise RequestError(400, f"the body ended after {len(body)} of its {length} bytes")
        if encoding != "identity":
            raise RequestError(415, f"Content-Encoding {encoding!r} is not accepted: send the body uncompressed")
        return body

    def _content_length(self) -> int:
        text = self.headers.get("Content-Length")
        if text is None:
            self.close_connection = True
            raise RequestError(411, "the request has no Content-Length: send the body with one")
        if not text.strip().isdigit():
            self.close_connection = True
            raise RequestError(400, f"Content-Length {text!r} is not a number of bytes")
        return int(text)

    def _header_length(self, total: int) -> int | None:
        text = self.headers.get("Inference-Header-Content-Length")
        if text is None:
            return None
        if not text.strip().isdigit() or int(text) > total:
            raise RequestError(
                400, f"Inference-Header-Content-Length {text!r} is not a length within the body's {total} bytes"
            )
        return int(text)

    def handle_expect_100(self) -> bool:
        """Say 100 Continue only to a body the server will read: an oversized one is answered 413 unread."""
        length = self.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > self.server.limits.max_body_bytes:
            return True
        return super().handle_expect_100()

    # -- answers ----------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.connection.settimeout(self.server.limits.body_timeout)  # a client that does not read is cut off too
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        if status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        if self.close_connection or self.server.stopping:
            self.send_header("Connection", "close")
            self.close_connection = True
        self._headers_buffer.append(b"\r\n" + body)  # one write: headers and body in separate segments wait for
        self.flush_headers()  # the client's delayed ACK (Nagle), 40 ms a request

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers too long or too many) in the protocol's
        error object."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # what http.server assumes of a request line it cannot read
            self.request_version = "HTTP/1.1"  # answered with a status line and headers, so a client can read it
        try:
            self._send(code, _error(message or self.responses.get(code, ("error",))[0]), {})
        except OSError:  # the client is gone
            pass

    def log_message(self, format: str, *args) -> None:
        """No line per request: a device's log is for what needs a person (see Server.log)."""


def _json(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def _error(message: str) -> bytes:
    return _json({"error": message})
