"""A graph that does not compute what its manifest says is refused, never clipped into a plausible answer."""

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edge_predict import InputError, ModelError, Predictor
from edge_predict.cli import cli
from edge_predict.model.manifest import METADATA_KEY
from helpers import examples, sealed

EPS32 = float(np.finfo(np.float32).eps)


def passthrough_model(task: str, width: int, golden: list[list[float]], labels=("fail", "pass")) -> bytes:
    """A graph whose outputs are its inputs (Identity), declared as `task`: it 'computes' any number we feed it."""
    return graph_model([helper.make_node("Identity", ["x"], ["y"])], ["n", width], golden, golden, task, width, labels)


@pytest.fixture(scope="module")
def binary():
    return Predictor.from_bytes(passthrough_model("binary", 1, [[0.25], [0.75]]))


@pytest.fixture(scope="module")
def multiclass():
    return Predictor.from_bytes(passthrough_model("multiclass", 3, [[0.2, 0.3, 0.5]], labels=["a", "b", "c"]))


@settings(max_examples=examples(300), deadline=None)
@given(st.floats(width=32, allow_nan=False, allow_infinity=False), st.integers(1, 100))
def test_a_probability_is_returned_only_when_it_is_one(binary, value, n):
    """Any float32 the graph computes: within rounding of [0, 1] it is returned (clipped), else ModelError."""
    x = np.full((n, 1), value, np.float32)
    if -4 * EPS32 <= value <= 1 + 4 * EPS32:
        p = binary.predict_proba(x)[:, 1]
        np.testing.assert_allclose(p, value, rtol=0, atol=4 * EPS32)
        assert ((0 <= p) & (p <= 1)).all()
    else:
        with pytest.raises(ModelError, match=r"sample 0: the model computed the probability .* outside \[0, 1\]"):
            binary.predict_proba(x)


@pytest.mark.parametrize(
    "values, bad_row", [([0.5, 1.5], 1), ([-0.25, 0.5], 0), ([0.5] * 70 + [1.0625], 70), ([0.5] * 70 + [-1e-3], 70)]
)
def test_the_refusal_names_the_first_bad_sample(binary, values, bad_row):
    with pytest.raises(ModelError, match=f"sample {bad_row}: "):
        binary.predict(np.array(values)[:, None])


@pytest.mark.parametrize(
    "row, ok",
    [
        ([0.2, 0.3, 0.5], True),
        ([1.0, 0.0, 0.0], True),
        ([0.5, 0.5, 0.5], False),
        ([0.1, 0.1, 0.1], False),
        ([0.33, 0.33, 0.33], False),
    ],
)
def test_multiclass_rows_must_sum_to_one(multiclass, row, ok):
    x = np.array([[1 / 3, 1 / 3, 1 / 3], row])
    if ok:
        np.testing.assert_allclose(multiclass.predict_proba(x)[1], row, rtol=0, atol=1e-7)
    else:
        with pytest.raises(ModelError, match=r"sample 1: the model's class probabilities sum to .*, not 1"):
            multiclass.predict_proba(x)


