"""click parameter types and options shared by edge-predict and edge-train."""

from __future__ import annotations

import math
import os
import re
import sys

import click

MODEL_ENV = "EDGE_PREDICT_MODEL"
MAX_BYTES_ENV = "EDGE_PREDICT_MAX_MODEL_BYTES"
PUBLIC_KEY_ENV = "EDGE_PREDICT_PUBLIC_KEY"


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses nan and inf (NaN compares false with both bounds and slips through)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


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


def sha256_text(ctx, param, value: str | None) -> str | None:
    """A sha256 as 64 hex digits, lower-cased; a usage error otherwise."""
    if value is None:
        return None
    if not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
        raise click.BadParameter(f"{value!r} is not a sha256: expected 64 hex digits, as 'edge-predict info' prints")
    return value.strip().lower()


def not_empty(fix: str):
    """A click callback refusing '' (given, or an environment variable set but empty, which click reads as unset):
    the option would fall back to its default silently. `fix` says what to do instead."""

    def check(ctx, param, value):
        if value == "" or (value is None and os.environ.get(param.envvar) == ""):
            given = "an empty path" if value == "" else f"${param.envvar} is set but empty"
            raise click.BadParameter(f"{given}: {fix}")
        return value

    return check


def model_options(command):
    """--model PATH and --max-model-bytes SIZE, for every command that loads a model."""
    command = click.option(
        "--max-model-bytes",
        type=ByteSize(),
        envvar=MAX_BYTES_ENV,
        default=None,
        help=f"Refuse model files larger than this (default 256M; ${MAX_BYTES_ENV}).",
    )(command)
    return click.option(
        "-m",
        "--model",
        envvar=MODEL_ENV,
        default=None,
        callback=not_empty(
            "the packaged model would be scored instead; give a model file, or leave the option and the "
            "variable out for the packaged model"
        ),
        metavar="PATH",
        help=f"Model file (.onnx). Default: ${MODEL_ENV}, else the packaged model.",
    )(command)


threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1, max=os.cpu_count() or 1),
    default=None,
    help="onnxruntime intra-op threads, at most this machine's CPUs (default 1).",
)

ENGINE_ENV = "EDGE_PREDICT_ENGINE"

engine_option = click.option(
    "--engine",
    type=click.Choice(["onnxruntime", "numpy"]),
    envvar=ENGINE_ENV,
    default=None,
    help=f"What scores the model (docs/engines.md). Default: onnxruntime where installed, else numpy. ${ENGINE_ENV}.",
)

no_verify_option = click.option(
    "--no-verify",
    is_flag=True,
    help="Skip scoring the golden vectors at load (they prove this device computes what torch computed).",
)

public_key_option = click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    envvar=PUBLIC_KEY_ENV,
    default=None,
    callback=not_empty("unsigned models would be run; give the public key's PEM file, or unset the variable"),
    metavar="PEM",
    help=f"Run only a model signed by this key (MODEL.sig beside it; docs/signing.md). ${PUBLIC_KEY_ENV}.",
)


STATE_ENV = "EDGE_PREDICT_STATE_FILE"
TIMEOUT_ENV = "EDGE_PREDICT_LOAD_TIMEOUT"
DEFAULT_LOAD_TIMEOUT = 30.0


class GraphLimit(click.ParamType):
    """NAME=N, a graph limit raised: nodes=50000, constant-bytes=256M (docs/security.md)."""

    name = "NAME=N"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        name, sep, number = str(value).partition("=")
        if not sep:
            self.fail(f"{value!r} is not NAME=N, such as nodes=50000 or constant-bytes=256M", param, ctx)
        return name.strip(), ByteSize().convert(number, param, ctx)


def graph_options(command):
    """--allow-op OP, --graph-limit NAME=N and --load-timeout SECONDS, for every command that loads a model."""
    command = click.option(
        "--load-timeout",
        type=click.FloatRange(min=0, min_open=True),
        envvar=TIMEOUT_ENV,
        default=DEFAULT_LOAD_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help=f"End with exit 1 if loading and verifying the model takes longer (${TIMEOUT_ENV}).",
    )(command)
    command = click.option(
        "--graph-limit",
        "graph_limits",
        type=GraphLimit(),
        multiple=True,
        help="Raise a graph limit: nodes, fields, constant-bytes, tensor-elements (repeatable; docs/security.md).",
    )(command)
    return click.option(
        "--allow-op",
        "allow_ops",
        multiple=True,
        metavar="OP",
        help="Also run this operator beyond the documented set: Loop, com.microsoft:Gelu (repeatable; "
        "docs/security.md).",
    )(command)


def rollback_options(command):
    """--state-file PATH and --allow-rollback: the versions a device with a public key accepted (docs/signing.md)."""
    command = click.option(
        "--allow-rollback",
        is_flag=True,
        help="With --public-key: load a model older than one accepted before (the state file is neither read nor "
        "written).",
    )(command)
    return click.option(
        "--state-file",
        envvar=STATE_ENV,
        default=None,
        callback=not_empty("give the state file's path, or unset the variable for the default"),
        metavar="PATH",
        help=f"With --public-key: where the highest accepted model versions are kept (${STATE_ENV}; default "
        "$STATE_DIRECTORY/versions.json, /var/lib/edge-predict/versions.json for root, else "
        "$XDG_STATE_HOME/edge-predict/versions.json).",
    )(command)
