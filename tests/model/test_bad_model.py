"""Bad model files and manifests: each refused with one line saying what is wrong and what to do, exit 1;
and API arguments and model outputs the runtime must not pass on."""

import json
import math
import random

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from edge_predict import InputError, ModelError, Predictor, VerificationError
from edge_predict.cli import cli
from edge_predict.model.manifest import METADATA_KEY
from helpers import handmade


@pytest.fixture(scope="module")
def good(model_path) -> onnx.ModelProto:
    return onnx.load(str(model_path))


def with_manifest(graph, good, ir=8, opset=17) -> onnx.ModelProto:
    """A new graph carrying the good model's manifest, so only the graph is wrong."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir
    model.metadata_props.extend(good.metadata_props)
    return model


def value(name, elem=TensorProto.FLOAT, shape=("n", 1)):
    return helper.make_tensor_value_info(name, elem, list(shape))


def two_inputs(good):
    return with_manifest(
        helper.make_graph(
            [helper.make_node("Add", ["hours", "z"], ["s"]), helper.make_node("Sigmoid", ["s"], ["p"])],
            "g",
            [value("hours"), value("z")],
            [value("p")],
        ),
        good,
    )


def integer_input(good):
    return with_manifest(
        helper.make_graph(
            [
                helper.make_node("Cast", ["hours"], ["f"], to=TensorProto.FLOAT),
                helper.make_node("Sigmoid", ["f"], ["p"]),
            ],
            "g",
            [value("hours", TensorProto.INT64)],
            [value("p")],
        ),
        good,
    )


def rank3_input(good):
    return with_manifest(
        helper.make_graph(
            [helper.make_node("Sigmoid", ["hours"], ["p"])],
            "g",
            [value("hours", shape=("n", 1, 1))],
            [value("p", shape=("n", 1, 1))],
        ),
        good,
    )


def edited(good, edit):
    model = onnx.ModelProto()
    model.CopyFrom(good)
    edit(model)
    return model


def manifest_value(good, change):
    def edit(model):
        entry = next(e for e in model.metadata_props if e.key == METADATA_KEY)
        if callable(change):
            manifest = json.loads(entry.value)
            change(manifest)
            entry.value = json.dumps(manifest)
        else:
            entry.value = change

    return edited(good, edit)


def no_manifest(good):
    return edited(good, lambda m: m.ClearField("metadata_props"))


def new_ir(good):
    return edited(good, lambda m: setattr(m, "ir_version", 99))


def new_opset(good):
    return edited(good, lambda m: [o.__setattr__("version", 40) for o in m.opset_import if o.domain in ("", "ai.onnx")])


def bad_golden(manifest):
    manifest["golden"]["outputs"][0][0] += 0.125


@pytest.mark.parametrize(
    "build, message",
    [
        (None, "no such model file; pass --model PATH to an exported .onnx"),
        ("dir", "is a directory, not a model file; pass the .onnx file itself"),
        (b"", "the model file is empty; re-export or re-copy it"),
        ("half", "not a valid ONNX model (corrupt or truncated at byte"),
        (random.Random(0).randbytes(4096), "not a valid ONNX model (corrupt or truncated at byte"),
        (two_inputs, "the graph's inputs are ['hours', 'z'], but the manifest maps features to ['hours']; re-export"),
        (integer_input, "input 'hours' is tensor(int64) of rank 2, but the manifest describes float32 (batch, 1)"),
        (rank3_input, "input 'hours' is tensor(float) of rank 3, but the manifest describes float32 (batch, 1)"),
        (no_manifest, "no edge-predict manifest (metadata key 'edge_predict'); a plain ONNX model has no golden"),
        (lambda g: manifest_value(g, "{not json"), "the edge-predict manifest is corrupt (JSONDecodeError"),
        (
            lambda g: manifest_value(g, lambda m: m.pop("golden")),
            "the edge-predict manifest is invalid (golden is missing",
        ),
        (new_ir, "the model is ONNX IR version 99, but onnxruntime "),
        (new_opset, "the model needs opset 40 of ai.onnx, but onnxruntime "),
    ],
    ids=[
        "missing",
        "directory",
        "empty",
        "truncated",
        "random",
        "two-inputs",
        "int-input",
        "rank-3",
        "no-manifest",
        "manifest-not-json",
        "manifest-incomplete",
        "new-ir",
        "new-opset",
    ],
)
def test_bad_model_is_refused_with_one_line(cli_runner, tmp_path, good, model_path, build, message):
    path = tmp_path / "m.onnx"
    if build == "dir":
        path.mkdir()
    elif build == "half":
        path.write_bytes(model_path.read_bytes()[: model_path.stat().st_size // 2])
    elif isinstance(build, bytes):
        path.write_bytes(build)
    elif build is not None:
        path.write_bytes(sealed(build(good)))
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value).startswith(f"{path}: {message}")
    result = cli_runner.invoke(cli, ["predict", "1", "--model", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-predict: error: {path}: {message}")
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""


@pytest.mark.parametrize(
    "build, fix",
    [
        (new_ir, "re-export the model with an older onnx (edge-train --opset 17)"),
        (new_opset, "re-export the model with edge-train --opset 17"),
    ],
)
def test_too_new_model_says_how_to_fix(tmp_path, good, build, fix):
    with pytest.raises(ModelError) as info:
        Predictor.from_bytes(sealed(build(good)))
    assert "upgrade onnxruntime (pip install -U onnxruntime)" in str(info.value)
    assert str(info.value).endswith(fix)


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_escape_as_anything_but_model_error(seed):
    rng = random.Random(seed)
    with pytest.raises(ModelError):
        Predictor.from_bytes(rng.randbytes(rng.randrange(1, 3000)))


@pytest.mark.parametrize(
    "args, env",
    [
        (["--max-model-bytes", "100"], {}),
        (["--max-model-bytes", "1K"], {}),
        ([], {"EDGE_PREDICT_MAX_MODEL_BYTES": "512"}),
    ],
)
def test_size_limit_refuses_larger_models(cli_runner, model_path, args, env):
    result = cli_runner.invoke(cli, ["info", "--model", str(model_path), *args], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-predict: error: {model_path}: the model file is larger than the limit of ")


def test_size_limit_in_the_api(model_path):
    size = model_path.stat().st_size
    assert Predictor.from_path(model_path, max_bytes=size).sha256
    with pytest.raises(ModelError, match=f"larger than the limit of {size - 1:,} bytes"):
        Predictor.from_path(model_path, max_bytes=size - 1)
    with pytest.raises(ModelError, match="larger than the limit"):
        Predictor.from_bytes(model_path.read_bytes(), max_bytes=10)


def test_verify_refuses_a_wrong_sha256(cli_runner, model_path):
    result = cli_runner.invoke(cli, ["verify", "--sha256", "0" * 64, "--model", str(model_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"edge-predict: error: {model_path}: sha256 is ")
    assert result.stderr.rstrip().endswith(f"expected {'0' * 64}")


def test_verify_shows_the_largest_golden_difference(cli_runner, tmp_path, good):
    path = tmp_path / "m.onnx"
    path.write_bytes(sealed(manifest_value(good, bad_golden)))
    with pytest.raises(VerificationError, match="largest difference 0.125 > atol"):
        Predictor.from_path(path)  # refused at load: it would score, with wrong numbers
    assert Predictor.from_path(path, verify=False).predict_proba([1.0])[:, 1].shape == (1,)  # the documented opt-out
    assert cli_runner.invoke(cli, ["predict", "1", "--model", str(path)]).exit_code == 1
    result = cli_runner.invoke(cli, ["verify", "--model", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"edge-predict: error: {path}: golden vectors do not match: largest difference 0.125 > atol"
    )


@pytest.mark.parametrize("fmt", [4, 0, 99])
def test_a_manifest_format_this_runtime_does_not_read_is_refused(cli_runner, tmp_path, fmt):
    path = tmp_path / "m.onnx"
    path.write_bytes(handmade.identity(format=fmt))
    message = (
        f"{path}: manifest format {fmt} is not supported (this edge-predict reads formats 1, 2, 3); "
        "upgrade edge-predict or re-export the model"
    )
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value) == message
    result = cli_runner.invoke(cli, ["info", "--model", str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"edge-predict: error: {message}\n")


BASE = {
    "format": 1,
    "threshold": 0.5,
    "labels": ["no", "yes"],
    "training": {},
    "versions": {"opset": 17},
    "features": [{"name": "a", "min": None, "max": None}, {"name": "b", "min": None, "max": None}],
    "golden": {"inputs": [[0.0, 0.0]], "probabilities": [0.5], "atol": 1e-6},
}


def two_feature_model(manifest: dict, shift: float = 0.0) -> bytes:
    """p = sigmoid((a - shift) - (b - shift)): a standardizing graph whose Sub overflows for huge inputs."""
    shift_c = numpy_helper.from_array(np.full((1, 2), shift, np.float32), "shift")
    weights = numpy_helper.from_array(np.array([[1.0], [-1.0]], np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["x", "shift"], ["c"]),
            helper.make_node("MatMul", ["c", "w"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p"]),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])],
        [shift_c, weights],
    )
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


@pytest.mark.parametrize(
    "edits, what",
    [
        ({"versions": ...}, "versions is missing or not an object"),
        ({"training": ...}, "training is missing or not an object"),
        ({"training": [1]}, "training is missing or not an object"),
        ({"format": ...}, "format is missing or not an integer"),
        ({"threshold": "0.5"}, "threshold is '0.5', expected a number in [0, 1]"),
        ({"threshold": 1.5}, "threshold is 1.5, expected a number in [0, 1]"),
        ({"threshold": True}, "threshold is True, expected a number in [0, 1]"),
        ({"labels": ["x", "x"]}, "labels is ['x', 'x'], expected 2 or more different names without NUL characters"),
        ({"labels": ["x", 1]}, "labels is ['x', 1], expected 2 or more different names without NUL characters"),
        ({"labels": ["x"]}, "labels is ['x'], expected 2 or more different names without NUL characters"),
        (
            {"labels": ["x", "x\0"]},
            "labels is ['x', 'x\\x00'], expected 2 or more different names without NUL characters",
        ),
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
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
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
    assert str(info.value) == (
        f"sample {first}: the model computed NaN (the input overflows float32 arithmetic inside the model)"
    )
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
    assert result.stderr == (
        "edge-predict: error: argument 1: this sample makes the model compute NaN "
        "(the input overflows float32 arithmetic inside the model)\n"
    )


def test_nan_golden_vector_fails_verification(tmp_path):
    data = two_feature_model(changed(golden__inputs=[[3e38, 3e38]]), shift=-3e38)
    with pytest.raises(VerificationError, match=r"^<bytes>: golden vectors do not match: golden vector 0 scores NaN"):
        Predictor.from_bytes(data)
    with pytest.raises(VerificationError, match=r"^<bytes>: golden vectors do not match: golden vector 0 scores NaN"):
        Predictor.from_bytes(data, verify=False).verify()


def test_onnxruntime_run_failure_is_a_model_error():
    # Reshape to a fixed 3 values fails at run time for any batch that is not 3 values
    shape = numpy_helper.from_array(np.array([3], np.int64), "shape")
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "shape"], ["r"]), helper.make_node("Sigmoid", ["r"], ["p"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 2])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [3])],
        [shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {METADATA_KEY: json.dumps(BASE)})
    # onnxruntime's own first line is quoted: it says what failed
    ort_said = r"\(\[ONNXRuntimeError\] : \d+ : \w+ : [^\n]*Reshape[^\n]*\); re-export or re-copy it$"
    with pytest.raises(ModelError, match=r"^<bytes>: onnxruntime failed to score with this model " + ort_said):
        Predictor.from_bytes(model.SerializeToString())  # the golden vectors, at load
    predictor = Predictor.from_bytes(model.SerializeToString(), verify=False)
    with pytest.raises(ModelError, match=r"^<bytes>: onnxruntime failed to score with this model \("):
        predictor.predict_proba([[1.0, 2.0]])[:, 1]


@pytest.mark.parametrize("threshold", [math.nan, math.inf, -0.1, -5e-324, 1.0000001, 1.5, 7, "x", None.__class__])
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
    with pytest.raises(
        InputError,
        match=r"^X is ragged: rows of different lengths, but the model expects every "
        r"sample to have 2 features \(a, b\)$",
    ):
        predictor.predict_proba(X)[:, 1]


def test_a_format_2_file_without_its_integrity_digest_is_refused(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(handmade.model(handmade.manifest(), seal=False))
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value) == (
        f"{path}: the model file has no integrity digest (or a damaged one), which its manifest "
        "format requires: it was damaged or re-saved after export; re-copy or re-export it"
    )
