"""Bad model files: each refused with one line saying what is wrong and what to do, exit 1."""

import json
import random

import onnx
import pytest
from onnx import TensorProto, helper

from edge_predict import VerificationError, ModelError, Predictor
from edge_predict.cli import cli
from conftest import sealed
import handmade
from edge_predict.manifest import METADATA_KEY


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
    return with_manifest(helper.make_graph([helper.make_node("Add", ["hours", "z"], ["s"]),
                                            helper.make_node("Sigmoid", ["s"], ["p"])],
                                           "g", [value("hours"), value("z")], [value("p")]), good)


def integer_input(good):
    return with_manifest(helper.make_graph([helper.make_node("Cast", ["hours"], ["f"], to=TensorProto.FLOAT),
                                            helper.make_node("Sigmoid", ["f"], ["p"])],
                                           "g", [value("hours", TensorProto.INT64)], [value("p")]), good)


def rank3_input(good):
    return with_manifest(helper.make_graph([helper.make_node("Sigmoid", ["hours"], ["p"])], "g",
                                           [value("hours", shape=("n", 1, 1))], [value("p", shape=("n", 1, 1))]), good)


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


@pytest.mark.parametrize("build, message", [
    (None, "no such model file; pass --model PATH to an exported .onnx"),
    ("dir", "is a directory, not a model file; pass the .onnx file itself"),
    (b"", "the model file is empty; re-export or re-copy it"),
    ("half", "not a valid ONNX model (corrupt or truncated at byte"),
    (random.Random(0).randbytes(4096), "not a valid ONNX model (corrupt or truncated at byte"),
    (two_inputs, "the model has 2 inputs and 1 outputs, but edge-predict scores models with exactly one of each"),
    (integer_input, "input 'hours' is tensor(int64) of rank 2, but edge-predict expects a float32 tensor"),
    (rank3_input, "input 'hours' is tensor(float) of rank 3, but edge-predict expects a float32 tensor"),
    (no_manifest, "no edge-predict manifest (metadata key 'edge_predict'); a plain ONNX model has no golden"),
    (lambda g: manifest_value(g, "{not json"), "the edge-predict manifest is corrupt (JSONDecodeError"),
    (lambda g: manifest_value(g, lambda m: m.pop("golden")), "the edge-predict manifest is invalid (golden is missing"),
    (new_ir, "the model is ONNX IR version 99, but onnxruntime "),
    (new_opset, "the model needs opset 40 of ai.onnx, but onnxruntime "),
], ids=["missing", "directory", "empty", "truncated", "random", "two-inputs", "int-input", "rank-3",
        "no-manifest", "manifest-not-json", "manifest-incomplete", "new-ir", "new-opset"])
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


@pytest.mark.parametrize("build, fix", [(new_ir, "re-export the model with an older onnx (edge-train --opset 17)"),
                                        (new_opset, "re-export the model with edge-train --opset 17")])
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


@pytest.mark.parametrize("args, env", [(["--max-model-bytes", "100"], {}),
                                       (["--max-model-bytes", "1K"], {}),
                                       ([], {"EDGE_PREDICT_MAX_MODEL_BYTES": "512"})])
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
    assert result.stderr.startswith(f"edge-predict: error: {path}: golden vectors do not match: "
                                    "largest difference 0.125 > atol")


@pytest.mark.parametrize("fmt", [3, 0, 99])
def test_a_manifest_format_this_runtime_does_not_read_is_refused(cli_runner, tmp_path, fmt):
    path = tmp_path / "m.onnx"
    path.write_bytes(handmade.identity(format=fmt))
    message = (f"{path}: manifest format {fmt} is not supported (this edge-predict reads formats 1, 2); "
               "upgrade edge-predict or re-export the model")
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value) == message
    result = cli_runner.invoke(cli, ["info", "--model", str(path)])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"edge-predict: error: {message}\n")
