"""edge-predict: the command line over Predictor. Parses options, calls the library, formats output."""

from __future__ import annotations

import contextlib
import re
import sys

import click

from edge_predict import __version__
from edge_predict.errors import InputError, VerificationError
from edge_predict.cli.boundary import OneLineGroup, keep_freed_heap, one_line
from edge_predict.cli import guard
from edge_predict.cli.params import (
    FiniteFloatRange,
    graph_options,
    model_options,
    engine_option,
    no_verify_option,
    public_key_option,
    rollback_options,
    sha256_text,
    threads_option,
)
from edge_predict.cli.progress import progress_for


def load(
    model: str | None,
    max_model_bytes: int | None,
    *,
    allow_ops=(),
    graph_limits=(),
    load_timeout: float | None = None,
    state_file: str | None = None,
    allow_rollback: bool = False,
    **options,
):
    """The Predictor for --model (default: the packaged model), with the command's options; loading and verifying
    end the process (exit 1) after `load_timeout` seconds when the process is the command's own (guard.py)."""
    from edge_predict import Predictor

    if max_model_bytes:
        options["max_bytes"] = max_model_bytes
    options.update(allow_ops=list(allow_ops), limits=dict(graph_limits) or None)
    if options.get("public_key") is not None and not allow_rollback:
        from edge_predict.signing import default_state_file  # only with a key: signing loads OpenSSL

        options["state_file"] = state_file or default_state_file()
    with guard.bounded(load_timeout, _late(model, load_timeout)):
        try:
            return Predictor.default(**options) if model is None else Predictor.from_path(model, **options)
        except ValueError as exc:  # a --graph-limit name or --allow-op spelling the library refuses
            if isinstance(exc, InputError):
                raise
            raise click.UsageError(str(exc)) from None


def _late(model: str | None, seconds: float | None) -> str:
    return (
        f"{model or 'the packaged model'}: loading and verifying the model took longer than {seconds:g} s; if it "
        "is meant to take that long, raise --load-timeout (a graph that never finishes is refused this way)"
    )


