"""Is a classifier's output clearly fine? One answer in few passes, or None: let outputs.check_output decide.

check_output's reference reads every value for [0, 1] and sums every row in float64: for (n, 2) outputs that sum
over an axis of two is most of the time at 1e6 rows, and for one row its numpy calls cost more than the graph. Here
True means exactly what the reference would accept without a change (no NaN, no value outside [0, 1], every row
within SUM_ATOL of 1); anything else, including a row near the tolerance, is None, and the reference decides,
clips and words the error.
"""

from __future__ import annotations

from operator import add as _add, le as _le

import numpy as np


_ONE_BITS = int(np.float32(1.0).view(np.uint32))
_min, _max = np.minimum.reduce, np.maximum.reduce  # the reductions themselves: no method wrapper per call
# A float32 sum of two values in [0, 1] is within one rounding (2**-24 relative, below 1.2e-7 for sums up to 2) of
# the float64 sum the reference takes: a margin of 1e-6 leaves no row the two could decide differently.
_MARGIN = 1e-6
# Up to this many values the check reads Python floats, compared in C by map(operator.le) (numpy's cost per call is
# most of the work there; bench/goals.py: from about 20 rows on numpy is cheaper). Python's 0.0 <= -0.0 lets -0.0
# through, where the reference clips it above TINY values: to -0.0, the same bits.
PYTHON_VALUES = 32
_ZEROS, _ONES = (0.0,) * PYTHON_VALUES, (1.0,) * PYTHON_VALUES


def fine(out: np.ndarray, rows_sum: bool, atol: float) -> bool | None:
    """True if every value of (n, width) `out` is in [0, 1] (as check_output tests it) and, with rows_sum, every
    row sums to 1 within atol; None if that is not clear here."""
    if not rows_sum:  # the values only: one read of their bit patterns (a row of two as Python floats)
        if out.size == 2:
            a, b = out.ravel().tolist()
            return True if 0.0 <= a <= 1.0 and 0.0 <= b <= 1.0 else None
        return True if _max(out.view(np.uint32), None) <= _ONE_BITS else None
    if out.size == 2 and out.shape[1] == 2:  # one binary row [1 - p, p]: batch 1, the call whose overhead counts most
        (a, b), lo, hi = out.tolist()[0], *_band(atol)
        return True if 0.0 <= a <= 1.0 and 0.0 <= b <= 1.0 and lo[0] <= a + b <= hi[0] else None
    if out.size <= PYTHON_VALUES:  # Python floats
        values = out.ravel().tolist()
        if not (all(map(_le, _ZEROS, values)) and all(map(_le, values, _ONES))):
            return None
        if out.shape[1] != 2:
            return _rows_sum_tiny(values, out.shape[1], atol)
        # a + b is the float64 sum numpy's reference takes of a row of two; a margin of 1e-9 keeps away from
        # the tolerance's edge, where the rounding of 1 - atol and 1 + atol could decide otherwise
        sums = list(map(_add, values[0::2], values[1::2]))
        lo, hi = _band(atol)
        return True if all(map(_le, lo, sums)) and all(map(_le, sums, hi)) else None
    # the reference's test at this size: NaN, -0.0 and beyond 1 fail it
    if _max(out.view(np.uint32), None) > _ONE_BITS or out.shape[1] != 2:
        return None
    total = np.add(out[:, 0], out[:, 1])
    return True if _min(total, None) >= 1 - atol + _MARGIN and _max(total, None) <= 1 + atol - _MARGIN else None


def _rows_sum_tiny(values: list[float], width: int, atol: float) -> bool | None:
    """Rows of fewer than 8 values summed left to right from 0, as numpy's float64 sum of such a row is."""
    if width >= 8:
        return None
    sums = [sum(values[i : i + width]) for i in range(0, len(values), width)]
    return True if all(abs(s - 1.0) <= atol for s in sums) else None


def _band(atol: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Copies of 1 - atol and of 1 + atol, each 1e-9 inside, one per row of PYTHON_VALUES (made once per atol)."""
    band = _BANDS.get(atol)
    if band is None:
        rows = PYTHON_VALUES // 2
        band = _BANDS[atol] = ((1.0 - atol + 1e-9,) * rows, (1.0 + atol - 1e-9,) * rows)
    return band


_BANDS: dict[float, tuple] = {}
