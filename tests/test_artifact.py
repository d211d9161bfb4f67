"""The committed default model verifies, and re-exporting it gives the same bytes."""

import hashlib

from conftest import DEFAULT_MODEL, export_lecture
from edge_predict import Predictor
from edge_predict.manifest import METADATA_KEY


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
    assert set(manifest) == {"format", "features", "threshold", "labels", "training", "versions", "golden"}
    assert manifest["features"] == [{"name": "hours", "min": 0.0, "max": None, "observed": [1.0, 4.0]}]
    assert manifest["labels"] == ["fail", "pass"]
    assert manifest["versions"]["opset"] == 17
    assert len(manifest["golden"]["inputs"]) >= 8
    assert set(manifest["training"]) >= {"epochs", "lr", "seed", "final_loss", "data_sha256"}
    assert METADATA_KEY == "edge_predict"
