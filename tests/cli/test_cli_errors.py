"""Errors of the edge-predict command: one line on stderr, the documented exit code, never a traceback."""

import os
import shutil
import subprocess
import sys

import pytest

from edge_predict.cli import cli

EDGE_PREDICT = shutil.which("edge-predict", path=os.path.dirname(sys.executable))


def run(runner, *args, input=None, env=None):
    return runner.invoke(cli, list(args), input=input, env=env)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["predict", "abc"], 2, "edge-predict: error: argument 1, hours: 'abc' is not a number"),
        (["predict", "-1"], 2, "edge-predict: error: argument 1, hours: '-1' is outside the model's domain"),
        (["predict", "--", "-1"], 2, "edge-predict: error: argument 1, hours: '-1' is outside the model's domain"),
        (["predict", "1,5"], 2, "edge-predict: error: argument 1, hours: '1,5' is not a number (expected a decimal"),
        (["predict"], 2, "edge-predict: error: nothing to score"),
        (["predict", "--fromat", "json", "1"], 2, "edge-predict: error: No such option: --fromat"),
        (
            ["predict", "7", "--threads", "100000"],
            2,
            "edge-predict: error: Invalid value for '--threads': 100000 is not in the range 1<=x<=",
        ),
        (["predict", "-f", "xml", "1"], 2, "edge-predict: error: Invalid value for '-f' / '--format'"),
        (
            ["predict", "1", "--model", "/nonexistent.onnx"],
            1,
            "edge-predict: error: /nonexistent.onnx: no such model file",
        ),
        (["frobnicate"], 2, "edge-predict: error: No such command 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_documented_exit_code(cli_runner, args, code, message):
    result = run(cli_runner, *args)
    assert result.exit_code == code
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_bad_line_in_file_is_named(cli_runner, model_path):
    result = run(cli_runner, "predict", "-i", "-", "--model", str(model_path), input="hours\n1\nx\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("edge-predict: error: line 3, column 1 (hours): 'x' is not a number")


@pytest.mark.parametrize(
    "redirect, reason", [("> /dev/full", "No space left on device"), (">&-", "Bad file descriptor")]
)
@pytest.mark.parametrize("args", ["predict 7", "predict 7 -f csv", "info", "verify"])
def test_write_errors_are_one_line(args, redirect, reason):
    if redirect == "> /dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    done = subprocess.run(
        ["sh", "-c", f'exec "$0" {args} {redirect}', EDGE_PREDICT],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == f"edge-predict: error: cannot write the output: {reason}\n"


def test_keep_going_with_every_argument_bad(cli_runner, model_path):
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-k", "x", "y"])
    assert result.exit_code == 2
    expected = "is not a number (expected a decimal number such as 7, -0.5 or 2.5e3)"
    assert result.stdout.splitlines()[1:] == [
        f"           ?  -  -  argument 1, hours: 'x' {expected}",
        f"           ?  -  -  argument 2, hours: 'y' {expected}",
    ]
    assert result.stderr.splitlines() == [
        f"edge-predict: skipped argument 1, hours: 'x' {expected}",
        f"edge-predict: skipped argument 2, hours: 'y' {expected}",
        "edge-predict: error: skipped 2 bad rows (each named above and in the output's error column); scored 0",
    ]


@pytest.mark.parametrize(
    "args, start",
    [
        (
            ["info", "--max-model-bytes", "99999999999999999999999"],
            "edge-predict: error: Invalid value for '--max-model-bytes': '99999999999999999999999' is too large",
        ),
        (
            ["predict", "7", "--threshold", "nan"],
            "edge-predict: error: Invalid value for '--threshold': 'nan' is not a finite number",
        ),
        (["predict", "--", "-inf"], "edge-predict: error: argument 1, hours: '-inf' is infinite"),
        (["predict", "--", "-Infinity"], "edge-predict: error: argument 1, hours: '-Infinity' is infinite"),
        (["predict", "--", "+NaN"], "edge-predict: error: argument 1, hours: '+NaN' is NaN"),
    ],
)
def test_bad_values_are_named(cli_runner, model_path, args, start):
    result = cli_runner.invoke(
        cli, args + ["-m", str(model_path)] if args[0] == "info" else args[:1] + ["-m", str(model_path)] + args[1:]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "target, args, field",
    [
        ("error", ["-k", "-f", "json"], "an error column"),
        ("error", ["-k", "-f", "csv"], "an error column"),
        ("error", ["-k", "-f", "text"], "an error column"),
        ("input", ["-f", "json"], "a field"),
        ("extra", ["-f", "json"], "a field"),
    ],
)
def test_an_output_named_like_a_column_the_format_adds_is_refused(cli_runner, tmp_path, target, args, field):
    """A regression target 'error' with --keep-going: {"error":21,"error":null} reads back as null, its value lost."""
    from helpers import handmade

    doc = handmade.manifest("regression", golden_inputs=((1.0,),), golden_outputs=((10.0,),), targets=[target])
    path = tmp_path / "model.onnx"
    path.write_bytes(handmade.weighted_sum([10], doc))
    result = run(cli_runner, "predict", "-m", str(path), *args, "1")
    fix = "score without --keep-going" if target == "error" else "use --format csv"
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"edge-predict: error: the model has a column named {target!r}, and the {args[-1]} output writes {field} of "
        f"that name too, so readers would lose one of them; {fix}, or re-export the model with another name\n"
    )
    assert run(cli_runner, "predict", "-m", str(path), "-f", "csv", "1").stdout == f"p,{target}\n1,10\n"
