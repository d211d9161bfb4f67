"""The Python API: input shapes it accepts, errors that tell the fix, read-only facts, pickling."""

import os
import pickle

import numpy as np
import pytest

from edge_predict import InputError, ModelError, Predictor


@pytest.fixture(scope="module")
def predictor(model_path):
    return Predictor.from_path(model_path)


@pytest.mark.parametrize("X, n", [
    (7, 1), (7.0, 1), (np.float64(7), 1), ([1, 7], 2), ((1.0, 7.0), 2),
    (np.array([1, 7], np.int32), 2), (np.array([[1.0], [7.0]]), 2), (np.zeros((0 + 5, 1)), 5),
])
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


@pytest.mark.parametrize("X, message", [
    ("abc", "X has dtype <U3, but the model expects numbers"),
    ([[1.0, 2.0]], "X has 2 features per sample, but the model expects 1 (hours)"),
    (np.zeros((2, 1, 1)), "X has 3 dimensions"),
    ([], "X has no samples"),
    ([1.0, float("nan")], "sample 1, hours: nan is NaN; expected a finite number"),
    ([float("inf")], "sample 0, hours: inf is infinite; expected a finite number"),
    ([1e39], "sample 0, hours: 1e+39 overflows float32 (largest 3.403e+38)"),
    ([-1.0], "sample 0, hours: -1 is outside the model's domain (expected >= 0)"),
])
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


def test_verify_returns_largest_difference_within_tolerance(predictor):
    diff = predictor.verify()
    assert 0 <= diff <= predictor.manifest["golden"]["atol"]


def test_pickled_predictor_scores_the_same(predictor):
    clone = pickle.loads(pickle.dumps(predictor))
    X = np.linspace(0, 10, 101)
    np.testing.assert_array_equal(clone.predict_proba(X)[:, 1], predictor.predict_proba(X)[:, 1])
    assert clone.sha256 == predictor.sha256 and clone.threshold == predictor.threshold


def test_default_is_the_packaged_model():
    assert Predictor.default().predict([1, 7]).tolist() == ["fail", "pass"]


@pytest.mark.parametrize("content, message", [
    (None, "no such model file"),
    (b"", "the model file is empty"),
    (b"\x00\x01garbage" * 10, "not a valid ONNX model"),
])
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