class _Commands(OneLineGroup):
    """The command group; commands of their own module are imported when named (or listed, by --help): `predict 7`
    starts without what serve, sign and evaluate import (click's documented lazy-loading group)."""

    LAZY = {"evaluate": "edge_predict.cli.evaluate", "serve": "edge_predict.cli.serve", "sign": "edge_predict.cli.sign"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            self.add_command(getattr(importlib.import_module(self.LAZY[name]), name))
        return super().get_command(ctx, name)


@click.group(name="edge-predict", cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edge-predict")
def cli() -> None:
    """Score an exported PyTorch model on CPU with onnxruntime alone.

    \b
    Examples:
      edge-predict predict 1 7                 # hours studied -> p(pass)
      edge-predict predict --input hours.csv --format csv > scored.csv
      edge-predict info
      edge-predict verify --model models/default.onnx
      edge-predict evaluate --input held-out.csv --label label

    Exit codes: 0 ok, 1 model or verification failure, 2 usage or bad input.
    """


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("values", nargs=-1)
@click.option(
    "-i",
    "--input",
    "input_path",
    metavar="FILE",
    help="Read samples from FILE, one per line ('-' for stdin): CSV with a header, or bare numbers.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text: a table; json: one object per line; csv: a header and rows.",
)
@click.option(
    "--threshold",
    type=FiniteFloatRange(0, 1),
    default=None,
    help="Give the positive label (labels[1]: 'pass' for the default model) at or above this "
    "probability (default: the model's threshold).",
)
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="Score the good rows; each bad row is written in its place with an error instead of outputs and "
    "named on stderr; exit 2 at the end if any was skipped.",
)
@model_options
@public_key_option
@rollback_options
@graph_options
@threads_option
@no_verify_option
@engine_option
def predict(
    values,
    input_path,
    fmt,
    threshold,
    keep_going,
    model,
    max_model_bytes,
    public_key,
    threads,
    no_verify,
    engine,
    **checks,
) -> None:
    """Score VALUES (numbers; for a k-feature model, 'v1,...,vk' each) or the samples in --input.

    Negative numbers are fine: `edge-predict predict -- -1` or `edge-predict predict -1`.
    """
    from edge_predict.tables.grammar import field_kinds
    from edge_predict.tables.reader import read_batches, samples_from_args
    from edge_predict.tables.source import open_input
    from edge_predict.tables.stream import score
    from edge_predict.tables.writer import Writer

    for value in values:
        if _looks_like_option(value):
            raise click.UsageError(f"No such option: {value}")
    if bool(values) == bool(input_path):
        raise click.UsageError(
            "give numbers to score, or --input FILE, but not both"
            if values
            else "nothing to score: give numbers (e.g. 'predict 1 7') or --input FILE"
        )
    try:
        predictor = load(
            model,
            max_model_bytes,
            public_key=public_key,
            threads=threads,
            threshold=threshold,
            verify=not no_verify,
            engine=engine,
            **checks,
        )
    except InputError as exc:  # only the threshold is input here: a multiclass or regression model has none
        raise click.UsageError(f"--threshold {threshold:g}: {exc.problem}") from None
    writer = Writer(
        sys.stdout,
        fmt,
        predictor.feature_names,
        predictor.output_names,
        predictor.task,
        keep_going,
        outputs_for=predictor.output_names_for,
    )
    progress = None

    def report(error: InputError) -> None:
        if progress is not None:
            progress.clear()
        click.echo(f"edge-predict: skipped {one_line(str(error))}", err=True)

    kinds = field_kinds(predictor.features)  # None: numbers only, read as today
    if values:
        batches = [samples_from_args(values, predictor.feature_names, keep_going, kinds)]
        scored, skipped = score(predictor, batches, writer, report if keep_going else None)
    else:
        keep_freed_heap()
        with open_input(input_path) as stream:
            batches = read_batches(
                stream,
                predictor.feature_names,
                keep=keep_going,
                reserved=("error",) if keep_going else (),  # an output named like a column is predicted_<name>
                json=fmt == "json",
                kinds=kinds,
            )
            progress = progress_for(input_path, stream, sys.stdout, sys.stderr)
            try:
                with contextlib.closing(batches):  # an error stops the read-ahead thread here, not when collected
                    counted = batches if progress is None else progress.count(batches)
                    scored, skipped = score(predictor, counted, writer, report if keep_going else None)
            finally:
                if progress is not None:
                    progress.clear()
    if skipped:
        raise InputError(
            f"skipped {skipped} bad row{'s' if skipped > 1 else ''} (each named above and in the "
            f"output's error {'field' if fmt == 'json' else 'column'}); scored {scored}"
        )


_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def _looks_like_option(value: str) -> bool:
    """'--x' or '-x...', but not '-inf' or '-nan': those are numbers, and the number parser names them."""
    if _NON_FINITE.fullmatch(value):
        return False
    return value.startswith("--") or (value.startswith("-") and value[1:2].isalpha())


@cli.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@model_options
@public_key_option
@rollback_options
@graph_options
@no_verify_option
@engine_option
def info(fmt, model, max_model_bytes, public_key, no_verify, engine, **checks) -> None:
    """Show the model's manifest: task, features, outputs, versions, training, sha256, signature."""
    from edge_predict.errors import ModelError
    from edge_predict.cli.info import info_json, info_lines, plain_info

    try:
        predictor = load(model, max_model_bytes, public_key=public_key, verify=not no_verify, engine=engine, **checks)
    except ModelError:
        if public_key is None:  # a plain ONNX graph: show what it declares; the error line says why it is not scored
            plain_info(model, max_model_bytes, fmt, checks["allow_ops"], checks["graph_limits"])
        raise
    click.echo(info_json(predictor) if fmt == "json" else "\n".join(info_lines(predictor)))


@cli.command()
@click.option(
    "--sha256",
    "expected_sha",
    metavar="HEX",
    default=None,
    callback=sha256_text,
    help="Also require the model file to have this sha256 (64 hex digits).",
)
@model_options
@public_key_option
@rollback_options
@graph_options
@threads_option
@engine_option
def verify(expected_sha, model, max_model_bytes, public_key, threads, engine, **checks) -> None:
    """Prove this device computes what torch computed: score the model's golden vectors (in batches of several
    sizes: a sample's answer must not depend on its batch)."""
    predictor = load(
        model, max_model_bytes, public_key=public_key, threads=threads, verify=False, engine=engine, **checks
    )
    if expected_sha is not None and predictor.sha256 != expected_sha:
        raise VerificationError(f"{predictor.source}: sha256 is {predictor.sha256}, expected {expected_sha}")
    with guard.bounded(checks["load_timeout"], _late(model, checks["load_timeout"])):
        diff = predictor.verify()
    golden = predictor.manifest["golden"]
    bound = (
        f"within atol {golden['atol']:g} + rtol {golden['rtol']:g} x |expected|"
        if golden.get("rtol")
        else f"<= atol {golden['atol']:g}"
    )
    signed = f"; signed by key {predictor.signature.key_fingerprint}" if predictor.signature else ""
    click.echo(
        f"ok: {len(golden['inputs'])} golden vectors match (largest difference {diff:.3g} {bound}); "
        f"sha256 {predictor.sha256}{signed}; engine {predictor.engine}"
    )


def main(argv: list[str] | None = None) -> None:
    """Console entry point: the process is ours, so Ctrl-C, load times and the address space are bounded (guard)."""
    guard.install("edge-predict")
    cli.main(argv, prog_name="edge-predict")