def test_the_cli_refuses_with_one_line_and_exit_1(tmp_path, binary):
    model = tmp_path / "m.onnx"
    model.write_bytes(passthrough_model("binary", 1, [[0.25], [0.75]]))
    for fmt in ("text", "csv", "json"):
        run = subprocess.run(
            [sys.executable, "-m", "edge_predict.cli", "predict", "--model", str(model), "--format", fmt, "2"],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 1
        assert run.stdout == ""
        assert run.stderr.count("\n") == 1 and "the model computed the probability 2" in run.stderr


@pytest.mark.parametrize("value", [0.49999997, 0.50000006, 0.999999940, 1e-7])
def test_text_prints_the_probability_the_label_was_decided_on(cli_runner, tmp_path, value):
    """A rounded 0.500000 beside "fail" would contradict itself: text prints the float32's shortest decimal."""
    model = tmp_path / "m.onnx"
    model.write_bytes(passthrough_model("binary", 1, [[0.25], [0.75]]))
    result = cli_runner.invoke(cli, ["predict", "--model", str(model), "--format", "text", repr(value)])
    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[1].split()
    assert np.float32(float(row[1])) == np.float32(value)  # what is printed reads back as the computed float32
    assert (float(row[1]) >= 0.5) == (np.float32(value) >= 0.5)  # and sits on the same side of the threshold
    assert (row[2] == "pass") == (np.float32(value) >= 0.5)


@settings(max_examples=examples(500), deadline=None)
@given(st.floats(0, 1, width=32), st.floats(0, 1))
def test_the_label_is_p_at_or_above_the_threshold_exactly(p, threshold):
    """p >= threshold decided on the exact values, not on the threshold rounded to the nearest float32."""
    predictor = Predictor.from_bytes(passthrough_model("binary", 1, [[0.25], [0.75]]), threshold=threshold)
    for q in (
        p,
        float(np.nextafter(np.float32(threshold), np.float32(0))),
        float(np.float32(threshold)),
        float(np.nextafter(np.float32(threshold), np.float32(1))),
    ):
        label = predictor.predict(np.array([[q]]))[0]
        assert label == ("pass" if float(np.float32(q)) >= threshold else "fail"), (q, threshold)


def graph_model(nodes, out_shape, golden_in, golden_out, task="binary", width=1, labels=None) -> bytes:
    """x (n, width) through `nodes` to y, declared as `task` with these golden vectors (any graph, any output shape)."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    doc = {
        "format": 2,
        "task": task,
        "features": [{"name": f"f{i}", "min": None, "max": None} for i in range(width)],
        "training": {},
        "versions": {},
        "labels": list(labels) if labels else ["a", "b", "c"][: max(width, 2)],
        "golden": {"inputs": golden_in, "outputs": golden_out, "atol": 1e-6, "rtol": 0},
    }
    if task == "binary":
        doc["threshold"] = 0.5
    helper.set_model_props(model, {METADATA_KEY: json.dumps(doc)})
    return sealed(model)


def test_an_output_that_ignores_the_batch_is_refused_not_reshaped():
    """ReduceMean over the batch: one number for any n. At n = 1 it verifies; at n = 4 it must not be spread."""
    nodes = [helper.make_node("ReduceMean", ["x"], ["y"], axes=[0], keepdims=1)]
    with pytest.raises(ModelError, match=r"the graph returned an output of shape \(1, 1\) for 2 samples"):
        Predictor.from_bytes(graph_model(nodes, [1, 1], [[0.25]], [[0.25]]))  # golden vectors in a batch of 2 too
    predictor = Predictor.from_bytes(graph_model(nodes, [1, 1], [[0.25]], [[0.25]]), verify=False)
    with pytest.raises(
        ModelError,
        match=r"the graph returned an output of shape \(1, 1\) for 4 samples, but the "
        r"manifest describes \(4, 1\)",
    ):
        predictor.predict_proba([[0.1], [0.2], [0.3], [0.4]])


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_a_transposed_output_is_refused_at_every_batch_size(n):
    """(width, n) instead of (n, width): reshaped, each sample would get other samples' probabilities."""
    nodes = [helper.make_node("Softmax", ["x"], ["s"], axis=1), helper.make_node("Transpose", ["s"], ["y"])]
    golden = [[0.0, 0.0, 0.0]] * 3
    x = np.random.default_rng(n).normal(size=(n, 3))
    data = graph_model(nodes, [3, "n"], golden, [[1 / 3] * 3] * 3, "multiclass", 3)
    with pytest.raises(ModelError, match=r"shape \(3, 1\) for 1 samples"):  # the golden vectors one at a time
        Predictor.from_bytes(data)
    predictor = Predictor.from_bytes(data, verify=False)
    if n == 3:  # square: the shape cannot tell; the rows of a transposed softmax do not sum to 1
        with pytest.raises(ModelError, match="sum to"):
            predictor.predict_proba(x + np.arange(3))
    else:
        with pytest.raises(ModelError, match=rf"shape \(3, {n}\) for {n} samples"):
            predictor.predict_proba(x)


@pytest.mark.parametrize("bad_line", [2, 3, 70_000, 140_001])
def test_the_cli_names_the_line_of_the_impossible_output(tmp_path, bad_line):
    """Scored in chunks, a sample's number within its chunk is no help: the refusal names the input line."""
    model = tmp_path / "m.onnx"
    model.write_bytes(passthrough_model("binary", 1, [[0.25], [0.75]]))
    lines = ["f0"] + ["0.5"] * 150_000
    lines[bad_line - 1] = "1.5"
    data = tmp_path / "in.csv"
    data.write_text("\n".join(lines) + "\n")
    run = subprocess.run(
        [sys.executable, "-m", "edge_predict.cli", "predict", "--model", str(model), "-i", str(data), "-f", "csv"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert f": line {bad_line}: the model computed the probability 1.5, outside [0, 1]" in run.stderr


def test_the_engines_name_the_row_of_the_impossible_output(binary):
    from edge_predict.distributed.table import output_columns, score_rows

    x = np.full((10, 1), 0.5)
    x[7] = 2.0
    for on_error in ("raise", "null"):  # a model fault is never a row to skip
        with pytest.raises(ModelError, match=r"partition 3, row 7: the model computed the probability 2, outside"):
            score_rows(binary, x, output_columns(binary), on_error, lambda row: f"partition 3, row {row}")


def scaling_regression_model(scale: float) -> bytes:
    """value = x * scale: a regression whose output leaves float32's range for |x| > float32 max / scale."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "s"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor("s", TensorProto.FLOAT, [], [scale])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    doc = {
        "format": 2,
        "task": "regression",
        "features": [{"name": "f0", "min": None, "max": None}],
        "targets": ["value"],
        "training": {},
        "versions": {},
        "golden": {"inputs": [[1.0]], "outputs": [[scale]], "atol": 1e-6, "rtol": 1e-6},
    }
    helper.set_model_props(model, {METADATA_KEY: json.dumps(doc)})
    return sealed(model)


@pytest.mark.parametrize("x", [1e30, -1e30])
def test_a_regression_value_beyond_float32_is_refused_not_printed_as_inf(cli_runner, tmp_path, x):
    """1e30 is a finite input, but 1e30 * 1e10 is beyond float32 (numpy agrees): the answer is an error, not inf."""
    with np.errstate(over="ignore"):
        assert np.isinf(np.float32(x) * np.float32(1e10))
    predictor = Predictor.from_bytes(scaling_regression_model(1e10))
    np.testing.assert_array_equal(predictor.predict([[2.0]]).ravel(), np.float32([2e10]))
    with pytest.raises(InputError) as info:
        predictor.predict([[2.0], [x]])
    assert str(info.value) == (
        "sample 1: the model computed an infinite value (the input overflows float32 arithmetic inside the model)"
    )
    assert info.value.row == 1
    model = tmp_path / "m.onnx"
    model.write_bytes(scaling_regression_model(1e10))
    result = cli_runner.invoke(cli, ["predict", "--model", str(model), "-f", "csv", "2", repr(x)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "edge-predict: error: argument 2: this sample makes the model compute an infinite value "
        "(the input overflows float32 arithmetic inside the model)\n"
    )
