"""edge-predict: the command line over Predictor. Parses options, calls the library, formats output."""

from __future__ import annotations

import json
import math
import os
import re
import sys

import click

from . import __version__
from .boundary import OneLineErrors, Stdout, one_line, writing_output
from .errors import InputError, VerificationError

MODEL_ENV = "EDGE_PREDICT_MODEL"
MAX_BYTES_ENV = "EDGE_PREDICT_MAX_MODEL_BYTES"


def _load(model: str | None, threads: int | None, threshold: float | None = None):
    from .modelfile import DEFAULT_MAX_BYTES
    from .predictor import Predictor, _default_model_file

    max_bytes = click.get_current_context().meta.get("max_model_bytes") or DEFAULT_MAX_BYTES
    return Predictor.from_path(model or _default_model_file(), threads=threads, threshold=threshold,
                               max_bytes=max_bytes)


class ByteSize(click.ParamType):
    """A size in bytes: 1000000, 512K, 64M, 1G (K, M, G are powers of 1024)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*([0-9]+)\s*([kmg]?)i?b?\s*", str(value), re.IGNORECASE)
        if not match or int(match.group(1)) == 0:
            self.fail(f"{value!r} is not a size such as 1000000, 512K, 64M or 1G", param, ctx)
        size = int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")
        if size > sys.maxsize:  # a file offset cannot be larger; os.stat and reads would overflow
            self.fail(f"{value!r} is too large: at most {sys.maxsize} bytes", param, ctx)
        return size


class Probability(click.FloatRange):
    """A float in [0, 1]; FloatRange alone lets 'nan' through (every comparison with NaN is false)."""

    def __init__(self):
        super().__init__(0, 1)

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number in the range 0<=x<=1", param, ctx)
        return number


def model_option(command):
    """--model PATH and --max-model-bytes SIZE, for every command that loads a model."""
    command = click.option(
        "--max-model-bytes", type=ByteSize(), envvar=MAX_BYTES_ENV, default=None, expose_value=False,
        callback=lambda ctx, _param, value: ctx.meta.__setitem__("max_model_bytes", value),
        help=f"Refuse model files larger than this (default 256M; ${MAX_BYTES_ENV}).")(command)
    return click.option(
        "-m", "--model", envvar=MODEL_ENV, default=None, metavar="PATH",
        help=f"Model file (.onnx). Default: ${MODEL_ENV}, else the packaged model.")(command)


threads_option = click.option(
    "--threads", type=click.IntRange(min=1, max=os.cpu_count() or 1), default=None,
    help="onnxruntime intra-op threads, at most this machine's CPUs (default 1).")


@click.group(name="edge-predict", cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edge-predict")
def cli() -> None:
    """Score an exported PyTorch model on CPU with onnxruntime alone.

    \b
    Examples:
      edge-predict predict 1 7                 # hours studied -> p(pass)
      edge-predict predict --input hours.csv --format csv > scored.csv
      edge-predict info
      edge-predict verify --model models/default.onnx

    Exit codes: 0 ok, 1 model or verification failure, 2 usage or bad input.
    """


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("values", nargs=-1)
@click.option("-i", "--input", "input_path", metavar="FILE",
              help="Read samples from FILE, one per line ('-' for stdin): CSV with a header, or bare numbers.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True, help="text: a table; json: one object per line; csv: a header and rows.")
@click.option("--threshold", type=Probability(), default=None,
              help="Give the positive label ('pass' for the default model) at or above this probability "
                   "(default: the model's threshold).")
@click.option("-k", "--keep-going", is_flag=True,
              help="Report each bad row on stderr and score the rest; exit 2 at the end if any was skipped.")
@model_option
@threads_option
def predict(values, input_path, fmt, threshold, keep_going, model, threads) -> None:
    """Score VALUES (numbers; for a k-feature model, 'v1,...,vk' each) or the samples in --input.

    Negative numbers are fine: `edge-predict predict -- -1` or `edge-predict predict -1`.
    """
    from .output import Writer
    from .tabular import open_input, read_batches, samples_from_args

    for value in values:
        if _looks_like_option(value):
            raise click.UsageError(f"No such option: {value}")
    if bool(values) == bool(input_path):
        raise click.UsageError("give numbers to score, or --input FILE, but not both" if values else
                               "nothing to score: give numbers (e.g. 'predict 1 7') or --input FILE")
    predictor = _load(model, threads, threshold)
    out = Stdout("edge-predict")  # a closed pipe, a full disk or a closed stdout: one line, not a traceback
    writer = Writer(out, fmt, predictor.feature_names, predictor.labels)
    skipped = _Skipped() if keep_going else None
    if values:
        scored = _score(predictor, iter([samples_from_args(values, predictor.feature_names, skipped)]),
                        writer, skipped)
    else:
        with open_input(input_path) as stream:
            scored = _score(predictor, read_batches(stream, predictor.feature_names, on_error=skipped),
                            writer, skipped)
    out.flush()
    if skipped:
        raise InputError(f"skipped {skipped.count} bad row{'s' if skipped.count > 1 else ''} (each named above); "
                         f"scored {scored}")


_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan)", re.IGNORECASE)


def _looks_like_option(value: str) -> bool:
    """'--x' or '-x...', but not '-inf' or '-nan': those are numbers, and the number parser names them."""
    if _NON_FINITE.fullmatch(value):
        return False
    return value.startswith("--") or (value.startswith("-") and value[1:2].isalpha())


class _Skipped:
    """--keep-going: collects bad rows as they are found and reports them on stderr in input order."""

    def __init__(self):
        self.pending, self.count = [], 0

    def __call__(self, error: InputError) -> None:
        self.pending.append(error)
        self.count += 1

    def __bool__(self) -> bool:
        return self.count > 0

    def report(self) -> None:
        # Parse errors arrive while a chunk is read, domain errors once it is checked: sort by position.
        for error in sorted(self.pending, key=lambda e: int(re.match(r"\w+ (\d+)", str(e)).group(1))):
            click.echo(f"edge-predict: skipped {one_line(str(error))}", err=True)
        self.pending.clear()


def _score(predictor, batches, writer, skipped: _Skipped | None = None) -> int:
    """Score and write each batch; return how many rows were scored."""
    scored = 0
    for batch in batches:
        if not batch.where:  # every row of it was bad and skipped (-k): nothing to check or score
            continue
        try:
            x = predictor.check_input(batch.values)
        except InputError as exc:
            if exc.row is None:
                raise
            if skipped is None:
                raise batch.locate(exc) from None
            errors = predictor.input_errors(batch.values)
            for error in errors:
                skipped(batch.locate(error))
            batch = batch.drop([error.row for error in errors])
            x = predictor.check_input(batch.values) if batch.where else None
        if skipped is not None:
            skipped.report()
        if x is not None:
            try:
                proba = predictor._run(x)
            except InputError as exc:  # a whole sample the model could not score (NaN inside the graph)
                if exc.row is None:
                    raise
                raise InputError(f"{batch.where[exc.row]}: this sample {exc.problem}") from None
            writer.write(batch, proba, (proba >= predictor.threshold).astype("int64"))
            scored += len(batch.where)
    if skipped is not None:
        skipped.report()
    return scored


@cli.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@model_option
def info(fmt, model) -> None:
    """Show the model's manifest: features, labels, threshold, versions, training, sha256."""
    predictor = _load(model, None)
    manifest = predictor.manifest
    if fmt == "json":
        _echo(json.dumps({"path": predictor.source, "sha256": predictor.sha256, "manifest": manifest},
                         indent=2, sort_keys=True))
        return
    golden = manifest["golden"]
    lines = [
        ("model", predictor.source),
        ("sha256", predictor.sha256),
        ("features", ", ".join(_feature_text(f) for f in manifest["features"])),
        ("labels", " / ".join(manifest["labels"]) + f"  (positive: {manifest['labels'][1]})"),
        ("threshold", f"{manifest['threshold']:g}"),
        ("opset", str(manifest["versions"].get("opset"))),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(manifest["versions"].items()) if k != "opset")),
        ("training", ", ".join(f"{k}={v}" for k, v in sorted(manifest["training"].items()))),
        ("golden", f"{len(golden['inputs'])} vectors, atol {golden['atol']:g}"),
    ]
    for key, value in lines:
        _echo(f"{key + ':':<11}{value}")


