"""The output check's fast answer (scoring/_fast/probabilities.py) against its oracle, check_output without it: the
same array (bits) and the same error, for every task, width and size, near every boundary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples

from edge_predict.errors import InputError, ModelError
from edge_predict.scoring import outputs
from edge_predict.scoring._fast import probabilities

ATOL = outputs.SUM_ATOL
# values a graph can return: ordinary probabilities, the edges, signed zero, rounding past 0 and 1, NaN, infinities
SPECIAL = [0.0, -0.0, 1.0, 1.0000001, -1e-8, 0.5, 1e-45, float("nan"), float("inf"), -float("inf"), 2.0, -0.3]


def reference(out: np.ndarray, n: int, width: int, task: str) -> tuple:
    """check_output with the fast answer always "not clear": the reference alone decides."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(probabilities, "fine", lambda *args: None)
        return outcome(out, n, width, task)


def outcome(out: np.ndarray, n: int, width: int, task: str) -> tuple:
    """The returned bits, or the error's type, message and row."""
    try:
        got = outputs.check_output(out.copy(), n, width, task, "m.onnx")
    except (InputError, ModelError) as exc:
        return type(exc), str(exc), exc.row
    return got.dtype, got.shape, got.view(np.uint32).tobytes()


def pairs(rng: np.random.Generator, n: int, offset: np.ndarray) -> np.ndarray:
    """Binary (n, 2) rows [1 - p, p], the first column moved by `offset` (so the row sums to 1 + offset)."""
    p = rng.uniform(0, 1, n).astype(np.float32)
    return np.stack([np.float32(1) - p + offset.astype(np.float32), p], axis=1).astype(np.float32)


def softmax(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    z = rng.normal(0, 3, (n, width))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


SIZES = [1, 2, 4, 5, 9, 64, 1025]
# row sums at, just inside and just outside the tolerance, where a float32 sum could decide otherwise than float64
OFFSETS = [0.0, ATOL, -ATOL, ATOL * (1 - 1e-3), ATOL * (1 + 1e-3), -ATOL * (1 - 1e-3), 1e-3, -0.5, 2e-6]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("offset", OFFSETS)
def test_binary_pairs_near_the_sum_tolerance(n, offset):
    rng = np.random.default_rng(n)
    off = np.zeros(n)
    off[rng.integers(n)] = offset
    out = pairs(rng, n, off)
    assert outcome(out, n, 2, "binary") == reference(out, n, 2, "binary")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("width, task", [(1, "binary"), (2, "binary"), (3, "multiclass"), (9, "multiclass")])
@pytest.mark.parametrize("special", SPECIAL)
def test_one_special_value_anywhere(n, width, task, special):
    rng = np.random.default_rng(n * width)
    out = (
        softmax(rng, n, width)
        if task == "multiclass"
        else (pairs(rng, n, np.zeros(n)) if width == 2 else rng.uniform(0, 1, (n, 1)).astype(np.float32))
    )
    out[rng.integers(n), rng.integers(width)] = special
    assert outcome(out, n, width, task) == reference(out, n, width, task)


@settings(max_examples=examples(300), deadline=None)
@given(
    n=st.integers(1, 70),
    width=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), max_size=4),
    shift=st.floats(-2e-4, 2e-4),
)
def test_any_output(n, width, seed, values, shift):
    rng = np.random.default_rng(seed)
    task = "binary" if width <= 2 else "multiclass"
    out = softmax(rng, n, width) if width > 1 else rng.uniform(0, 1, (n, 1)).astype(np.float32)
    out[rng.integers(n), 0] += np.float32(shift)
    for value in values:
        out[rng.integers(n), rng.integers(width)] = value
    assert outcome(out, n, width, task) == reference(out, n, width, task)


def test_the_fast_answer_is_taken_for_ordinary_outputs():
    """Not a timing: that the few-passes answer decides ordinary outputs (else it would buy nothing)."""
    rng = np.random.default_rng(0)
    for n in (1, 4, 1000):
        assert probabilities.fine(pairs(rng, n, np.zeros(n)), True, ATOL) is True
        assert probabilities.fine(rng.uniform(0, 1, (n, 1)).astype(np.float32), False, ATOL) is True


THRESHOLDS = [0.5, 0.3 + 1e-12, float(np.float32(0.7)), 0.0, 1.0, 1e-45]


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("width", [1, 2])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 8])
def test_labels_of_a_few_rows_are_the_labels_numpy_gives(threshold, width, n):
    """labels() reads Python floats for one row: the same labels as its numpy branch for that row and others, p at and around the
    threshold's float32 neighbours."""
    t32 = np.float32(threshold)
    near = [np.nextafter(t32, np.float32(-1)), t32, np.nextafter(t32, np.float32(2)), np.float32(0), np.float32(1)]
    classes = np.asarray(["no", "yes"])
    for start in range(len(near)):
        p = np.array([near[(start + i) % len(near)] for i in range(n)], np.float32).clip(0, 1)
        out = np.stack([np.float32(1) - p, p], axis=1) if width == 2 else p[:, None]
        few = outputs.labels(out, "binary", classes, threshold)
        many = outputs.labels(np.tile(out, (50, 1)), "binary", classes, threshold)[:n]  # more than TINY values
        assert few.dtype == many.dtype and few.tolist() == many.tolist()
        assert not np.shares_memory(few, classes)


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 1100),
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(st.sampled_from(SPECIAL) | st.floats(width=32), max_size=3),
)
def test_a_proven_pair_is_decided_as_the_reference_decides(n, seed, values):
    """A graph proven to emit [1 - p, p] (model/proofs.py) has only its values tested fast: for the rows such a
    graph can emit, whatever p is (special values included: NaN, beyond 1, -0.0), the answer is the reference's,
    which still sums every row."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 1, n).astype(np.float32)
    for value in values:
        p[rng.integers(n)] = value
    with np.errstate(invalid="ignore"):
        out = np.stack([np.float32(1) - p, p], axis=1)  # what Concat([Sub(1, p), p], axis=1) computes
    try:
        got = outputs.check_output(out.copy(), n, 2, "binary", "m.onnx", rows_sum_to_one=True)
        proven = got.dtype, got.shape, got.view(np.uint32).tobytes()
    except (InputError, ModelError) as exc:
        proven = type(exc), str(exc), exc.row
    if not values:  # ordinary rows: the fast answer takes them
        assert probabilities.fine(out, False, ATOL) is True
    assert proven == reference(out, n, 2, "binary")
