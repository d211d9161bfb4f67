"""Each feature's domain: its bounds are inclusive, one float32 step outside is refused, every bad row is named.

The model is y = x @ w (regression, so nothing is clipped), and numpy computes the expected values.
Batches of up to 64 values and larger ones take different checking code: both sizes are tested.
"""

import csv
import io
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_predict import InputError, Predictor
from edge_predict.cli import cli
from edge_predict.scoring.inputs import InputCheck
from edge_predict.tables.reader import CHUNK_ROWS
from helpers import handmade

F32 = np.float32
DOMAINS = {
    "one feature": [(0.5, 2.0)],
    "all [0, hi]": [(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)],  # one comparison of bit patterns decides
    "mixed": [(0.0, 1.0), (-2.0, 3.0), (None, 5.0), (-1.0, None)],
}
SIZES = {"small batch": 4, "large batch": 200}


def model_for(domain) -> Predictor:
    names = [f"f{i}" for i in range(len(domain))]
    inside = [[lo if lo is not None else hi for lo, hi in domain]]
    w = np.arange(1, len(domain) + 1, dtype=F32)
    doc = handmade.manifest(
        "regression",
        features=[(n, lo, hi) for n, (lo, hi) in zip(names, domain)],
        golden_inputs=inside,
        golden_outputs=(np.float64(inside) @ w).reshape(1, 1).tolist(),
    )
    return Predictor.from_bytes(handmade.weighted_sum(w, doc)), w


def at_the_bounds(domain, n: int) -> np.ndarray:
    """n rows whose bounded features alternate between exactly their min and exactly their max."""
    x = np.empty((n, len(domain)), F32)
    for j, (lo, hi) in enumerate(domain):
        ends = [v for v in (lo, hi) if v is not None]
        x[:, j] = [ends[(i + j) % len(ends)] for i in range(n)]
    return x


def outside(domain):
    """(feature, value) for each bound: the float32 just beyond it."""
    for j, (lo, hi) in enumerate(domain):
        if lo is not None:
            yield j, np.nextafter(F32(lo), F32(-np.inf))
        if hi is not None:
            yield j, np.nextafter(F32(hi), F32(np.inf))


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("domain", DOMAINS.values(), ids=DOMAINS.keys())
def test_values_exactly_at_the_bounds_are_scored(domain, n):
    predictor, w = model_for(domain)
    x = at_the_bounds(domain, n)
    np.testing.assert_allclose(predictor.predict(x), x.astype(np.float64) @ w, rtol=1e-6, atol=0)


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("domain", DOMAINS.values(), ids=DOMAINS.keys())
def test_one_float32_step_outside_a_bound_is_refused(domain, n):
    predictor, _ = model_for(domain)
    for j, value in outside(domain):
        x = at_the_bounds(domain, n)
        x[n - 1, j] = value
        with pytest.raises(InputError) as info:
            predictor.predict(x)
        assert (info.value.row, info.value.col) == (n - 1, j)
        assert str(info.value).startswith(f"sample {n - 1}, f{j}: {float(value):g} is outside the model's domain")


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
def test_input_errors_names_every_bad_row_and_its_first_bad_column(n):
    domain = DOMAINS["mixed"]
    predictor, _ = model_for(domain)
    x = at_the_bounds(domain, n)
    bad = {1: (0, -0.5), 2: (3, np.nan), n - 1: (1, 3.5)}  # row: (first bad column, value)
    for row, (col, value) in bad.items():
        x[row, col] = value
    x[n - 1, 3] = np.inf  # a second bad value in the last row: its first (column 1) is the one named
    errors = predictor.input_errors(x)
    assert [(e.row, e.col) for e in errors] == [(row, col) for row, (col, _) in sorted(bad.items())]
    with pytest.raises(InputError) as info:
        predictor.predict(x)
    assert (info.value.row, info.value.col) == (1, 0)  # without keep-going: the first


