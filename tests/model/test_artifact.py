"""The committed default model verifies, re-exporting it gives the same bytes, and its sha256 is checkable."""

import hashlib
import json
import struct

import pytest

from helpers import DEFAULT_MODEL, export_lecture
from edge_predict import Predictor
from edge_predict.cli import cli
from edge_predict.model.manifest import METADATA_KEY


def test_committed_default_model_verifies():
    predictor = Predictor.from_path(DEFAULT_MODEL)
    assert predictor.verify() <= predictor.manifest["golden"]["atol"]


def test_export_with_default_seed_reproduces_committed_bytes(lecture, tmp_path):
    data = export_lecture(*lecture, tmp_path / "again.onnx")
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()
    assert (tmp_path / "again.onnx").read_bytes() == data


def test_export_leaves_no_temporary_files(lecture, tmp_path):
    export_lecture(*lecture, tmp_path / "m.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]


def test_manifest_has_the_documented_keys():
    manifest = Predictor.from_path(DEFAULT_MODEL).manifest
    assert set(manifest) == {
        "format", "task", "model", "exporter", "features", "inputs", "output", "threshold", "labels", "training",
        "versions", "golden",
    }  # fmt: skip
    assert manifest["format"] == 3
    assert manifest["model"] == {"name": "default", "version": 3}
    assert manifest["exporter"] == {"name": "edge-train", "edge_predict": "0.1.0", "onnx_exporter": "torchscript"}
    assert manifest["features"] == [
        {"name": "hours", "type": "number", "min": 0.0, "max": None, "observed": [1.0, 4.0], "missing": "refuse"}
    ]
    assert manifest["inputs"] == [{"name": "hours", "type": "float32", "features": ["hours"]}]
    assert manifest["output"] == "probabilities"
    assert manifest["golden"]["engines"] in (["onnxruntime"], ["onnxruntime", "numpy"])  # numpy once re-exported
    assert manifest["labels"] == ["fail", "pass"]
    assert manifest["versions"]["opset"] == 17
    assert len(manifest["golden"]["inputs"]) >= 5
    assert set(manifest["training"]) >= {"epochs", "lr", "seed", "final_loss", "data_sha256"}
    assert METADATA_KEY == "edge_predict"


@pytest.mark.parametrize("seed, same", [(0, True), (1, False)])
def test_training_and_exporting_again_gives_the_committed_bytes_only_with_its_seed(tmp_path, seed, same):
    from edge_predict.trainer.data import lecture_data
    from edge_predict.trainer.train import TrainConfig, train

    x, y = lecture_data()
    data = export_lecture(train(x, y, TrainConfig(seed=seed)), x, y, tmp_path / "again.onnx")
    assert (hashlib.sha256(data).hexdigest() == sha256_of(DEFAULT_MODEL)) is same


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_info_shows_the_files_sha256(cli_runner):
    result = cli_runner.invoke(cli, ["info", "-f", "json", "-m", str(DEFAULT_MODEL)])
    assert json.loads(result.stdout)["sha256"] == sha256_of(DEFAULT_MODEL)


@pytest.mark.parametrize("given", [str.lower, str.upper, lambda h: f"  {h}\n"], ids=["lower", "upper", "spaces"])
def test_verify_accepts_the_sha256_in_any_case(cli_runner, given):
    result = cli_runner.invoke(cli, ["verify", "--sha256", given(sha256_of(DEFAULT_MODEL)), "-m", str(DEFAULT_MODEL)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_verify_refuses_another_sha256(cli_runner):
    result = cli_runner.invoke(cli, ["verify", "--sha256", "0" * 64, "-m", str(DEFAULT_MODEL)])
    assert result.exit_code == 1
    expected = f"edge-predict: error: {DEFAULT_MODEL}: sha256 is {sha256_of(DEFAULT_MODEL)}, expected {'0' * 64}"
    assert result.stderr.startswith(expected)


@pytest.mark.parametrize("malformed", ["abc", "", "z" * 64, "0" * 65], ids=["short", "empty", "not-hex", "long"])
def test_verify_calls_a_malformed_sha256_a_usage_error(cli_runner, malformed):
    result = cli_runner.invoke(cli, ["verify", "--sha256", malformed, "-m", str(DEFAULT_MODEL)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edge-predict: error: Invalid value for '--sha256': {malformed!r} is not a sha256")


def documented_data_sha256(features: list[list[float]], labels: list[float]) -> str:
    """docs/training.md's definition, spelled with hashlib and struct only: shape, float32 LE values, twice."""
    n, k = len(features), len(features[0])
    digest = hashlib.sha256()
    digest.update(f"({n}, {k})".encode("ascii"))
    digest.update(struct.pack(f"<{n * k}f", *(v for row in features for v in row)))
    digest.update(f"({n}, 1)".encode("ascii"))
    digest.update(struct.pack(f"<{n}f", *labels))
    return digest.hexdigest()


def test_data_sha256_of_the_default_model_is_the_documented_hash_of_the_lecture_data():
    training = Predictor.from_path(DEFAULT_MODEL).manifest["training"]
    assert training["data_sha256"] == documented_data_sha256([[1.0], [2.0], [3.0], [4.0]], [0, 0, 1, 1])


def test_data_sha256_hashes_the_whole_table_not_the_training_split(tmp_path):
    from edge_predict.trainer.table import read_table
    from edge_predict.trainer.run import export_fitted, fit
    from edge_predict.trainer.train import TrainConfig

    rows = [(1.5, 2.0, 0), (3.0, -4.0, 1), (0.25, 8.0, 1), (7.0, 1.0, 0), (2.0, 2.5, 1)]
    table = tmp_path / "t.csv"
    table.write_text("id,a,b,y\n" + "".join(f"r{i},{a},{b},{y}\n" for i, (a, b, y) in enumerate(rows)))
    fitted = fit(read_table(table, drop=["id"]), TrainConfig(epochs=5), val_fraction=0.4)
    assert len(fitted.fit.x) == 3
    export_fitted(fitted, tmp_path / "m.onnx")
    training = Predictor.from_path(tmp_path / "m.onnx").manifest["training"]
    assert training["data_sha256"] == documented_data_sha256([[a, b] for a, b, _ in rows], [y for *_, y in rows])


def test_golden_probabilities_are_what_torch_computes_for_the_golden_inputs(lecture):
    import numpy as np

    from helpers import torch_proba

    golden = Predictor.from_path(DEFAULT_MODEL).manifest["golden"]
    expected = torch_proba(lecture[0].model, golden["inputs"])  # the committed model's torch module, retrained
    outputs = np.float32(golden["outputs"])  # format 3: [1 - p, p] per row, both stored exactly, not rounded
    np.testing.assert_array_equal(outputs[:, 1], expected)
    np.testing.assert_array_equal(outputs[:, 0], np.float32(1) - expected)
    inputs = [row[0] for row in golden["inputs"]]
    assert inputs == [1.0, 2.0, 3.0, 4.0, 0.0]  # the training rows, then the domain's low end (middle, high: 2, 4)
