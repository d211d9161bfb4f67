"""`edge-predict serve` as a process: usage errors, SIGHUP reloads (good, bad, unsigned files), SIGTERM and Ctrl-C."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import threading
import time

import pytest

from helpers import handmade
from helpers import DEFAULT_MODEL
from edge_predict import Predictor
from edge_predict.cli import cli
from helpers import oip
from helpers.oip import served_version, tensor


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--host", "0.0.0.0"],
            "--host 0.0.0.0 is not a loopback address, so anyone who reaches it could score: give --token-file FILE "
            "(clients then send 'Authorization: Bearer TOKEN'), or --no-token to serve without one",
        ),
        (["--no-token", "--token-file", "TOKEN"], "give --token-file or --no-token, not both"),
        (
            ["--token-file", "SHORT"],
            "--token-file SHORT: expected one token of 16 to 4096 visible ASCII characters, e.g. the output of "
            "'openssl rand -hex 32'",
        ),
    ],
)
def test_usage_errors_exit_2_before_listening(cli_runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "TOKEN").write_text("0123456789abcdef0123\n")
    (tmp_path / "SHORT").write_text("abc\n")
    result = cli_runner.invoke(cli, ["serve", *args])
    assert result.exit_code == 2
    assert result.stderr == f"edge-predict: error: {message} (see 'edge-predict serve --help')\n"


def test_a_model_that_does_not_load_exits_1_in_one_line(cli_runner, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    result = cli_runner.invoke(cli, ["serve", "--model", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-predict: error: {bad}") and result.stderr.count("\n") == 1


def test_a_port_in_use_exits_1_in_one_line(cli_runner):
    with oip.running(oip.ModelSlot.from_path(DEFAULT_MODEL)) as server:
        result = cli_runner.invoke(cli, ["serve", "--port", str(server.port)])
    assert result.exit_code == 1
    assert result.stderr == f"edge-predict: error: cannot listen on 127.0.0.1:{server.port}: Address already in use\n"


def _sha(port: int) -> str:
    return oip.request(port, "GET", "/v2/models/default")[2]["parameters"]["sha256"]


class _Hammer:
    """Requests sent back to back on one keep-alive connection while the test does something else."""

    def __init__(self, port: int):
        self.port, self.results, self._stop = port, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        body = json.dumps({"inputs": [tensor("hours", [0.25, 1])]})  # in both models' domains
        while not self._stop.is_set():
            connection.request("POST", "/v2/models/default/infer", body)
            response = connection.getresponse()
            self.results.append((response.status, response.read()))


@pytest.mark.slow
def test_sighup_swaps_a_good_file_in_and_keeps_serving_through_a_bad_one(tmp_path):
    model = tmp_path / "model.onnx"
    shutil.copy(DEFAULT_MODEL, model)
    other = handmade.identity(features=(("hours", 0, 1),))  # the same feature name: the hammer's rows stay valid
    process = oip.Process.start("--model", model)
    try:
        first = Predictor.from_path(DEFAULT_MODEL).sha256
        assert _sha(process.port) == first
        with _Hammer(process.port) as hammer:
            for _ in range(3):
                model.write_bytes(other)
                since = len(process.lines)
                process.send(signal.SIGHUP)
                process.wait_for_line(f"now serving version {served_version(Predictor.from_bytes(other))}", since)
                shutil.copy(DEFAULT_MODEL, model)
                since = len(process.lines)
                process.send(signal.SIGHUP)
                process.wait_for_line(
                    f"now serving version {served_version(Predictor.from_path(DEFAULT_MODEL))}", since
                )
            model.write_bytes(b"garbage")
            since = len(process.lines)
            process.send(signal.SIGHUP)
            failed = process.wait_for_line("reload failed", since)
            time.sleep(0.2)
        assert failed.startswith(
            f"edge-predict serve: reload failed, still serving version {served_version(Predictor.from_path(DEFAULT_MODEL))} (sha256 {first}): "
        )
        assert _sha(process.port) == first
        statuses = {status for status, _ in hammer.results}
        assert len(hammer.results) > 50 and statuses == {200}  # not one request failed across 7 reloads
        assert process.stop() == 0
        assert process.lines[-1] == "edge-predict serve: stopped"
    finally:
        process.popen.kill()


@pytest.mark.slow
def test_with_a_public_key_an_unsigned_replacement_is_refused(tmp_path, cli_runner):
    model = tmp_path / "model.onnx"
    shutil.copy(DEFAULT_MODEL, model)
    key, public = oip.key_pair(tmp_path, "key")
    assert cli_runner.invoke(cli, ["sign", "--key", str(key), str(model)]).exit_code == 0
    process = oip.Process.start("--model", model, "--public-key", public)
    try:
        signed = _sha(process.port)
        model.write_bytes(handmade.identity(features=(("hours", 0, 1),)))  # valid, but its old .sig does not match
        process.send(signal.SIGHUP)
        line = process.wait_for_line("reload failed")
        assert "signature" in line, line
        assert _sha(process.port) == signed
    finally:
        assert process.stop() == 0


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_sigterm_exits_0_and_ctrl_c_130_after_the_request_in_flight(signum, code):
    process = oip.Process.start()
    body = json.dumps({"inputs": [tensor("hours", [1, 7])]}).encode()
    with socket.create_connection(("127.0.0.1", process.port), timeout=10) as sock:
        sock.sendall(b"POST /v2/models/default/infer HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:3])
        time.sleep(0.2)
        process.send(signum)
        time.sleep(0.3)
        sock.sendall(body[3:])
        answer = b"".join(iter(lambda: sock.recv(65536), b""))  # Connection: close, so read to the end
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"data":["fail","pass"]' in answer
    assert process.wait() == code  # the one signal sent above: a second one could find the default handler back