def test_keep_going_reports_every_bad_row_of_a_chunk(cli_runner, model_path):
    result = cli_runner.invoke(
        cli, ["predict", "-m", str(model_path), "-k", "-f", "csv", "-i", "-"], input="hours\n1\n-1\n2\n-2\n-3\n7\n"
    )
    assert result.exit_code == 2
    outside_domain = "is outside the model's domain (expected >= 0)"
    named = [f"line {n}, column 1 (hours): '{v}' {outside_domain}" for n, v in ((3, -1), (5, -2), (6, -3))]
    *skipped, last = result.stderr.splitlines()
    assert skipped == [f"edge-predict: skipped {line}" for line in named]
    assert re.fullmatch(r"edge-predict: error: skipped 3 bad rows \(each named above.*\); scored 3", last)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["error"] for row in rows] == ["", named[0], "", named[1], named[2], ""]


def test_keep_going_counts_the_rows_of_every_chunk(cli_runner, model_path):
    n = 2 * CHUNK_ROWS + 5
    result = cli_runner.invoke(
        cli, ["predict", "-m", str(model_path), "-k", "-f", "csv", "-i", "-"], input="hours\n-1\n" + "1\n" * n
    )
    assert result.exit_code == 2
    assert re.fullmatch(
        rf"edge-predict: error: skipped 1 bad row \(each named above.*\); scored {n}", result.stderr.splitlines()[-1]
    )
    assert sum(row["error"] == "" for row in csv.DictReader(io.StringIO(result.stdout))) == n


@pytest.mark.parametrize(
    "lo, hi, value, expected",
    [
        (0.0, 1.0, 2.0, "in [0, 1]"),
        (-2.0, None, -3.0, ">= -2"),
        (None, 5.0, 6.0, "<= 5"),
        (None, 5.0, 3.4028234663852886e38, "<= 5"),  # float32's largest value is finite: outside, not an overflow
    ],
)
def test_an_out_of_domain_value_is_named_with_the_bounds(lo, hi, value, expected):
    predictor, _ = model_for([(lo, hi)])
    with pytest.raises(InputError) as info:
        predictor.predict([value])
    assert str(info.value) == f"sample 0, f0: {value:g} is outside the model's domain (expected {expected})"


