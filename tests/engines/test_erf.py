"""The numpy engine's erf (Cody's rational approximations in float64) against math.erf, far beyond float32's needs."""

import math

import numpy as np
import pytest

from edge_predict.engines.numpy.erf import erf

# float32's spacing near 1 is 6e-8: an erf good to 1e-15 rounds to the same float32 as the exact one almost always
MAX_ERROR = 1e-15


def test_erf_matches_math_erf_on_a_dense_grid():
    x = np.linspace(-8, 8, 400_001)
    want = np.array([math.erf(v) for v in x.tolist()])
    assert np.max(np.abs(erf(x) - want)) <= MAX_ERROR


@pytest.mark.parametrize("x", [0.0, -0.0, 1e-300, -1e-30, 0.4999999, 0.5, 3.9999999, 4.0, 5.9, 27.0, 1e300])
def test_erf_at_the_approximations_boundaries_and_far_out(x):
    assert abs(erf(np.array([x]))[0] - math.erf(x)) <= MAX_ERROR * max(1.0, abs(math.erf(x)))
    assert abs(erf(np.array([-x]))[0] - math.erf(-x)) <= MAX_ERROR * max(1.0, abs(math.erf(x)))


def test_erf_of_infinities_and_nan():
    out = erf(np.array([np.inf, -np.inf, np.nan]))
    assert out[0] == 1.0 and out[1] == -1.0 and np.isnan(out[2])


def test_erf_rounded_to_float32_is_the_float32_of_math_erf():
    x = np.random.default_rng(0).normal(0, 2, 200_000).astype(np.float32).astype(np.float64)
    want = np.array([math.erf(v) for v in x.tolist()], np.float64).astype(np.float32)
    assert np.array_equal(erf(x).astype(np.float32), want)