def _echo(text: str) -> None:
    """click.echo to stdout, where a full disk or a closed stdout ends as one line (exit 1), not a bug report."""
    with writing_output("edge-predict"):
        click.echo(text)


def _feature_text(feature: dict) -> str:
    lo, hi = feature.get("min"), feature.get("max")
    text = feature["name"]
    if lo is not None or hi is not None:
        text += f" [{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
    seen = feature.get("observed")  # the training range: shown for people, never enforced
    if isinstance(seen, list) and len(seen) == 2 and all(isinstance(v, (int, float)) for v in seen):
        text += f" (trained on {seen[0]:g}..{seen[1]:g})"
    return text


def _sha256_text(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        raise click.BadParameter(f"{value!r} is not a sha256: expected 64 hex digits, as 'edge-predict info' prints")
    return value.strip().lower()


@cli.command()
@click.option("--sha256", "expected_sha", metavar="HEX", default=None, callback=_sha256_text,
              help="Also require the model file to have this sha256 (64 hex digits).")
@model_option
@threads_option
def verify(expected_sha, model, threads) -> None:
    """Prove this device computes what torch computed: score the model's golden vectors."""
    predictor = _load(model, threads)
    if expected_sha is not None and predictor.sha256 != expected_sha:
        raise VerificationError(f"{predictor.source}: sha256 is {predictor.sha256}, expected {expected_sha}")
    diff = predictor.verify()
    golden = predictor.manifest["golden"]
    atol, count = golden["atol"], len(golden["inputs"])
    if not diff <= atol:
        raise VerificationError(
            f"{predictor.source}: golden vectors do not match: largest difference {diff:.3g} > atol {atol:g}"
        )
    _echo(f"ok: {count} golden vectors match (largest difference {diff:.3g} <= atol {atol:g}); "
               f"sha256 {predictor.sha256}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        cli.main(argv, prog_name="edge-predict")
    except KeyboardInterrupt:  # Ctrl-C outside a command (while starting up): still quiet
        sys.exit(130)
    finally:
        if sys.stdout is not None:  # None when started with stdout closed; nothing was written then
            with writing_output("edge-predict"):
                sys.stdout.flush()  # here, not at interpreter exit, where a closed pipe prints "Exception ignored"


if __name__ == "__main__":
    main()
