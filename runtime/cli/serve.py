"""edge-predict serve: the model over HTTP (the Open Inference Protocol), until SIGTERM or Ctrl-C."""

from __future__ import annotations

import re
import signal
import threading

import click

from edge_predict.cli.boundary import one_line
from edge_predict.cli import guard
from edge_predict.cli.params import (
    ByteSize,
    graph_options,
    model_options,
    public_key_option,
    rollback_options,
    engine_option,
    threads_option,
)


@click.command()
@model_options
@public_key_option
@rollback_options
@graph_options
@threads_option
@engine_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free port.")
@click.option("--name", default=None, help="The model's name in URLs (default: the file's name without .onnx).")
@click.option(
    "--token-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Require 'Authorization: Bearer TOKEN' on /v2/models/..., TOKEN being this file's content.",
)
@click.option(
    "--no-token", is_flag=True, help="Serve a non-loopback --host without a token (anyone reaching it scores)."
)
@click.option(
    "--max-body-bytes",
    type=ByteSize(),
    default="4M",
    show_default=True,
    help="Refuse larger request bodies (413).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1, 4096),
    default=64,
    show_default=True,
    help="Open connections; past this a new one is answered 503.",
)
def serve(
    model,
    max_model_bytes,
    public_key,
    threads,
    engine,
    host,
    port,
    name,
    token_file,
    no_token,
    max_body_bytes,
    max_connections,
    state_file,
    allow_rollback,
    allow_ops,
    graph_limits,
    load_timeout,
) -> None:
    """Serve the model over HTTP in the Open Inference Protocol (docs/serve.md) until SIGTERM (exit 0) or Ctrl-C.

    SIGHUP reloads the model file: it is read, signature-checked (with --public-key) and verified, then served;
    a file that fails keeps the old model serving, and the reason is logged. With --public-key, a reload to an
    older model version than one accepted is refused as at start (docs/signing.md, rollback protection).
    """
    from edge_predict.serve import Limits, ModelSlot, Server, is_loopback

    if token_file and no_token:
        raise click.UsageError("give --token-file or --no-token, not both")
    token = _read_token(token_file) if token_file else None
    if token is None and not no_token and not is_loopback(host):
        raise click.UsageError(
            f"--host {host} is not a loopback address, so anyone who reaches it could score: give --token-file FILE "
            "(clients then send 'Authorization: Bearer TOKEN'), or --no-token to serve without one"
        )
    options = {"public_key": public_key, "threads": threads, "allow_ops": list(allow_ops), "engine": engine}
    options["limits"] = dict(graph_limits) or None
    if max_model_bytes is not None:
        options["max_bytes"] = max_model_bytes
    if public_key is not None and not allow_rollback:
        from edge_predict.signing import default_state_file

        options["state_file"] = state_file or default_state_file()  # every reload checks it too
    with guard.bounded(load_timeout, f"{model or 'the packaged model'}: loading took longer than {load_timeout:g} s"):
        slot = ModelSlot.from_path(model, name=name, **options)
    guard.release()  # from here on, serve's own handlers: SIGTERM and Ctrl-C stop it gracefully
    limits = Limits(max_body_bytes=max_body_bytes, max_connections=max_connections)
    server = Server.listen(host, port, slot, limits=limits, token=token, log=_log)
    served = slot.current
    where = f"[{host}]" if ":" in host else host
    with _signals(server):  # before the line that tells the world it is up: a SIGTERM from then on is graceful
        _log(
            f"serving {served.name} version {served.version} (sha256 {served.predictor.sha256}) at "
            f"http://{where}:{server.port}/v2/models/{served.name}"
        )
        server.serve()
    _log("stopped")


def _read_token(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            token = f.read(4097).strip()
    except OSError as exc:
        raise click.UsageError(f"--token-file {path}: {exc.strerror or exc}") from None
    if not re.fullmatch(rb"[\x21-\x7e]{16,4096}", token):
        raise click.UsageError(
            f"--token-file {path}: expected one token of 16 to 4096 visible ASCII characters, e.g. the output of "
            "'openssl rand -hex 32'"
        )
    return token


def _log(line: str) -> None:
    click.echo(f"edge-predict serve: {one_line(line)}", err=True)


class _signals:
    """SIGHUP reloads, SIGTERM stops (exit 0); Ctrl-C stays KeyboardInterrupt (exit 130). Process-wide, so the
    command installs them, only in the main thread, and puts the old handlers back."""

    def __init__(self, server):
        self._server = server
        self._old: dict = {}

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        reload = lambda *_: threading.Thread(target=self._server.reload, daemon=True).start()  # noqa: E731
        for signum, handler in ((signal.SIGHUP, reload), (signal.SIGTERM, lambda *_: self._server.stop())):
            self._old[signum] = signal.signal(signum, handler)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._old.items():
            signal.signal(signum, handler)
