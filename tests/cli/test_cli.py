"""The edge-predict command: output, formats, exit codes, one-line errors.

Expected numbers come from torch on the weights read out of the model file, and the output is read back with
Python's csv and json modules or a regex spelled here: no expectation is computed by the runtime itself (the
text table is also checked to print the API's exact float32, which torch's tolerance alone cannot tell apart).
"""

import csv
import hashlib
import io
import json
import re

import numpy as np
import pytest
import torch

from edge_predict import Predictor
from edge_predict.cli import cli
from helpers.parity import ATOL, export_plain, gemm_weights, logistic

TEXT_ROW = re.compile(r"^\s*(\S+)\s+(\d\.\d+)\s+(fail|pass)$")  # "           7   0.9558091  pass"


def run(runner, *args, input=None, env=None):
    return runner.invoke(cli, list(args), input=input, env=env)


@pytest.fixture(scope="module")
def torch_p(model_path):
    """P(pass) for hours, as torch computes it with the model file's weights (torch.nn.Linear's kernel)."""
    w, b = gemm_weights(model_path.read_bytes())

    def p(hours) -> np.ndarray:
        x = torch.tensor(np.float32(hours).reshape(-1, 1))
        with torch.no_grad():
            return (
                torch.sigmoid(
                    torch.addmm(torch.tensor([b], dtype=torch.float32), x, torch.tensor(np.float32(w).reshape(1, 1)))
                )
                .numpy()
                .reshape(-1)
            )

    return p


def torch_labels(p) -> list[str]:
    return ["pass" if v >= 0.5 else "fail" for v in p]


def test_predict_text_table(cli_runner, model_path, torch_p):
    result = run(cli_runner, "predict", "1", "7", "2.5", "--model", str(model_path))
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == ["hours", "probability", "label"]
    rows = [TEXT_ROW.match(line).groups() for line in lines]
    assert [hours for hours, _, _ in rows] == ["1", "7", "2.5"]
    p = torch_p([1, 7, 2.5])
    np.testing.assert_allclose([float(v) for _, v, _ in rows], p, rtol=0, atol=ATOL)
    assert [label for _, _, label in rows] == torch_labels(p)
    # the float32 itself, not a rounding of it: the text reads back as the API's float32 (a 6-decimal rounding
    # of 0.42295337 is within ATOL of torch but not this), and is numpy's shortest text for that float32
    api = Predictor.from_path(model_path).predict_proba([1, 7, 2.5])[:, 1]
    np.testing.assert_array_equal([np.float32(v) for _, v, _ in rows], api)
    assert [v for _, v, _ in rows] == [np.format_float_positional(v, unique=True, trim="-") for v in api]


def test_predict_json_lines(cli_runner, model_path, torch_p):
    result = run(cli_runner, "predict", "1", "7", "-f", "json", "--model", str(model_path))
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in rows] == [{"hours": 1.0}, {"hours": 7.0}]
    np.testing.assert_allclose([r["probability"] for r in rows], torch_p([1, 7]), rtol=0, atol=ATOL)
    assert [r["label"] for r in rows] == torch_labels(torch_p([1, 7])) == ["fail", "pass"]


def test_json_lines_use_one_separator_style(cli_runner, accented_model):
    """Every record, scored or skipped, with pass-through columns, is exactly what Python's json module writes
    compactly for the same object: one separator style, ':' and ',' without spaces (a ': ' anywhere fails)."""
    text = 'id,hours\n"Smith, John",7\nbad,x\n"a: b",1\n'
    result = run(
        cli_runner, "predict", "-i", "-", "-f", "json", "--keep-going", "--model", str(accented_model), input=text
    )
    assert result.exit_code == 2, result.stderr  # the bad row is reported, the others scored
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and json.loads(lines[1])["input"] is None
    assert [json.loads(line)["extra"]["id"] for line in (lines[0], lines[2])] == ["Smith, John", "a: b"]
    assert lines == [json.dumps(json.loads(line), separators=(",", ":")) for line in lines]


def test_predict_csv_from_file(cli_runner, model_path, torch_p, tmp_path):
    source = tmp_path / "hours.csv"
    source.write_text("hours\n1\n2.5\n7\n")
    result = run(cli_runner, "predict", "--input", str(source), "-f", "csv", "--model", str(model_path))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["hours"] for r in rows] == ["1", "2.5", "7"]
    p = torch_p([1, 2.5, 7])
    np.testing.assert_allclose([float(r["probability"]) for r in rows], p, rtol=0, atol=ATOL)
    assert [r["label"] for r in rows] == torch_labels(p)


def test_predict_bare_numbers_from_stdin(cli_runner, model_path):
    result = run(cli_runner, "predict", "-i", "-", "-f", "csv", "--model", str(model_path), input="1\n\n# note\n7\n")
    assert result.exit_code == 0, result.stderr
    assert [r["label"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["fail", "pass"]


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


def test_model_from_environment_variable(cli_runner, model_path):
    result = run(cli_runner, "info", "-f", "json", env={"EDGE_PREDICT_MODEL": str(model_path)})
    assert json.loads(result.stdout)["path"] == str(model_path)


def test_threshold_option_changes_labels(cli_runner, model_path):
    result = run(cli_runner, "predict", "7", "--threshold", "0.99", "-f", "csv", "--model", str(model_path))
    assert result.stdout.splitlines()[1].endswith(",fail")


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_info_shows_manifest_and_sha256(cli_runner, model_path):
    result = run(cli_runner, "info", "--model", str(model_path))
    assert result.exit_code == 0
    assert f"sha256:    {sha256_of(model_path)}" in result.stdout
    assert "features:  hours [0, inf]" in result.stdout
    assert "opset:     17" in result.stdout


def test_verify_passes_on_a_good_model(cli_runner, model_path):
    result = run(cli_runner, "verify", "--model", str(model_path))
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: 5 golden vectors match")


def test_verify_checks_sha256(cli_runner, model_path):
    assert run(cli_runner, "verify", "--sha256", sha256_of(model_path), "--model", str(model_path)).exit_code == 0
    result = run(cli_runner, "verify", "--sha256", "0" * 64, "--model", str(model_path))
    assert result.exit_code == 1
    assert "sha256 is " in result.stderr


def test_version_and_help(cli_runner):
    assert run(cli_runner, "--version").stdout.startswith("edge-predict, version ")
    assert "Exit codes: 0 ok" in run(cli_runner, "--help").stdout
