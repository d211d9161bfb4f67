"""onnxruntime, through the runtime, computes what torch computed on the lecture model (policy: parity.py)."""

import csv
import io
import json

import numpy as np
import pytest

from helpers import DEFAULT_MODEL, torch_proba
from edge_predict import Predictor
from helpers.parity import ATOL, export_plain, labels_differ_only_near

F32 = np.float32
TRAINING = F32([1, 2, 3, 4])
GRID = np.linspace(0, 50, 50_001, dtype=F32)  # step 0.001 over every probability the model gives
LARGE = np.concatenate([np.geomspace(1, 3e38, 400, dtype=F32), [np.finfo(F32).max]])
ROUNDING = np.array([1 + 2**-24, 1 + 3 * 2**-24, 0.1, 1 / 3, 2.5 + 1e-12, 7 - 1e-9, 1e-40, 123456.789])


@pytest.fixture(scope="module")
def torch_model(lecture):
    return lecture[0].model


@pytest.fixture(scope="module")
def predictor(model_path):
    """One predictor, one onnxruntime session, for every test in this module."""
    return Predictor.from_path(model_path)


@pytest.fixture(scope="module")
def open_predictor(torch_model, tmp_path_factory):
    """The same trained model exported without the hours >= 0 domain, so negative inputs are scored."""
    path = tmp_path_factory.mktemp("open") / "lecture-open.onnx"
    export_plain(torch_model, path, 1, TRAINING)
    return Predictor.from_path(path)


@pytest.fixture(scope="module")
def boundary(torch_model):
    """float32 hours at the decision boundary w*x + b = 0, and 8 neighbours each side."""
    w, b = torch_model.inner.linear.weight.item(), torch_model.inner.linear.bias.item()
    x = F32(-b / w)
    steps = np.arange(-8, 9)
    return (x.view(np.int32) + steps).astype(np.int32).view(F32)


INPUTS = {"training": TRAINING, "zero": F32([0.0]), "grid": GRID, "large": LARGE}


@pytest.mark.parametrize("name", INPUTS)
def test_api_matches_torch(predictor, torch_model, name):
    x = INPUTS[name]
    np.testing.assert_allclose(predictor.predict_proba(x)[:, 1], torch_proba(torch_model, x), rtol=0, atol=ATOL)


@pytest.mark.parametrize("name", INPUTS)
def test_negative_inputs_match_torch(open_predictor, torch_model, name):
    x = -INPUTS[name]
    np.testing.assert_allclose(open_predictor.predict_proba(x)[:, 1], torch_proba(torch_model, x), rtol=0, atol=ATOL)


def test_boundary_matches_torch_at_one_half(predictor, torch_model, boundary):
    p = predictor.predict_proba(boundary)[:, 1]
    np.testing.assert_allclose(p, torch_proba(torch_model, boundary), rtol=0, atol=ATOL)
    np.testing.assert_allclose(p, 0.5, rtol=0, atol=ATOL)


@pytest.mark.parametrize("threshold", [1e-6, 0.1, 0.5, 0.9, 0.999, 1 - 1e-6])
def test_labels_differ_from_torch_only_within_atol_of_threshold(model_path, torch_model, boundary, threshold):
    x = np.concatenate([GRID, boundary, LARGE])
    labels = Predictor.from_path(model_path, threshold=threshold).predict(x) == "pass"
    assert labels_differ_only_near(threshold, torch_proba(torch_model, x), labels, ATOL).size == 0


def test_float64_inputs_round_to_float32_like_torch_sees_them(predictor, torch_model):
    x32 = ROUNDING.astype(F32)
    assert (x32.astype(np.float64) != ROUNDING).all()  # every case really rounds
    np.testing.assert_array_equal(predictor.predict_proba(ROUNDING)[:, 1], predictor.predict_proba(x32)[:, 1])
    np.testing.assert_allclose(
        predictor.predict_proba(ROUNDING)[:, 1], torch_proba(torch_model, x32), rtol=0, atol=ATOL
    )


@pytest.fixture(scope="module")
def million(predictor, torch_model):
    """A million random hours, scored once by the shared session and once by torch."""
    x = np.random.default_rng(4).uniform(0, 20, 1_000_000).astype(F32)
    return x, predictor.predict_proba(x)[:, 1], torch_proba(torch_model, x)


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 1_000_000])
def test_batch_size_changes_nothing(predictor, million, n):
    x, whole, expected = million
    for start in {0, len(x) - n, min(3, len(x) - n)}:
        got = predictor.predict_proba(x[start : start + n])[:, 1]
        np.testing.assert_array_equal(got, whole[start : start + n])  # bit-identical whatever the batch
        np.testing.assert_allclose(got, expected[start : start + n], rtol=0, atol=ATOL)


def test_exported_golden_vectors_are_torch_outputs(predictor, torch_model):
    golden = predictor.manifest["golden"]
    np.testing.assert_array_equal(np.float32(golden["outputs"])[:, 1], torch_proba(torch_model, golden["inputs"]))


def test_the_product_checks_with_the_tolerance_the_tests_use():
    from edge_predict.trainer.exporter import PARITY_ATOL

    assert PARITY_ATOL == ATOL
    assert Predictor.from_path(DEFAULT_MODEL).manifest["golden"]["atol"] == ATOL


@pytest.fixture(scope="module")
def grid_file(boundary, tmp_path_factory):
    """Every grid, boundary and large input as a CSV the CLI reads, each written as its exact float32."""
    x = np.concatenate([TRAINING, GRID, boundary, LARGE])
    path = tmp_path_factory.mktemp("cli") / "grid.csv"
    path.write_text("hours\n" + "\n".join(f"{v:.9g}" for v in x.tolist()) + "\n")
    return x, path


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_cli_prints_exactly_the_float32_the_api_returns(cli_runner, predictor, grid_file, fmt):
    from edge_predict.cli import cli

    x, path = grid_file
    result = cli_runner.invoke(cli, ["predict", "-i", str(path), "-f", fmt, "-m", predictor.source])
    assert result.exit_code == 0, result.stderr
    if fmt == "json":
        printed = [json.loads(line)["probability"] for line in result.stdout.splitlines()]
    else:
        printed = [row["probability"] for row in csv.DictReader(io.StringIO(result.stdout))]
    np.testing.assert_array_equal(np.array(printed, dtype=np.float64).astype(F32), predictor.predict_proba(x)[:, 1])
