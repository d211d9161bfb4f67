"""The edge-predict command: output, formats, exit codes, one-line errors."""

import csv
import io
import json

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.cli import cli


def run(runner, *args, input=None, env=None):
    return runner.invoke(cli, list(args), input=input, env=env)


@pytest.fixture(scope="module")
def expected(model_path):
    return Predictor.from_path(model_path)


def test_predict_text_table(cli_runner, model_path, expected):
    result = run(cli_runner, "predict", "1", "7", "--model", str(model_path))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["hours", "probability", "label"]
    p1, p7 = expected.predict_proba([1, 7])[:, 1]
    rows = [line.split() for line in lines[1:]]
    assert [(r[0], r[2]) for r in rows] == [("1", "fail"), ("7", "pass")]
    assert [np.float32(r[1]) for r in rows] == [p1, p7]  # the float32 itself, not a rounding of it


def test_predict_json_lines(cli_runner, model_path, expected):
    result = run(cli_runner, "predict", "1", "7", "-f", "json", "--model", str(model_path))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in rows] == [{"hours": 1.0}, {"hours": 7.0}]
    assert [r["label"] for r in rows] == ["fail", "pass"]
    np.testing.assert_array_equal(np.float32([r["probability"] for r in rows]), expected.predict_proba([1, 7])[:, 1])


def test_predict_csv_from_file(cli_runner, model_path, expected, tmp_path):
    source = tmp_path / "hours.csv"
    source.write_text("hours\n1\n2.5\n7\n")
    result = run(cli_runner, "predict", "--input", str(source), "-f", "csv", "--model", str(model_path))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["hours"] for r in rows] == ["1", "2.5", "7"]
    np.testing.assert_array_equal(np.float32([r["probability"] for r in rows]),
                                  expected.predict_proba([1, 2.5, 7])[:, 1])
    assert [r["label"] for r in rows] == ["fail", "pass", "pass"]


def test_predict_bare_numbers_from_stdin(cli_runner, model_path):
    result = run(cli_runner, "predict", "-i", "-", "-f", "csv", "--model", str(model_path), input="1\n\n# note\n7\n")
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[2] for line in result.stdout.splitlines()[1:]] == ["fail", "pass"]


def test_model_from_environment_variable(cli_runner, model_path):
    result = run(cli_runner, "info", "-f", "json", env={"EDGE_PREDICT_MODEL": str(model_path)})
    assert json.loads(result.stdout)["path"] == str(model_path)


def test_threshold_option_changes_labels(cli_runner, model_path):
    result = run(cli_runner, "predict", "7", "--threshold", "0.99", "-f", "csv", "--model", str(model_path))
    assert result.stdout.splitlines()[1].endswith(",fail")


def test_info_shows_manifest_and_sha256(cli_runner, model_path, expected):
    result = run(cli_runner, "info", "--model", str(model_path))
    assert result.exit_code == 0
    assert f"sha256:    {expected.sha256}" in result.stdout
    assert "features:  hours [0, inf]" in result.stdout
    assert "opset:     17" in result.stdout


def test_verify_passes_on_a_good_model(cli_runner, model_path):
    result = run(cli_runner, "verify", "--model", str(model_path))
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 5 golden vectors match")


def test_verify_checks_sha256(cli_runner, model_path, expected):
    assert run(cli_runner, "verify", "--sha256", expected.sha256, "--model", str(model_path)).exit_code == 0
    result = run(cli_runner, "verify", "--sha256", "0" * 64, "--model", str(model_path))
    assert result.exit_code == 1
    assert "sha256 is " in result.stderr


@pytest.mark.parametrize("args, code, message", [
    (["predict", "abc"], 2, "edge-predict: error: argument 1, hours: 'abc' is not a number"),
    (["predict", "-1"], 2, "edge-predict: error: argument 1, hours: '-1' is outside the model's domain"),
    (["predict", "--", "-1"], 2, "edge-predict: error: argument 1, hours: '-1' is outside the model's domain"),
    (["predict", "1,5"], 2, "edge-predict: error: argument 1, hours: '1,5' is not a number (expected a decimal"),
    (["predict"], 2, "edge-predict: error: nothing to score"),
    (["predict", "--fromat", "json", "1"], 2, "edge-predict: error: No such option: --fromat"),
    (["predict", "7", "--threads", "100000"], 2, "edge-predict: error: Invalid value for '--threads': 100000 is not in the range 1<=x<="),
    (["predict", "-f", "xml", "1"], 2, "edge-predict: error: Invalid value for '-f' / '--format'"),
    (["predict", "1", "--model", "/nonexistent.onnx"], 1, "edge-predict: error: /nonexistent.onnx: no such model file"),
    (["frobnicate"], 2, "edge-predict: error: No such command 'frobnicate'"),
])
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


def test_version_and_help(cli_runner):
    assert run(cli_runner, "--version").stdout.startswith("edge-predict, version ")
    assert "Exit codes: 0 ok" in run(cli_runner, "--help").stdout
