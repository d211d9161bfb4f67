"""Manifests and API arguments the runtime must refuse with one line, and outputs it must not pass on."""

import json
import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge_predict import InputError, ModelError, Predictor, VerificationError
from edge_predict.cli import cli
from edge_predict.manifest import METADATA_KEY

BASE = {"format": 1, "threshold": 0.5, "labels": ["no", "yes"], "training": {}, "versions": {"opset": 17},
        "features": [{"name": "a", "min": None, "max": None}, {"name": "b", "min": None, "max": None}],
        "golden": {"inputs": [[0.0, 0.0]], "probabilities": [0.5], "atol": 1e-6}}


def two_feature_model(manifest: dict, shift: float = 0.0) -> bytes:
    """p = sigmoid((a - shift) - (b - shift)): a standardizing graph whose Sub overflows for huge inputs."""
    shift_c = numpy_helper.from_array(np.full((1, 2), shift, np.float32), "shift")
    weights = numpy_helper.from_array(np.array([[1.0], [-1.0]], np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Sub", ["x", "shift"], ["c"]), helper.make_node("MatMul", ["c", "w"], ["z"]),
         helper.make_node("Sigmoid", ["z"], ["p"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])], [shift_c, weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {METADATA_KEY: json.dumps(manifest)})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def changed(**edits) -> dict:
    """BASE with keys replaced (golden__atol=0) or removed (value ...)."""
    manifest = json.loads(json.dumps(BASE))
    for path, value in edits.items():
        *parents, key = path.split("__")
        node = manifest
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key = int(key) if key.isdigit() else key
        if value is ...:
            del node[key]
        else:
            node[key] = value
    return manifest


@pytest.mark.parametrize("edits, what", [
    ({"versions": ...}, "versions is missing or not an object"),
    ({"training": ...}, "training is missing or not an object"),
    ({"training": [1]}, "training is missing or not an object"),
    ({"format": ...}, "format is missing or not an integer"),
    ({"threshold": "0.5"}, "threshold is '0.5', expected a number in [0, 1]"),
    ({"threshold": 1.5}, "threshold is 1.5, expected a number in [0, 1]"),
    ({"threshold": True}, "threshold is True, expected a number in [0, 1]"),
    ({"labels": ["x", "x"]}, "labels is ['x', 'x'], expected 2 or more different names"),
    ({"labels": ["x", 1]}, "labels is ['x', 1], expected 2 or more different names"),
    ({"labels": ["x"]}, "labels is ['x'], expected 2 or more different names"),
    ({"features": []}, "features is empty"),
    ({"features": "a,b"}, "features is missing or not a list"),
    ({"features__1": "b"}, "features[1] is not an object"),
    ({"features__1__name": 2}, "features[1].name is missing or not a string"),
    ({"features__1__name": "a"}, "feature name 'a' appears twice"),
    ({"features__0__min": float("nan")}, "features[0].min is nan, expected a finite number or null"),
    ({"features__0__max": "9"}, "features[0].max is '9', expected a finite number or null"),
    ({"features__0__min": 2, "features__0__max": 1}, "features[0] has min 2 > max 1"),
    ({"golden__inputs": []}, "golden.inputs is empty"),
    ({"golden__inputs": [[0.0]]}, "golden.inputs[0] is not a row of 2 finite float32 numbers"),
    ({"golden__inputs": [[0.0, 1e39]]}, "golden.inputs[0] is not a row of 2 finite float32 numbers"),
    ({"golden__probabilities": [0.5, 0.5]}, "golden has 1 inputs but 2 outputs"),
    ({"golden__probabilities": [2.0]}, "golden output 0 holds a probability outside [0, 1]"),
    ({"golden__atol": 0}, "golden.atol is 0, expected a positive number"),
    ({"golden__atol": float("inf")}, "golden.atol is inf, expected a positive number"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_invalid_manifest_is_refused_with_one_line(cli_runner, tmp_path, edits, what):
    path = tmp_path / "m.onnx"
    path.write_bytes(two_feature_model(changed(**edits)))
    message = f"{path}: the edge-predict manifest is invalid ({what}); re-export the model"
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value) == message
    for command in (["info"], ["verify"], ["predict", "1", "2"]):
        result = cli_runner.invoke(cli, [*command, "--model", str(path)])
        assert (result.exit_code, result.stdout) == (1, "")
        assert result.stderr == f"edge-predict: error: {message}\n"


def test_valid_manifest_still_loads(cli_runner, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(two_feature_model(BASE))
    for command in (["info"], ["verify"]):
        assert cli_runner.invoke(cli, [*command, "--model", str(path)]).exit_code == 0


@pytest.mark.parametrize("rows, first", [([[3e38, 3e38]], 0), ([[1.0, 2.0], [3e38, 3e38], [3e38, 3e38]], 1)])
def test_nan_output_is_an_input_error_naming_the_sample(rows, first):
    # a - (-3e38) and b - (-3e38) overflow to inf, and MatMul's inf * 1 + inf * -1 is NaN
    predictor = Predictor.from_bytes(two_feature_model(BASE, shift=-3e38))
    with pytest.raises(InputError) as info:
        predictor.predict_proba(rows)[:, 1]
    assert str(info.value) == (f"sample {first}: the model computed NaN "
                               "(the input overflows float32 arithmetic inside the model)")
    assert info.value.row == first


def test_nan_output_in_a_large_batch():
    predictor = Predictor.from_bytes(two_feature_model(BASE, shift=-3e38))
    x = np.zeros((1000, 2), np.float32)
    x[700] = (3e38, 3e38)
    with pytest.raises(InputError, match=r"^sample 700: the model computed NaN"):
        predictor.predict_proba(x)[:, 1]


def test_nan_output_exits_2_in_the_cli(cli_runner, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(two_feature_model(BASE, shift=-3e38))
    result = cli_runner.invoke(cli, ["predict", "3e38,3e38", "-f", "json", "--model", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == ("edge-predict: error: argument 1: this sample makes the model compute NaN "
                             "(the input overflows float32 arithmetic inside the model)\n")


def test_nan_golden_vector_fails_verification(tmp_path):
    data = two_feature_model(changed(golden__inputs=[[3e38, 3e38]]), shift=-3e38)
    with pytest.raises(VerificationError, match=r"^<bytes>: golden vectors do not match: golden vector 0 scores NaN"):
        Predictor.from_bytes(data)
    with pytest.raises(VerificationError, match=r"^<bytes>: golden vectors do not match: golden vector 0 scores NaN"):
        Predictor.from_bytes(data, verify=False).verify()


def test_onnxruntime_run_failure_is_a_model_error():
    # Reshape to a fixed 3 values fails at run time for any batch that is not 3 values
    shape = numpy_helper.from_array(np.array([3], np.int64), "shape")
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["r"]),
                               helper.make_node("Sigmoid", ["r"], ["p"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
                              [helper.make_tensor_value_info("p", TensorProto.FLOAT, [3])], [shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {METADATA_KEY: json.dumps(BASE)})
    with pytest.raises(ModelError, match=r"^<bytes>: onnxruntime failed to score with this model \("):
        Predictor.from_bytes(model.SerializeToString())  # the golden vectors, at load
    predictor = Predictor.from_bytes(model.SerializeToString(), verify=False)
    with pytest.raises(ModelError, match=r"^<bytes>: onnxruntime failed to score with this model \("):
        predictor.predict_proba([[1.0, 2.0]])[:, 1]


@pytest.mark.parametrize("threshold", [math.nan, math.inf, -0.1, 7, "x", None.__class__])
def test_threshold_outside_0_1_is_refused(threshold):
    with pytest.raises(InputError, match=r"^threshold=.*: expected a number in \[0, 1\] \(a probability\)$"):
        Predictor.from_bytes(two_feature_model(BASE), threshold=threshold)


def test_nan_threshold_is_bad_input_in_the_cli(cli_runner, model_path):
    result = cli_runner.invoke(cli, ["predict", "1", "--threshold", "nan", "--model", str(model_path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert "unexpected" not in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("max_bytes", [-1, 0, 1.5, True])
def test_max_bytes_below_one_is_refused(model_path, max_bytes):
    with pytest.raises(ValueError, match=r"^max_bytes=.*: expected a whole number of bytes >= 1$"):
        Predictor.from_path(model_path, max_bytes=max_bytes)
    with pytest.raises(ValueError, match=r"^max_bytes="):
        Predictor.from_bytes(model_path.read_bytes(), max_bytes=max_bytes)


@pytest.mark.parametrize("X", [[[1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0]], [[1.0, 2.0], [3.0, [4.0]]]])
def test_ragged_x_is_an_input_error(X):
    predictor = Predictor.from_bytes(two_feature_model(BASE))
    with pytest.raises(InputError, match=r"^X is ragged: rows of different lengths, but the model expects every "
                                         r"sample to have 2 features \(a, b\)$"):
        predictor.predict_proba(X)[:, 1]
