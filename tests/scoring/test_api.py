"""The Python API: input shapes it accepts, errors that tell the fix, read-only facts, pickling."""

import os
import pickle

import numpy as np
import pytest

from edge_predict import InputError, ModelError, Predictor, VerificationError
from edge_predict.cli import cli
from helpers import handmade


@pytest.fixture(scope="module")
def predictor(model_path):
    return Predictor.from_path(model_path)


@pytest.mark.parametrize(
    "X, n",
    [
        (7, 1),
        (7.0, 1),
        (np.float64(7), 1),
        ([1, 7], 2),
        ((1.0, 7.0), 2),
        (np.array([1, 7], np.int32), 2),
        (np.array([[1.0], [7.0]]), 2),
        (np.zeros((0 + 5, 1)), 5),
    ],
)
def test_accepted_shapes_give_one_probability_per_sample(predictor, X, n):
    p = predictor.predict_proba(X)[:, 1]
    assert p.shape == (n,) and p.dtype == np.float32
    assert predictor.predict(X).shape == (n,)


def test_scalar_list_and_2d_agree(predictor):
    a = predictor.predict_proba(7)[:, 1]
    b = predictor.predict_proba([7])[:, 1]
    c = predictor.predict_proba([[7.0]])[:, 1]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, c)


def test_predict_applies_threshold(predictor):
    np.testing.assert_array_equal(predictor.predict([1, 7]), ["fail", "pass"])
    stricter = Predictor.from_path(predictor.source, threshold=0.99)
    np.testing.assert_array_equal(stricter.predict([1, 7]), ["fail", "fail"])


@pytest.mark.parametrize(
    "X, message",
    [
        ("abc", "X has dtype <U3, but the model expects numbers"),
        ([[1.0, 2.0]], "X has 2 features per sample, but the model expects 1 (hours)"),
        (np.zeros((2, 1, 1)), "X has 3 dimensions"),
        ([], "X has no samples"),
        ([1.0, float("nan")], "sample 1, hours: nan is NaN; expected a finite number"),
        ([float("inf")], "sample 0, hours: inf is infinite; expected a finite number"),
        ([1e39], "sample 0, hours: 1e+39 overflows float32 (largest 3.403e+38)"),
        ([-1.0], "sample 0, hours: -1 is outside the model's domain (expected >= 0)"),
    ],
)
def test_bad_input_is_an_input_error_that_says_what_to_fix(predictor, X, message):
    with pytest.raises(InputError) as info:
        predictor.predict_proba(X)[:, 1]
    assert str(info.value).startswith(message)


def test_facts_are_read_only(predictor):
    assert predictor.feature_names == ("hours",)
    assert predictor.labels == ("fail", "pass")
    assert predictor.threshold == 0.5
    predictor.manifest["threshold"] = 0.9
    assert predictor.manifest["threshold"] == 0.5
    with pytest.raises(AttributeError):
        predictor.threshold = 0.1


GOLDEN_P = [0.125, 0.25, 0.5, 1.0]  # p = x: the graph's outputs are exactly these float32 values


def off_by(shifts, atol, rtol=None) -> bytes:
    """The p = x model whose golden outputs are GOLDEN_P moved by `shifts`: its differences are known exactly."""
    return handmade.identity(
        golden_inputs=[[p] for p in GOLDEN_P],
        golden_outputs=[[p + d] for p, d in zip(GOLDEN_P, shifts)],
        atol=atol,
        rtol=rtol,
    )


# |got - expected| is computed from a float32 output and a float64 golden value near 1: 1e-12 is far below
# any difference that matters and far above float64 rounding.
EXACT = 1e-12


