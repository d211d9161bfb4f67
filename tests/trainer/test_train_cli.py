"""The edge-train command: tables, progress output, report files, one-line errors."""

import gzip
import hashlib
import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from edge_predict import Predictor
from helpers import REPO
from edge_predict.trainer.cli import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE_PIXELS = (700, 450)  # plots.py draws 7 x 4.5 inches at 100 dpi
SQUARE_PIXELS = (550, 500)  # and the confusion matrix and predicted-vs-actual at 5.5 x 5


def train(runner, *args):
    return runner.invoke(cli, list(args))


def png_size(path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_lecture_report_has_loss_fit_and_json(cli_runner, tmp_path):
    out, report = tmp_path / "m.onnx", tmp_path / "report"
    result = train(cli_runner, "--epochs", "50", "--lr", "1", "--out", str(out), "--report", str(report), "--quiet")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in report.iterdir()) == ["confusion.png", "fit.png", "loss.png", "report.json"]
    assert png_size(report / "loss.png") == FIGURE_PIXELS and png_size(report / "fit.png") == FIGURE_PIXELS
    assert png_size(report / "confusion.png") == SQUARE_PIXELS
    doc = json.loads((report / "report.json").read_text())
    assert doc["model"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert doc["config"]["epochs"] == 50 and doc["data"]["source"] == "lecture"
    assert set(doc["metrics"]) == {"train"}


def test_table_report_has_validation_and_file_sha256(cli_runner, tmp_path, diabetes_path):
    report = tmp_path / "report"
    result = train(
        cli_runner,
        "--data",
        str(diabetes_path),
        "--val-fraction",
        "0.2",
        "--epochs",
        "50",
        "--lr",
        "0.5",
        "--out",
        str(tmp_path / "d.onnx"),
        "--report",
        str(report),
        "--quiet",
    )
    assert result.exit_code == 0, result.stderr
    # fit.png draws one feature against the probability; an 8-feature model has no such picture.
    assert sorted(p.name for p in report.iterdir()) == ["confusion.png", "loss.png", "report.json"]
    doc = json.loads((report / "report.json").read_text())
    assert doc["data"]["sha256"] == hashlib.sha256(diabetes_path.read_bytes()).hexdigest()
    assert set(doc["metrics"]) == set(doc["baseline"]) == {"train", "validation"}


def test_report_is_byte_identical_across_runs(cli_runner, tmp_path):
    runs = []
    for name in ("a", "b"):
        args = [
            "--epochs",
            "20",
            "--lr",
            "1",
            "--out",
            str(tmp_path / f"{name}.onnx"),
            "--report",
            str(tmp_path / name),
            "-q",
        ]
        assert train(cli_runner, *args).exit_code == 0
        runs.append({p.name: p.read_bytes() for p in (tmp_path / name).glob("*.png")})
    assert runs[0] == runs[1]


def test_without_a_terminal_progress_is_a_few_plain_lines(cli_runner, tmp_path):
    result = train(cli_runner, "--epochs", "200", "--out", str(tmp_path / "m.onnx"))
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert epochs[0].startswith("epoch  20/200  loss ") and epochs[-1].startswith("epoch 200/200  loss ")
    assert len(epochs) == 10


def test_quiet_prints_no_progress(cli_runner, tmp_path):
    result = train(cli_runner, "--epochs", "200", "--out", str(tmp_path / "m.onnx"), "--quiet")
    assert result.exit_code == 0
    assert not [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert result.stdout.splitlines()[0].startswith("train:      4 rows, accuracy ")


@pytest.mark.parametrize("domain, refused", [("none", False), ("observed", True)])
def test_domain_option_decides_what_the_runtime_refuses(cli_runner, tmp_path, domain, refused):
    table = tmp_path / "t.csv"
    table.write_text("hours,passed\n1,0\n2,0\n3,1\n4,1\n")
    out = tmp_path / "m.onnx"
    result = train(cli_runner, "--data", str(table), "--domain", domain, "--out", str(out), "-q")
    assert result.exit_code == 0, result.stderr
    predictor = Predictor.from_path(out)
    assert predictor.manifest["features"][0]["observed"] == [1.0, 4.0]
    if refused:
        with pytest.raises(ValueError, match="outside the model's domain"):
            predictor.predict_proba([7.0])[:, 1]
    else:
        assert predictor.predict([7.0]).tolist() == [predictor.classes_[1]]


@pytest.mark.parametrize("name, model", [("my.table.csv.gz", "my.table.onnx"), ("t.csv", "t.onnx"), ("t", "t.onnx")])
def test_model_is_named_after_the_table(cli_runner, tmp_path, monkeypatch, name, model):
    table = tmp_path / name
    table.write_bytes(gzip.compress(b"1,0\n2,1\n") if name.endswith(".gz") else b"1,0\n2,1\n")
    monkeypatch.chdir(tmp_path)
    assert train(cli_runner, "--data", str(table), "--epochs", "5", "--lr", "1", "-q").exit_code == 0
    assert (tmp_path / model).exists()


def test_one_feature_table_gets_a_fit_picture(cli_runner, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("dose,cured\n0.1,0\n0.4,0\n0.5,1\n0.9,1\n0.2,0\n0.8,1\n")
    report = tmp_path / "report"
    result = train(
        cli_runner,
        "--data",
        str(table),
        "--val-fraction",
        "0.34",
        "--lr",
        "1",
        "--out",
        str(tmp_path / "m.onnx"),
        "--report",
        str(report),
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert png_size(report / "fit.png") == FIGURE_PIXELS


def test_labels_name_the_classes(cli_runner, tmp_path, diabetes_path):
    out = tmp_path / "m.onnx"
    result = train(
        cli_runner,
        "--data",
        str(diabetes_path),
        "--labels",
        "healthy,diabetic",
        "--epochs",
        "20",
        "--lr",
        "1",
        "--out",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    assert Predictor.from_path(out).labels == ("healthy", "diabetic")


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--label", "x"], 2, "edge-train: error: --label needs --data"),
        (["--domain", "observed"], 2, "edge-train: error: --domain needs --data"),
        (
            ["--data", "{bad}"],
            2,
            "edge-train: error: {bad} line 3: the label column 2 (passed) is empty; every row needs one",
        ),
        (["--data", "{missing}"], 2, "edge-train: error: Invalid value for '--data': File "),
        (["--model", "mlp", "--hidden", "6,x"], 2, "edge-train: error: Invalid value for '--hidden': '6,x' is not"),
        (["--labels", "yes"], 2, "edge-train: error: Invalid value for '--labels': 'yes' is not two or more different"),
        (["--val-fraction", "0.1"], 2, "edge-train: error: --val-fraction 0.1 of 4 rows leaves no training or no"),
    ],
)
def test_errors_are_one_line_with_documented_exit_code(cli_runner, tmp_path, args, code, message):
    bad = tmp_path / "bad.csv"
    bad.write_text("hours,passed\n1,0\n2,\n")
    args = [a.format(bad=bad, missing=tmp_path / "missing.csv") for a in args]
    result = train(cli_runner, *args, "--out", str(tmp_path / "m.onnx"), "-q")
    assert result.exit_code == code, result.stdout
    assert result.stderr.startswith(message.format(bad=bad))
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "m.onnx").exists()


def test_make_export_reproduces_the_committed_model_and_report(cli_runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the same relative paths as the Makefile, so report.json records the same
    (recipe,) = [line for line in (REPO / "Makefile").read_text().splitlines() if "/edge-train " in line]
    result = train(cli_runner, *recipe.split("/edge-train ", 1)[1].split())  # `make export`'s own arguments
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "models/default.onnx").read_bytes() == (REPO / "models/default.onnx").read_bytes()
    fresh = json.loads((tmp_path / "docs/report/report.json").read_text())
    assert fresh == json.loads((REPO / "docs/report/report.json").read_text())


def test_fit_png_marks_the_threshold_where_the_model_crosses_it(lecture):
    from edge_predict.trainer.plots import threshold_crossing

    model = lecture[0].model
    w, b = model.inner.linear.weight.item(), model.inner.linear.bias.item()
    grid = np.linspace(0.4, 7.6, 401)  # the plot's grid for the lecture: steps of 0.018
    curve = 1 / (1 + np.exp(-(w * grid + b)))
    assert threshold_crossing(grid, curve, 0.5) == pytest.approx(-b / w, abs=1e-3)
    assert threshold_crossing(grid, curve, 0.999) is None


def test_the_baseline_is_printed_next_to_the_model(cli_runner, tmp_path):
    result = train(cli_runner, "--out", str(tmp_path / "m.onnx"), "-q")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        "train:      4 rows, accuracy 0.7500, log loss 0.4919, macro-F1 0.7333 (baseline: accuracy 0.5000, log loss "
        "0.6931, macro-F1 0.3333)",
        "baseline:   always p(pass) = 0.5000, the training rows' frequency",
    ]
    assert lines[2].startswith("final loss 0.491867 (log loss on the training rows); ")  # the same figure


@pytest.mark.parametrize(
    "data, args",
    [
        (None, ["--epochs", "5"]),  # the lecture, stopped long before its loss gets below log 2
        ("diabetes", ["--model", "mlp"]),  # the sigmoid MLP at its default lr: the majority rate at best
    ],
)
def test_a_model_no_better_than_the_baseline_is_refused(cli_runner, tmp_path, diabetes_path, data, args):
    out = tmp_path / "m.onnx"
    data_args = ["--data", str(diabetes_path)] if data else []
    result = train(cli_runner, *data_args, *args, "--out", str(out), "--report", str(tmp_path / "r"), "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "edge-train: error: the model is no better than always answering the training rows' class frequency: on the "
    )
    assert result.stderr.endswith(
        "; nothing was written. What usually helps: --standardize (features on different "
        "scales), a larger --lr, more --epochs\n"
    )
    assert len(result.stderr.splitlines()) == 1
    assert "(baseline: accuracy " in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_drop_leaves_out_an_id_column(cli_runner, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("student,hours,room,passed\nAnn,1,7,0\nBob,2,7,0\nCid,3,7,1\nDee,4,7,1\n")
    out = tmp_path / "m.onnx"
    result = train(
        cli_runner, "--data", str(table), "--drop", "student", "--drop", "3", "--lr", "1", "--out", str(out), "-q"
    )
    assert result.exit_code == 0, result.stderr
    assert Predictor.from_path(out).feature_names == ("hours",)


@pytest.mark.parametrize(
    "drop, message",
    [
        (
            "name",
            "{table}: --drop: no column 'name'; use a header name (student,hours,passed) or a column number from 1 to 3",
        ),
        ("passed", "{table}: --drop 'passed' is the label column; drop a feature or pick another --label"),
        (
            "student,",
            "Invalid value for '--drop': 'student,' has an empty column name; give names or numbers such as "
            "id,3 (see 'edge-train --help')",
        ),
        ("student,hours", "{table}: need at least one feature column and one data row"),
    ],
)
def test_drop_errors_are_one_line_exit_2(cli_runner, tmp_path, drop, message):
    table = tmp_path / "t.csv"
    table.write_text("student,hours,passed\nAnn,1,0\nBob,4,1\n")
    result = train(cli_runner, "--data", str(table), "--drop", drop, "--out", str(tmp_path / "m.onnx"), "-q")
    assert result.exit_code == 2
    assert result.stderr == f"edge-train: error: {message.format(table=table)}\n"


def test_drop_needs_data(cli_runner, tmp_path):
    result = train(cli_runner, "--drop", "id", "--out", str(tmp_path / "m.onnx"))
    assert (result.exit_code, result.stderr) == (
        2,
        "edge-train: error: --drop needs --data (see 'edge-train --help')\n",
    )


# The device has no torch: help and version must still work there; training says what to install.
WITHOUT_TORCH = "import sys; sys.modules['torch'] = None; from edge_predict.trainer.cli import main; main(sys.argv[1:])"


@pytest.mark.parametrize(
    "args, code, stdout, stderr",
    [
        (["--help"], 0, "Usage: edge-train [OPTIONS]\n", ""),
        (["--version"], 0, "edge-train, version ", ""),
        ([], 1, "", "edge-train: error: torch is not installed; install the train extra: "),
    ],
)
def test_help_and_version_work_without_torch(tmp_path, args, code, stdout, stderr):
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, *args, "--out", str(tmp_path / "m.onnx")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith(stdout) and result.stderr.startswith(stderr)
    assert list(tmp_path.iterdir()) == []
