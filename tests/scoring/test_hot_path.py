"""predict_proba's fast paths (float32 arrays, bound small batches, one min and max) decide as the slow path does."""

import warnings

import numpy as np
import pytest

from helpers import handmade
from edge_predict import InputError, Predictor

F32_MAX = float(np.finfo(np.float32).max)
SIZES = [1, 8, 9, 64, 100_000]  # Python floats up to 8 values; bound calls up to 1,024 rows, session.run above


@pytest.fixture(scope="module")
def predictor(model_path):
    return Predictor.from_path(model_path)  # domain of hours: [0, inf)


def batch(n: int, last: float, dtype=np.float32) -> np.ndarray:
    x = np.full((n, 1), 3.0, dtype)
    x[-1, 0] = last
    return x


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("value", [0.0, -0.0, 1e-45, 7.0, F32_MAX])
def test_values_in_the_domain_are_scored(predictor, n, value):
    p = predictor.predict_proba(batch(n, value))[:, 1]
    assert p.shape == (n,) and np.all((p >= 0) & (p <= 1))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "value, message",
    [
        (float("nan"), "hours: nan is NaN"),
        (float("inf"), "hours: inf is infinite"),
        (-float("inf"), "hours: -inf is infinite"),
        (-1.0, "hours: -1 is outside the model's domain"),
        (-1e-45, "hours: -1.4013e-45 is outside the model's domain"),
    ],
)
def test_values_outside_are_named(predictor, n, value, message):
    with pytest.raises(InputError) as info:
        predictor.predict_proba(batch(n, value))[:, 1]
    assert str(info.value).startswith(f"sample {n - 1}, {message}")


@pytest.mark.parametrize("n", SIZES)
def test_float64_beyond_float32_overflows(predictor, n):
    with pytest.raises(InputError) as info:
        predictor.predict_proba(batch(n, 1e39, np.float64))[:, 1]
    assert str(info.value).startswith(f"sample {n - 1}, hours: 1e+39 overflows float32")


@pytest.mark.parametrize("x", [np.asfortranarray(np.ones((3, 1), np.float32))[::2], np.ones((4, 1), ">f4")])
def test_arrays_that_need_a_copy_score_like_a_plain_one(predictor, x):
    np.testing.assert_array_equal(
        predictor.predict_proba(x)[:, 1], predictor.predict_proba(np.ascontiguousarray(x, "<f4"))[:, 1]
    )


def test_a_large_float32_array_is_scored_without_a_copy(predictor, monkeypatch):
    """Above the bound call's batches (model/_fast/binding.py copies those into its buffer) the array itself is fed."""
    import onnxruntime

    from edge_predict.model._fast.binding import MAX_ROWS

    fed = []
    run = onnxruntime.InferenceSession.run
    monkeypatch.setattr(
        onnxruntime.InferenceSession,
        "run",
        lambda self, names, feed, *a: fed.append(next(iter(feed.values()))) or run(self, names, feed, *a),
    )
    x = batch(MAX_ROWS + 1, 7.0)
    predictor.predict_proba(x)[:, 1]
    assert fed[0] is x


def test_small_batches_give_the_probabilities_large_ones_do(predictor):
    """Up to 8 samples [1 - p, p] is built from Python floats, above with numpy; batches of up to 1,024 rows are
    bound calls, larger ones session.run: the same float32 bits in every case."""
    hours = np.random.default_rng(0).uniform(0, 40, (1100, 1)).astype(np.float32)
    hours[:3, 0] = [0.0, 1e-30, 3.4e38]  # p at and near 0 and 1
    large = predictor.predict_proba(hours)
    for size in (1, 8, 50):
        small = np.concatenate([predictor.predict_proba(hours[i : i + size]) for i in range(0, 1100, size)])
        assert small.dtype == large.dtype == np.float32 and small.shape == large.shape == (1100, 2)
        np.testing.assert_array_equal(small.view(np.uint32), large.view(np.uint32))


def test_one_minus_p_in_float64_rounds_as_float32_subtraction():
    """The small path's premise: float32(1.0 - p) computed in float64 is float32(1) - p, here for every 256th float32
    bit pattern in [0, 1] (all 1,065,353,217 agreed when compared once)."""
    p = np.arange(0, int(np.float32(1).view(np.uint32)) + 1, 1 << 8, dtype=np.uint32).view(np.float32)
    np.testing.assert_array_equal((1.0 - p.astype(np.float64)).astype(np.float32), np.float32(1) - p)


@pytest.fixture(scope="module")
def unbounded():
    """y = x @ 0 over 8 features without a domain: any finite float32 is accepted."""
    doc = handmade.manifest("regression", [(f"x{j}", None, None) for j in range(8)], [[0.0] * 8], [[0.0]])
    return Predictor.from_bytes(handmade.weighted_sum([0.0] * 8, doc))


@pytest.mark.parametrize("rows", [1, 2, 9, 1000])  # 1 x 8 values in Python, 2 x 8 and more with numpy
@pytest.mark.parametrize("value, problem", [(np.nan, "is NaN"), (np.inf, "is infinite"), (-np.inf, "is infinite")])
@pytest.mark.parametrize("where", [0, 5, 7])
def test_without_a_domain_finite_values_pass_and_others_are_named(unbounded, rows, value, problem, where):
    x = np.full((rows, 8), F32_MAX, np.float32)
    x[::2] = -F32_MAX  # the largest finite values, both signs
    with warnings.catch_warnings():  # the check's own overflow or inf - inf is never the caller's RuntimeWarning
        warnings.simplefilter("error")
        np.testing.assert_array_equal(unbounded.predict(x), np.zeros(rows, np.float32))
        x[rows - 1, where] = value
        with pytest.raises(InputError, match=rf"^sample {rows - 1}, x{where}: {value:g} {problem}"):
            unbounded.predict(x)
        x[0, (where + 1) % 8] = -np.inf if value == np.inf else np.inf  # inf and -inf together: the sum is NaN
        with pytest.raises(InputError, match=r"is infinite|is NaN"):
            unbounded.predict(x)
