"""Checking samples against a model's manifest: shape, finiteness, float32 range, each feature's domain."""

from __future__ import annotations

import math
import sys
from operator import le as _le
from typing import Any, Sequence

import numpy as np

from edge_predict.scoring.frames import columns_by_name
from edge_predict.errors import InputError
from edge_predict.float32 import F32_MAX

_F32 = np.dtype(np.float32)
# Up to this many values the domain check reads Python floats, where numpy's fixed cost per call is most of the
# check (bench/goals.py's instruction counts): about 8 values against one reduction of the bit patterns, about 32
# against a sum inside np.errstate or a min and a max.
PYTHON_VALUES, PYTHON_VALUES_ONE_READ = 32, 8
_min, _max, _sum = np.minimum.reduce, np.maximum.reduce, np.add.reduce  # the reductions: no method wrapper per call


class InputCheck:
    """Turns X into the float32 (n, k) array the session takes, or raises InputError saying what to fix."""

    def __init__(self, feature_names: Sequence[str], domain: Sequence[tuple[float | None, float | None]]):
        self._names, self._domain, self._n_features = tuple(feature_names), tuple(domain), len(feature_names)
        self._row = (self._n_features,)
        self._mins = np.array([lo if lo is not None else -np.inf for lo, _ in domain], np.float32)
        self._maxs = np.array([hi if hi is not None else np.inf for _, hi in domain], np.float32)
        # finite stand-ins for the bounds: one "lo <= x <= hi" then also rejects NaN and +-inf
        self._lo, self._hi = np.maximum(self._mins, -F32_MAX), np.minimum(self._maxs, F32_MAX)
        self._lo_max, self._hi_min = float(self._lo.max()), float(self._hi.min())  # the tightest bounds of all
        self._unbounded = not any(lo is not None or hi is not None for lo, hi in self._domain)
        # Every lower bound 0: the values +0.0 up to the tightest upper bound are exactly the uint32 bit patterns up
        # to that bound's; a negative value (-0.0 too), NaN or inf has a larger pattern
        # (the bound as +0.0 if it is -0.0, whose sign bit would let every value through)
        zero_based = self._n_features and all(lo == 0 for lo, _ in self._domain) and self._hi_min >= 0
        self._top_bits = int(np.float32(abs(self._hi_min)).view(np.uint32)) if zero_based else None
        self._python_values = PYTHON_VALUES_ONE_READ if zero_based else PYTHON_VALUES
        # the bounds repeated row after row to PYTHON_VALUES values, for the Python-float check of a flat x
        repeat = PYTHON_VALUES // self._n_features + 1 if self._n_features else 0
        self._lo_tiny, self._hi_tiny = self._lo.tolist() * repeat, self._hi.tolist() * repeat

    def __call__(self, X: Any) -> np.ndarray:
        """X as a C-contiguous float32 array (n, n_features), or InputError saying what to fix."""
        # shape[1:] == (k,) says ndim == 2 and k columns at once
        if type(X) is np.ndarray and X.dtype is _F32 and X.shape[1:] == self._row and X.flags.c_contiguous and len(X):
            x = x32 = X  # already what the session takes: no conversion, no copy
        else:
            x, x32 = self.convert(X)
        if not self._in_domain(x32):
            raise self.errors(x, first_only=True)[0]
        return x32

    def _in_domain(self, x32: np.ndarray) -> bool:
        """True if every value is finite, within float32 and within its feature's domain."""
        if x32.size <= self._python_values:  # as Python floats: numpy's cost per call is most of the work there
            values = x32.ravel().tolist()
            # float32 values cannot overflow a float64 sum: it is finite exactly when every value is (NaN and inf
            # carry into it), and then min and max are exact (NaN could hide from them)
            if not math.isfinite(sum(values)):
                return False
            if self._unbounded or (self._lo_max <= min(values) and max(values) <= self._hi_min):
                return True
            return all(map(_le, self._lo_tiny, values)) and all(map(_le, values, self._hi_tiny))  # per feature
        # One reduction where the domain allows it. Without bounds only finiteness counts: NaN and inf carry into a
        # sum, so a finite sum says every value is finite (a sum that overflows is not: the min and max decide).
        if self._unbounded:
            with np.errstate(over="ignore", invalid="ignore"):  # an overflow or inf - inf is an answer here, not news
                total = _sum(x32, None)
            if math.isfinite(total):
                return True
        elif self._top_bits is not None and _max(x32.view(np.uint32), None) <= self._top_bits:
            return True
        # min and max propagate NaN, and NaN fails both comparisons. One min and max of the whole array (several
        # times faster than per column) decides when every value lies within the tightest bounds of all features.
        if _min(x32, None) >= self._lo_max and _max(x32, None) <= self._hi_min:
            return True
        return self._n_features > 1 and bool((_min(x32, 0) >= self._lo).all() and (_max(x32, 0) <= self._hi).all())

    def convert(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """X as given (an array) and as C-contiguous float32 (n, n_features); InputError if it cannot be."""
        k = self._n_features
        X = columns_by_name(X, self._names)
        ma = sys.modules.get("numpy.ma")  # not imported: no masked array exists
        try:
            if ma is not None and isinstance(X, ma.MaskedArray) and X.dtype.kind in "iuf":
                X = X.astype(np.float64).filled(np.nan)  # np.asarray would score the values under the mask
            x = np.asarray(X)
        except ValueError as exc:  # numpy refuses rows of different lengths ("inhomogeneous shape")
            raise InputError(
                f"X is ragged: rows of different lengths, but the model expects every sample to have "
                f"{k} features ({', '.join(self._names)})"
            ) from exc
        if x.dtype.kind not in "iuf":
            raise InputError(
                f"X has dtype {x.dtype}, but the model expects numbers; convert it, e.g. np.asarray(X, dtype=float)"
            )
        if x.dtype.itemsize > (4 if x.dtype.kind in "iu" else 8):  # int64 beyond 2**53, long double: round as
            x = x.astype(np.float64)  # text, lists of floats and DataFrames do, through float64 (Python's float())
        if x.ndim == 0 or (x.ndim == 1 and k == 1):
            x = x.reshape(-1, 1)
        elif x.ndim == 1:
            raise InputError(
                f"X is 1-D with {x.shape[0]} values, but the model expects 2-D samples of {k} features "
                f"({', '.join(self._names)}); pass a list of rows, e.g. X.reshape(1, -1) for one sample"
            )
        elif x.ndim != 2:
            raise InputError(f"X has {x.ndim} dimensions, but the model expects a 2-D array (samples, features)")
        if x.shape[1] != k:
            raise InputError(
                f"X has {x.shape[1]} features per sample, but the model expects {k} ({', '.join(self._names)})"
            )
        if x.shape[0] == 0:
            raise InputError("X has no samples; pass at least one")
        with np.errstate(over="ignore"):  # overflow becomes inf and is reported by the domain check
            return x, np.ascontiguousarray(x, dtype=np.float32)

    def errors(self, x: np.ndarray, first_only: bool = False) -> list[InputError]:
        """One InputError per row of `x` holding a non-finite or out-of-domain value (its first such column)."""
        x = np.asarray(x).reshape(len(x), -1)
        with np.errstate(over="ignore", invalid="ignore"):
            x32 = x.astype(np.float32)
            bad = ~np.isfinite(x32) | (x32 < self._mins) | (x32 > self._maxs)
        rows = np.flatnonzero(bad.any(axis=1))
        cols = bad.argmax(axis=1)
        return [
            self._value_error(r, int(cols[r]), float(x[r, cols[r]])) for r in rows[: 1 if first_only else None].tolist()
        ]

    def _value_error(self, row: int, col: int, value: float) -> InputError:
        lo, hi = self._domain[col]
        problem = value_problem(value, lo, hi) or "is outside the model's domain"
        name = self._names[col]
        return InputError(f"sample {row}, {name}: {value:g} {problem}", row=row, col=col, problem=problem)


def value_problem(value: float, lo: float | None, hi: float | None) -> str | None:
    """What is wrong with a number for a feature of domain [lo, hi] (None: unbounded), judged in float32 as the
    session takes it ("is NaN; expected a finite number"), or None if nothing is."""
    if math.isnan(value):
        return "is NaN; expected a finite number"
    if math.isinf(value):
        return "is infinite; expected a finite number"
    if abs(value) > F32_MAX:
        return f"overflows float32 (largest {F32_MAX:.4g})"
    v32 = np.float32(value)
    if (lo is None or v32 >= np.float32(lo)) and (hi is None or v32 <= np.float32(hi)):
        return None
    bounds = f">= {lo:g}" if hi is None else (f"<= {hi:g}" if lo is None else f"in [{lo:g}, {hi:g}]")
    return f"is outside the model's domain (expected {bounds})"


def checked_threshold(threshold: Any, task: str) -> float:
    """`threshold` as a float, or InputError (a ValueError; exit 2 in the CLI) if it is not in [0, 1]."""
    if task != "binary":
        problem = f"only binary models have a threshold; this model is {task}"
        raise InputError(f"threshold={threshold!r}: {problem}", problem=problem)
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        problem = "expected a number in [0, 1] (a probability)"
        raise InputError(f"threshold={threshold!r}: {problem}", problem=problem)
    return value
