"""Manifest format 2: binary, multiclass and regression models through the API and the CLI; format 1 still reads."""

import csv
import io
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge_predict import InputError, ModelError, Predictor
from edge_predict.cli import cli
from edge_predict.model.manifest import METADATA_KEY
from helpers import DATA, sealed

FORMAT1 = DATA / "default_format1.onnx"  # models/default.onnx as devices have it
FORMAT2 = DATA / "default_format2.onnx"  # models/default.onnx of rounds 2 to 4, as devices have it
RNG = np.random.default_rng(0)
W = RNG.normal(size=(3, 4)).astype(np.float32)  # 3 features -> 4 outputs
B = RNG.normal(size=4).astype(np.float32)
X = RNG.uniform(-2, 2, size=(50, 3)).astype(np.float32)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def model_bytes(task: str, width: int, **manifest) -> bytes:
    """x @ W + B, then Softmax (multiclass) or nothing (regression): numpy is the oracle."""
    nodes = [helper.make_node("Gemm", ["x", "W", "B"], ["z"])]
    last = "z"
    if task == "multiclass":
        nodes.append(helper.make_node("Softmax", ["z"], ["p"], axis=1))
        last = "p"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, ["n", width])],
        [numpy_helper.from_array(W[:, :width], "W"), numpy_helper.from_array(B[:width], "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    golden = oracle(task, X[:5], width)
    doc = {
        "format": 2,
        "task": task,
        "features": [{"name": n, "min": None, "max": None} for n in "abc"],
        "training": {},
        "versions": {},
        "golden": {"inputs": X[:5].tolist(), "outputs": golden.tolist(), "atol": 1e-5, "rtol": 1e-5},
        **manifest,
    }
    helper.set_model_props(model, {METADATA_KEY: json.dumps(doc)})
    return sealed(model)


def oracle(task, x, width):
    z = x.astype(np.float64) @ W[:, :width].astype(np.float64) + B[:width]
    return softmax(z) if task == "multiclass" else z


@pytest.fixture(scope="module")
def multiclass():
    return Predictor.from_bytes(model_bytes("multiclass", 4, labels=["setosa", "versicolor", "virginica", "x y"]))


@pytest.fixture(scope="module")
def regression():
    return Predictor.from_bytes(model_bytes("regression", 2, targets=["price", "rent"]))


def test_multiclass_api_is_sklearn_shaped(multiclass):
    proba = multiclass.predict_proba(X)
    assert proba.shape == (50, 4) and proba.dtype == np.float32
    np.testing.assert_allclose(proba, oracle("multiclass", X, 4), rtol=0, atol=1e-6)
    assert list(multiclass.classes_) == ["setosa", "versicolor", "virginica", "x y"]
    np.testing.assert_array_equal(multiclass.predict(X), multiclass.classes_[proba.argmax(axis=1)])
    assert (multiclass.n_features_in_, list(multiclass.feature_names_in_)) == (3, ["a", "b", "c"])
    with pytest.raises(AttributeError, match="only binary models have one"):
        multiclass.threshold


def test_predict_table_columns_are_named_as_the_cli_prints_them(multiclass, regression):
    table = multiclass.predict_table(X)
    assert list(table) == ["label", "p_setosa", "p_versicolor", "p_virginica", "p_x y"]
    np.testing.assert_array_equal(
        np.column_stack([table[f"p_{c}"] for c in multiclass.classes_]), multiclass.predict_proba(X)
    )
    assert list(regression.predict_table(X)) == ["price", "rent"]


def test_regression_api_returns_values(regression):
    np.testing.assert_allclose(regression.predict(X), oracle("regression", X, 2), rtol=1e-6, atol=1e-5)
    with pytest.raises(AttributeError, match="no class probabilities; use predict"):
        regression.predict_proba(X)
    with pytest.raises(AttributeError, match="no classes_"):
        regression.classes_
    one = Predictor.from_bytes(model_bytes("regression", 1, targets=["value"]))
    assert one.predict(X).shape == (50,)


def test_binary_predict_proba_columns_follow_classes():
    p = Predictor.from_path(FORMAT1).predict_proba([1.0, 7.0])
    assert p.shape == (2, 2)
    np.testing.assert_array_equal(p[:, 0], np.float32(1) - p[:, 1])


def test_format1_file_loads_verifies_and_scores_as_the_current_default():
    # The current default trains with BCEWithLogitsLoss where the format-1 one used BCELoss: the same model up
    # to float32 rounding of the weights (probabilities within 1e-6, the parity tolerance), the same labels.
    old, new = Predictor.from_path(FORMAT1), Predictor.default()
    assert (old.manifest["format"], new.manifest["format"]) == (1, 3)
    assert old.verify() <= 1e-6
    x = np.linspace(0, 100, 1001, dtype=np.float32)
    np.testing.assert_allclose(old.predict_proba(x), new.predict_proba(x), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(old.predict(x), new.predict(x))


def test_format2_file_loads_verifies_and_scores_bit_for_bit_as_the_format3_default():
    # The same lecture model: format 2's graph gives P(pass) and the runtime builds [1 - p, p]; format 3's graph
    # emits the pair itself. Both compute 1 - p in float32, so every output is the same bits.
    old, new = Predictor.from_path(FORMAT2), Predictor.default()
    assert (old.manifest["format"], new.manifest["format"]) == (2, 3)
    assert old.verify() <= 1e-6
    for n in (1, 2, 7, 64, 65, 1000):
        x = np.random.default_rng(n).uniform(0, 100, (n, 1)).astype(np.float32)
        np.testing.assert_array_equal(old.predict_proba(x), new.predict_proba(x))
        np.testing.assert_array_equal(old.predict(x), new.predict(x))
        for name, column in old.predict_table(x).items():
            np.testing.assert_array_equal(column, new.predict_table(x)[name])


def test_threshold_is_for_binary_models_only():
    with pytest.raises(InputError, match="only binary models have a threshold; this model is regression"):
        Predictor.from_bytes(model_bytes("regression", 1, targets=["value"]), threshold=0.5)


@pytest.mark.parametrize(
    "task, width, extra, message",
    [
        (
            "multiclass",
            4,
            {"labels": ["a1", "b1"]},
            "labels is ['a1', 'b1'], expected 3 or more different names without NUL characters",
        ),
        ("multiclass", 4, {"labels": ["p", "q", "r", "s"], "threshold": 0.5}, "a multiclass model has no threshold"),
        (
            "regression",
            2,
            {"targets": ["v", "v"]},
            "targets is ['v', 'v'], expected 1 or more different names without NUL characters",
        ),
        ("regression", 2, {"targets": ["v"], "labels": ["a", "b"]}, "a regression model has no labels or threshold"),
        ("regression", 2, {"targets": ["a", "w"]}, "feature 'a' has the name of an output column"),
        ("clustering", 2, {}, "task is 'clustering', expected one of binary, multiclass, regression"),
    ],
)
def test_invalid_format2_manifests_are_refused(task, width, extra, message):
    with pytest.raises(ModelError, match="manifest is invalid"):
        try:
            Predictor.from_bytes(model_bytes(task, width, **extra))
        except ModelError as exc:
            assert message in str(exc)
            raise


def test_graph_width_must_match_the_manifest():
    data = model_bytes("regression", 2, targets=["only_one"])
    with pytest.raises(ModelError, match="manifest is invalid|outputs 2 values per sample"):
        Predictor.from_bytes(data)


@pytest.fixture
def model_file(tmp_path_factory):
    def write(task, width, **manifest):
        path = tmp_path_factory.mktemp("m") / f"{task}.onnx"
        path.write_bytes(model_bytes(task, width, **manifest))
        return str(path)

    return write


def test_multiclass_cli_csv_and_json(cli_runner, model_file):
    path = model_file("multiclass", 4, labels=["setosa", "versicolor", "virginica", "x y"])
    args = ["predict", "--model", path] + [",".join(f"{v:.3f}" for v in row) for row in X[:4]]
    rows = list(csv.reader(io.StringIO(cli_runner.invoke(cli, args + ["-f", "csv"]).stdout)))
    assert rows[0] == ["a", "b", "c", "label", "p_setosa", "p_versicolor", "p_virginica", "p_x y"]
    x = np.float32([[float(v) for v in row[:3]] for row in rows[1:]])
    np.testing.assert_allclose(
        np.float32([[float(v) for v in row[4:]] for row in rows[1:]]), oracle("multiclass", x, 4), atol=1e-6
    )
    lines = cli_runner.invoke(cli, args + ["-f", "json"]).stdout.splitlines()
    first = json.loads(lines[0])
    assert list(first) == ["input", "label", "probabilities"]
    assert list(first["probabilities"]) == ["setosa", "versicolor", "virginica", "x y"]
    assert first["label"] == max(first["probabilities"], key=first["probabilities"].get)
    assert all(": " not in line and ", " not in line.replace('"x y"', "") for line in lines)


def test_regression_cli_prints_one_column_per_target(cli_runner, model_file):
    path = model_file("regression", 2, targets=["price", "rent"])
    result = cli_runner.invoke(cli, ["predict", "--model", path, "-f", "csv", "0.5,-1,2"])
    header, row = list(csv.reader(io.StringIO(result.stdout)))
    assert header == ["a", "b", "c", "price", "rent"]
    np.testing.assert_allclose(np.float32(row[3:]), oracle("regression", np.float32([[0.5, -1, 2]]), 2)[0], rtol=1e-6)


@pytest.mark.parametrize(
    "task, width, manifest",
    [("multiclass", 4, {"labels": ["p", "q", "r", "s"]}), ("regression", 1, {"targets": ["value"]})],
)
def test_threshold_on_a_non_binary_model_is_a_usage_error(cli_runner, model_file, task, width, manifest):
    result = cli_runner.invoke(
        cli, ["predict", "--model", model_file(task, width, **manifest), "--threshold", "0.3", "1,2,3"]
    )
    assert result.exit_code == 2
    assert f"--threshold 0.3: only binary models have a threshold; this model is {task}" in result.stderr


def test_info_shows_the_task(cli_runner, model_file):
    out = cli_runner.invoke(cli, ["info", "--model", model_file("regression", 2, targets=["price", "rent"])]).stdout
    assert "task:      regression" in out and "targets:   price, rent" in out
    assert "task:      binary" in cli_runner.invoke(cli, ["info", "--model", str(FORMAT1)]).stdout