def test_values_beyond_float32_are_reported_without_numpy_warnings():
    """A warning would be a second line on stderr, or an exception under -W error: overflow is reported, not warned."""
    predictor, _ = model_for(DOMAINS["mixed"])
    x = np.array([[0.5, 0.0, 1.0, 1e39], [np.nan, 0.0, 1.0, 0.0], [0.5, -1e300, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        errors = predictor.input_errors(x)
        with pytest.raises(InputError, match=r"^sample 0, f3: 1e\+39 overflows float32"):
            predictor.predict(x)
    assert [(e.row, e.col) for e in errors] == [(0, 3), (1, 0), (2, 1)]


@pytest.mark.parametrize("library", ["pandas", "pyarrow"])
@pytest.mark.parametrize("order", [[3, 2, 1, 0], [1, 3, 0, 2]], ids=["reversed", "shuffled"])
def test_input_errors_reads_a_table_by_name_as_predict_does(library, order):
    """A table's columns in another order: the same errors as for the array (not its columns by position)."""
    domain = DOMAINS["mixed"]
    predictor, _ = model_for(domain)
    x = at_the_bounds(domain, 4)
    x[1, 0], x[3, 1] = -0.5, 3.5  # outside f0's and f1's domains; f2 and f3 have no bound on one side
    columns = {f"f{j}": x[:, j] for j in order}
    table = (
        pytest.importorskip(library).DataFrame(columns)
        if library == "pandas"
        else pytest.importorskip(library).table(columns)
    )
    expected = [(e.row, e.col, str(e)) for e in predictor.input_errors(x)]
    assert (
        [(e.row, e.col, str(e)) for e in predictor.input_errors(table)]
        == expected
        == [
            (1, 0, "sample 1, f0: -0.5 is outside the model's domain (expected in [0, 1])"),
            (3, 1, "sample 3, f1: 3.5 is outside the model's domain (expected in [-2, 3])"),
        ]
    )


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_a_masked_value_is_refused_not_scored_as_the_value_under_the_mask(n, dtype):
    """np.asarray drops the mask: the value under it (here in the domain) must not be scored as the sample's."""
    domain = DOMAINS["mixed"]
    predictor, w = model_for(domain)
    x = at_the_bounds(domain, n).astype(dtype)
    mask = np.zeros(x.shape, bool)
    mask[n - 1, 2] = True
    with pytest.raises(InputError) as info:
        predictor.predict(np.ma.masked_array(x, mask))
    assert (info.value.row, info.value.col) == (n - 1, 2)
    assert str(info.value).startswith(f"sample {n - 1}, f2: nan is NaN")
    assert [(e.row, e.col) for e in predictor.input_errors(np.ma.masked_array(x, mask))] == [(n - 1, 2)]
    unmasked = np.ma.masked_array(x, np.zeros(x.shape, bool))  # nothing masked: scored as the array
    np.testing.assert_array_equal(predictor.predict(unmasked), predictor.predict(x))


@pytest.mark.parametrize("n", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("rows", ["list", "tuple", "one masked row in a list"])
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_masked_rows_in_a_list_are_refused_as_a_masked_array_is(n, rows, dtype):
    """np.asarray of a list of masked rows drops their masks: the value under one must not be scored."""
    domain = DOMAINS["mixed"]
    predictor, w = model_for(domain)
    x = at_the_bounds(domain, n).astype(dtype)
    mask = np.zeros(x.shape, bool)
    mask[n - 1, 2] = True
    X = [
        np.ma.masked_array(row, m) if m.any() or rows != "one masked row in a list" else row for row, m in zip(x, mask)
    ]
    X = tuple(X) if rows == "tuple" else X
    with pytest.raises(InputError) as info:
        predictor.predict(X)
    assert (info.value.row, info.value.col) == (n - 1, 2)
    assert str(info.value).startswith(f"sample {n - 1}, f2: nan is NaN")
    assert [(e.row, e.col) for e in predictor.input_errors(X)] == [(n - 1, 2)]


BOUNDS = st.sampled_from([None, 0.0, -0.0, 1.0, -2.5, 1e-45, 3.4028234663852886e38, -3.4028234663852886e38, 1e30])
SPECIAL = [0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 3.4028234663852886e38, float("nan"), float("inf"), -float("inf")]


@settings(max_examples=400, deadline=None)
@given(
    domain=st.lists(st.tuples(BOUNDS, BOUNDS), min_size=1, max_size=6),
    n=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.sampled_from(SPECIAL) | st.floats(width=32), max_size=4),
    at_bounds=st.booleans(),
)
def test_the_domain_check_answers_as_the_per_value_errors_do(domain, n, seed, values, at_bounds):
    """Every strategy of InputCheck's in-domain answer (Python floats up to PYTHON_VALUES values, numpy above: a
    sum, bit patterns, whole-array and per-column bounds) against its oracle, the per-value error finder."""
    domain = [(lo, hi) if lo is None or hi is None or lo <= hi else (hi, lo) for lo, hi in domain]
    check = InputCheck([f"f{i}" for i in range(len(domain))], domain)
    rng = np.random.default_rng(seed)
    if at_bounds:
        x = at_the_bounds([(lo, hi) if lo is not None or hi is not None else (0.0, None) for lo, hi in domain], n)
    else:  # inside each domain, up to float32's rounding of the bounds
        lows = [-np.inf if lo is None else lo for lo, _ in domain]
        highs = [np.inf if hi is None else hi for _, hi in domain]
        x = np.clip(rng.uniform(-5, 5, (n, len(domain))), lows, highs).astype(F32)
    for value in values:
        x[rng.integers(n), rng.integers(len(domain))] = value
    x = np.ascontiguousarray(x, F32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning reaches the caller either
        assert check._in_domain(x) == (not check.errors(x))
