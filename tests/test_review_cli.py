"""Review fixes in the CLI: non-ASCII labels in CSV, write errors, -k with no good row, bad option values."""

import os
import shutil
import subprocess
import sys

import pytest

from edge_predict.cli import cli
from parity import export_plain, logistic

EDGE_PREDICT = shutil.which("edge-predict", path=os.path.dirname(sys.executable))


@pytest.fixture(scope="module")
def accented_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("accented") / "uni.onnx"
    export_plain(logistic([1.0], -4.0), path, 1, [0.0, 8.0], labels=("échec", "réussi"))
    return path


@pytest.mark.parametrize("value, label", [("1", "échec"), ("7", "réussi")])
def test_csv_with_non_ascii_labels(cli_runner, accented_model, value, label):
    result = cli_runner.invoke(cli, ["predict", "-m", str(accented_model), value, "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "hours,probability,label"
    assert lines[1].startswith(f"{value},") and lines[1].endswith(f",{label}")


@pytest.mark.parametrize("redirect, reason", [("> /dev/full", "No space left on device"),
                                              (">&-", "Bad file descriptor")])
@pytest.mark.parametrize("args", ["predict 7", "predict 7 -f csv", "info", "verify"])  # the entry fast path, then click
def test_write_errors_are_one_line(args, redirect, reason):
    if redirect == "> /dev/full" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    done = subprocess.run(["sh", "-c", f'exec "$0" {args} {redirect}', EDGE_PREDICT],
                          capture_output=False, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 1
    assert done.stderr == f"edge-predict: error: cannot write the output: {reason}\n"


def test_keep_going_with_every_argument_bad(cli_runner, model_path):
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-k", "x", "y"])
    assert result.exit_code == 2
    expected = "is not a number (expected a decimal number such as 7, -0.5 or 2.5e3)"
    assert result.stdout.splitlines()[1:] == [f"           ?  -  -  argument 1, hours: 'x' {expected}",
                                              f"           ?  -  -  argument 2, hours: 'y' {expected}"]
    assert result.stderr.splitlines() == [f"edge-predict: skipped argument 1, hours: 'x' {expected}",
                                          f"edge-predict: skipped argument 2, hours: 'y' {expected}",
                                          "edge-predict: error: skipped 2 bad rows (each named above and in the "
                                          "output's error column); scored 0"]


@pytest.mark.parametrize("args, start", [
    (["info", "--max-model-bytes", "99999999999999999999999"],
     "edge-predict: error: Invalid value for '--max-model-bytes': '99999999999999999999999' is too large"),
    (["predict", "7", "--threshold", "nan"],
     "edge-predict: error: Invalid value for '--threshold': 'nan' is not a finite number"),
    (["predict", "--", "-inf"], "edge-predict: error: argument 1, hours: '-inf' is infinite"),
    (["predict", "--", "-Infinity"], "edge-predict: error: argument 1, hours: '-Infinity' is infinite"),
    (["predict", "--", "+NaN"], "edge-predict: error: argument 1, hours: '+NaN' is NaN"),
])
def test_bad_values_are_named(cli_runner, model_path, args, start):
    result = cli_runner.invoke(cli, args + ["-m", str(model_path)] if args[0] == "info" else
                               args[:1] + ["-m", str(model_path)] + args[1:])
    assert result.exit_code == 2
    assert result.stderr.startswith(start), result.stderr
    assert result.stderr.count("\n") == 1