@pytest.mark.parametrize(
    "shifts, atol, rtol",
    [
        ([0, 0, 0, 0], 1e-6, None),
        ([1e-7, -6e-7, 2e-7, 0], 1e-6, None),
        ([0, 0, 0, -9.5e-7], 1e-6, None),
        ([0, 0, 0, -1.9e-6], 1e-6, 1e-6),  # beyond atol, within atol + rtol * |1.0|
    ],
    ids=["exact", "largest in the middle", "negative, near atol", "within rtol"],
)
def test_verify_returns_the_largest_golden_difference(shifts, atol, rtol):
    predictor = Predictor.from_bytes(off_by(shifts, atol, rtol))  # verifies at load: within tolerance
    assert predictor.verify() == pytest.approx(max(abs(d) for d in shifts), rel=0, abs=EXACT)


@pytest.mark.parametrize(
    "shifts, atol, rtol, bound",
    [
        ([0, 1.5e-6, 0, 0], 1e-6, None, "atol 1e-06"),
        ([0, 0, 0, -2e-6], 1e-6, None, "atol 1e-06"),
        ([1.2e-6, 0, 0, 0], 1e-6, 1e-6, "atol 1e-06 + rtol 1e-06 x |expected|"),  # rtol * 0.125 is too little
        ([0, 0, -0.025, 0], 0.01, None, "atol 0.01"),  # the loosest tolerance a classifier may have
    ],
)
def test_verify_refuses_a_difference_beyond_the_tolerance_and_reports_it(shifts, atol, rtol, bound):
    largest = max(abs(d) for d in shifts)
    data = off_by(shifts, atol, rtol)
    with pytest.raises(VerificationError) as at_load:
        Predictor.from_bytes(data)
    with pytest.raises(VerificationError) as on_call:
        Predictor.from_bytes(data, verify=False).verify()
    for error in (at_load.value, on_call.value):
        assert error.difference == pytest.approx(largest, rel=0, abs=EXACT)
        assert str(error) == (
            f"<bytes>: golden vectors do not match: largest difference {largest:.3g} > {bound}; "
            "this file or this device does not compute what torch computed"
        )


def test_rtol_scales_with_the_size_of_negative_values_too():
    doc = handmade.manifest(
        "regression",
        features=[("x", None, None)],
        golden_inputs=[[-1.0], [-4.0]],
        golden_outputs=[[-1.0 + 1.9e-6], [-4.0]],
        atol=1e-6,
        rtol=1e-6,
    )
    assert Predictor.from_bytes(handmade.model(doc)).verify() == pytest.approx(1.9e-6, rel=0, abs=EXACT)


def test_cli_verify_prints_the_largest_difference(cli_runner, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(off_by([1e-7, -6e-7, 2e-7, 0], 1e-6))
    result = cli_runner.invoke(cli, ["verify", "--model", str(path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("ok: 4 golden vectors match (largest difference 6e-07 <= atol 1e-06); sha256 ")


def test_pickled_predictor_scores_the_same(predictor):
    clone = pickle.loads(pickle.dumps(predictor))
    X = np.linspace(0, 10, 101)
    np.testing.assert_array_equal(clone.predict_proba(X)[:, 1], predictor.predict_proba(X)[:, 1])
    assert clone.sha256 == predictor.sha256 and clone.threshold == predictor.threshold


def test_pickling_keeps_the_source_and_a_threshold_given_at_load(predictor):
    custom = Predictor.from_path(predictor.source, threshold=0.25)
    clone = pickle.loads(pickle.dumps(custom))
    assert (clone.source, clone.threshold) == (predictor.source, 0.25)


def test_default_is_the_packaged_model():
    assert Predictor.default().predict([1, 7]).tolist() == ["fail", "pass"]


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such model file"),
        (b"", "the model file is empty"),
        (b"\x00\x01garbage" * 10, "not a valid ONNX model"),
    ],
)
def test_bad_model_files_are_model_errors(tmp_path, content, message):
    path = tmp_path / "m.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        Predictor.from_path(path)


@pytest.mark.parametrize("threads", [0, -1, (os.cpu_count() or 1) + 1])
def test_thread_count_outside_one_to_cpus_is_refused(threads):
    with pytest.raises(ValueError, match=rf"threads={threads}: expected 1 to {os.cpu_count() or 1}"):
        Predictor.default(threads=threads)
