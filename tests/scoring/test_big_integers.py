"""Integers beyond 2**53 reach float32 the same way on every path: through float64, as float() reads text."""

import json

import numpy as np
import pytest

from helpers import handmade
from edge_predict import Predictor
from edge_predict.cli import cli

# float64 rounds V to 2**60 + 2**36, a float32 tie that rounds to even: 2**60. Straight to float32 it is above the
# tie: 2**60 + 2**37, one float32 step away. The others: the first integer float64 cannot hold, and int64's largest.
V = 2**60 + 2**36 + 1
VALUES = [V, -V, 2**53 + 1, 2**63 - 1]
EXPECTED = np.float32([float(v) for v in VALUES])  # what the CLI reads from the text of each


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """y = x, a regression without a domain: the output is the float32 the runtime made of the input."""
    path = tmp_path_factory.mktemp("big") / "identity.onnx"
    path.write_bytes(handmade.model(handmade.manifest("regression", [("x", None, None)], [[0.0], [1.0]])))
    return path


def test_straight_to_float32_would_differ():
    assert np.float32(float(V)) != np.array([V], np.int64).astype(np.float32)[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda v: np.array(v, np.int64).reshape(-1, 1),
        lambda v: [[x] for x in v],
        lambda v: [[float(x)] for x in v],
        lambda v: np.ma.masked_array(np.array(v, np.int64).reshape(-1, 1)),
        lambda v: np.array(v, np.longdouble).reshape(-1, 1),
    ],
    ids=["int64 array", "list of ints", "list of floats", "masked int64 array", "long double array"],
)
def test_every_python_input_rounds_through_float64(model_path, make):
    np.testing.assert_array_equal(Predictor.from_path(model_path).predict(make(VALUES)), EXPECTED)


@pytest.mark.parametrize("v", [V, 2**63 + 2**39 + 1])  # beyond int64: a float32 tie after float64 as well
def test_uint64_rounds_through_float64(model_path, v):
    got = Predictor.from_path(model_path).predict(np.array([[v]], np.uint64))
    np.testing.assert_array_equal(got, np.float32([float(v)]))


def test_a_dataframe_rounds_as_an_array(model_path):
    pd = pytest.importorskip("pandas")
    got = Predictor.from_path(model_path).predict(pd.DataFrame({"x": np.array(VALUES, np.int64)}))
    np.testing.assert_array_equal(got, EXPECTED)


@pytest.mark.parametrize("source", ["arguments", "csv"])
def test_the_cli_and_the_api_give_identical_outputs(cli_runner, model_path, source):
    args = ["predict", "-m", str(model_path), "-f", "json"]
    if source == "arguments":
        result = cli_runner.invoke(cli, [*args, *map(str, VALUES)])
    else:
        result = cli_runner.invoke(cli, [*args, "-i", "-"], input="x\n" + "".join(f"{v}\n" for v in VALUES))
    assert result.exit_code == 0, result.stderr
    cli_values = np.float32([json.loads(line)["value"] for line in result.stdout.splitlines()])
    api_values = Predictor.from_path(model_path).predict(np.array(VALUES, np.int64).reshape(-1, 1))
    np.testing.assert_array_equal(cli_values, api_values)
