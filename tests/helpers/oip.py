"""Talking to `edge-predict serve` by hand: a running server in this process, raw requests, a multiclass model."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Iterator

import numpy as np
from onnx import helper, numpy_helper

from helpers import handmade
from helpers import CLEAN_ENV
from edge_predict.serve import Limits, ModelSlot, Server

# x @ W + B then Softmax: three features a, b, c and three classes; numpy is the oracle for the golden outputs.
W = np.array([[0.5, -1.0, 0.25], [1.5, 0.5, -0.75], [-0.25, 1.0, 2.0]], np.float32)
B = np.array([0.125, -0.5, 0.25], np.float32)
GOLDEN = np.array([[0, 0, 0], [1, 2, 3], [-1, 0.5, 2], [3, -2, 1], [0.25, 0.5, -4]], np.float32)


def softmax(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.float64) @ W.astype(np.float64) + B
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def multiclass_model() -> bytes:
    """A sealed three-feature, three-class model (labels setosa, versicolor, virginica)."""
    doc = handmade.manifest(
        task="multiclass",
        features=(("a", None, None), ("b", None, None), ("c", -10, 10)),
        golden_inputs=GOLDEN.tolist(),
        golden_outputs=softmax(GOLDEN).tolist(),
        atol=1e-5,
        labels=["setosa", "versicolor", "virginica"],
    )
    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["z"]), helper.make_node("Softmax", ["z"], ["y"], axis=1)]
    return handmade.model(doc, nodes, [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")], width=3)


@contextlib.contextmanager
def running(slot: ModelSlot, limits: Limits = Limits(), token: bytes | None = None) -> Iterator[Server]:
    """A Server on a free loopback port, serving in a thread; stopped (and its requests drained) on exit."""
    log: list[str] = []
    server = Server.listen("127.0.0.1", 0, slot, limits=limits, token=token, log=log.append)
    server.lines = log
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(10)
        assert not thread.is_alive()


def request(port: int, method: str, path: str, body: bytes | dict | None = None, headers: dict | None = None):
    """(status, headers, body as JSON when it is JSON, else bytes) of one request on a fresh connection."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, dict(response.getheaders()), json.loads(data) if kind == "application/json" else data
    finally:
        connection.close()


def infer(port: int, doc: dict, model: str = "default", **kwargs):
    return request(port, "POST", f"/v2/models/{model}/infer", doc, **kwargs)


def raw(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are and read until the server closes the connection (or `timeout`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def tensor(name: str, data, shape=None, datatype: str = "FP32") -> dict:
    return {"name": name, "datatype": datatype, "shape": shape or [len(data)], "data": data}


class Process:
    """`edge-predict serve ARGS` in a child process (build it with start); its stderr lines collected as they come."""

    def __init__(self, popen: subprocess.Popen):
        self.popen = popen
        self.lines: list[str] = []
        self.port = 0
        self._reader = threading.Thread(target=self._read, daemon=True)

    @classmethod
    def start(cls, *args: str, env: dict | None = None) -> "Process":
        """Start the server on a free port; return once it says where it listens."""
        exe = os.path.join(os.path.dirname(sys.executable), "edge-predict")
        popen = subprocess.Popen(
            [exe, "serve", "--port", "0", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**CLEAN_ENV, **(env or {})},
        )
        process = cls(popen)
        process._reader.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and popen.poll() is None:
            found = [m for m in (re.search(r" at http://127\.0\.0\.1:(\d+)/", line) for line in process.lines) if m]
            if found:
                process.port = int(found[0].group(1))
                return process
            time.sleep(0.02)
        popen.kill()
        popen.wait()
        raise AssertionError(f"the server did not start: {process.lines}")

    def _read(self) -> None:
        for line in self.popen.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for_line(self, text: str, since: int = 0, timeout: float = 20) -> str:
        """The first line from line `since` on holding `text`, once it comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hits = [line for line in self.lines[since:] if text in line]
            if hits:
                return hits[0]
            time.sleep(0.02)
        raise AssertionError(f"no line with {text!r} in {self.lines}")

    def send(self, signum: int) -> None:
        self.popen.send_signal(signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send `signum` (if still running) and return the exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        """The exit code, once it exits."""
        code = self.popen.wait(timeout)
        self._reader.join(5)
        return code


def key_pair(folder, name: str):
    """(private, public) PEM files of a new P-256 key, as `edge-predict sign` and --public-key take them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def served_version(predictor) -> str:
    """The version the server serves a model as: its manifest's model.version, else its sha256's first 12 digits."""
    return str(predictor.model_version) if predictor.model_version is not None else predictor.sha256[:12]
