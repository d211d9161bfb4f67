"""edge-train refuses bad options and unwritable outputs: each case one line, a documented exit code."""

import numpy as np
import pytest
import torch

from edge_predict.trainer.cli import cli
from edge_predict.trainer.params import MAX_OPSET
from edge_predict.trainer import ExportError, export

FAST = ("--epochs", "5", "--lr", "1", "--quiet")  # enough to beat the baseline


def train(runner, *args):
    return runner.invoke(cli, [*FAST, *args])


@pytest.mark.parametrize(
    "option, value",
    [
        ("--threshold", "nan"),
        ("--lr", "nan"),
        ("--lr", "inf"),
        ("--val-fraction", "nan"),
        ("--atol", "nan"),
        ("--atol", "inf"),
    ],
)
def test_float_options_refuse_nan_and_inf(cli_runner, tmp_path, option, value):
    result = train(cli_runner, option, value, "--out", str(tmp_path / "m.onnx"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edge-train: error: Invalid value for '{option}': '{value}' is not a finite")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("threshold", [float("nan"), float("inf")])
def test_export_never_writes_a_non_finite_manifest(tmp_path, threshold):
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid()).eval()
    out = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match="^the manifest holds a value that is not a finite number"):
        export(model, out, feature_names=["x"], training={"loss": threshold}, golden_inputs=np.zeros((1, 1)))
    assert list(tmp_path.iterdir()) == []


def test_packaged_model_of_an_install_is_not_replaced(cli_runner, tmp_path, monkeypatch):
    packaged = tmp_path / "lib" / "site-packages" / "edge_predict" / "models" / "default.onnx"
    monkeypatch.setattr("edge_predict.authoring.default_model_path", lambda: packaged)
    result = train(cli_runner)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "edge-train: error: the packaged model is part of the installed edge-predict; pass --out PATH"
    )
    assert not packaged.parent.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (("--seed", "-1", "--val-fraction", "0.5"), "Invalid value for '--seed': -1 is not in the range 0<=x<="),
        (("--seed", "99999999999999999999999"), "Invalid value for '--seed': 99999999999999999999999 is not in"),
        (("--opset", str(MAX_OPSET + 1)), f"Invalid value for '--opset': {MAX_OPSET + 1} is not in the range 7<=x<="),
        (("--opset", "30"), "Invalid value for '--opset': 30 is not in the range 7<=x<="),
    ],
)
def test_out_of_range_integers_are_usage_errors(cli_runner, tmp_path, args, message):
    result = train(cli_runner, *args, "--out", str(tmp_path / "m.onnx"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edge-train: error: {message}")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("seed", ["0", str(2**64 - 1)])
def test_seed_range_ends_are_accepted(cli_runner, tmp_path, seed):
    result = train(cli_runner, "--seed", seed, "--out", str(tmp_path / "m.onnx"))
    assert result.exit_code == 0, result.stderr


def test_highest_opset_exports(cli_runner, tmp_path):
    out = tmp_path / "m.onnx"
    result = train(cli_runner, "--opset", str(MAX_OPSET), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"opset {MAX_OPSET}," in result.stdout


@pytest.mark.parametrize("where", ["/proc/x.onnx", "under a file"])
def test_unwritable_out_is_one_line_exit_1(cli_runner, tmp_path, where):
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = blocker / "m.onnx" if where == "under a file" else where
    result = train(cli_runner, "--out", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-train: error: cannot write {out}: ")
    assert len(result.stderr.splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_unwritable_report_is_one_line_exit_1(cli_runner, tmp_path):
    out = tmp_path / "m.onnx"
    result = train(cli_runner, "--out", str(out), "--report", "/proc/r")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-train: error: wrote {out}, but cannot write the report into /proc/r: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("option", ["--data", "--sign-key"])
def test_out_naming_the_data_or_the_key_file_is_a_usage_error_and_both_are_kept(cli_runner, tmp_path, option):
    """`--data t.csv --out t.csv` replaced the training table with the model (and --out key.pem the private key),
    exit 0."""
    table = tmp_path / "t.csv"
    table.write_text("hours,passed\n1,0\n2,0\n3,1\n4,1\n")
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")  # never read: the usage error comes first
    target = table if option == "--data" else key
    before = target.read_bytes()
    link = tmp_path / "same-file"
    link.symlink_to(target)
    for out in (target, link):
        result = train(cli_runner, "--data", str(table), "--sign-key", str(key), "--out", str(out))
        assert result.exit_code == 2, result.stdout
        assert result.stderr == (
            f"edge-train: error: --out {out} is the {option} file, which the model would replace; choose another --out "
            "(see 'edge-train --help')\n"
        )
    assert target.read_bytes() == before
