"""The device install, for real: the wheel in a fresh virtualenv without torch or onnx scores like torch."""

import hashlib
import json
import zipfile

import numpy as np
import pytest

from helpers import DEFAULT_MODEL, run, torch_proba
from helpers.parity import ATOL

pytestmark = pytest.mark.slow  # builds the wheel and a device venv

DEVICE_SCRIPT = r"""
import hashlib, json
missing = []
for name in ("torch", "onnx"):
    try:
        __import__(name)
    except ImportError:
        missing.append(name)
import edge_predict
from edge_predict import Predictor

predictor = Predictor.default()
print(json.dumps({"missing": missing, "file": edge_predict.__file__, "sha256": predictor.sha256,
                  "p": [float(v) for v in predictor.predict_proba([1.0, 7.0])[:, 1]]}))
"""


@pytest.fixture(scope="module")
def report(device):
    """What the Python API says inside the device environment."""
    return json.loads(run(device / "bin" / "python", "-c", DEVICE_SCRIPT, cwd=device))


def test_wheel_ships_the_default_model_and_nothing_of_the_tests(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("edge_predict/models/default.onnx") == DEFAULT_MODEL.read_bytes()
    assert [n for n in names if n.startswith("tests/") or "conftest" in n or "/test_" in n] == []


def test_wheel_requires_only_onnxruntime_numpy_and_click_without_extras(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            line.split(":", 1)[1].strip()
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist:")
        ]
    names = sorted(r.split(">")[0].split("=")[0] for r in requires if "extra ==" not in r)
    assert names == ["click", "numpy", "onnxruntime"]
    assert 'torch==2.13.0; extra == "train"' in requires


def test_device_has_no_torch_and_no_onnx(device, report):
    assert report["missing"] == ["torch", "onnx"]
    assert report["file"].startswith(str(device))


def test_device_verify_passes_on_the_packaged_model(device):
    out = run(device / "bin" / "edge-predict", "verify", cwd=device)
    assert out.startswith("ok: ")
    assert out.strip().endswith(f"sha256 {hashlib.sha256(DEFAULT_MODEL.read_bytes()).hexdigest()}; engine onnxruntime")


def test_device_api_and_cli_give_torchs_probabilities(device, report, lecture):
    api = report["p"]
    lines = run(device / "bin" / "edge-predict", "predict", "1", "7", "--format", "json", cwd=device).splitlines()
    cli = [json.loads(line)["probability"] for line in lines]
    np.testing.assert_array_equal(np.float32(cli), np.float32(api))
    np.testing.assert_allclose(np.float32(api), torch_proba(lecture[0].model, [1.0, 7.0]), rtol=0, atol=ATOL)


def test_device_edge_train_says_in_one_line_that_torch_is_missing(device):
    err = run(device / "bin" / "edge-train", cwd=device, code=1)
    assert err.startswith("edge-train: error: torch is not installed; install the train extra")
    assert len(err.splitlines()) == 1
