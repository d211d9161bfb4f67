"""Is a classifier's output clearly fine? One answer in few passes, or None: let outputs.check_output decide.

check_output's reference reads every value for [0, 1] and sums every row in float64: for (n, 2) outputs that sum
over an axis of two is most of the time at 1e6 rows, and for one row its numpy calls cost more than the graph. Here
True means exactly what the reference would accept without a change (no NaN, no value outside [0, 1], every row
within SUM_ATOL of 1); anything else, including a row near the tolerance, is None, and the reference decides,
clips and words the error.
"""

from __future__ import annotations

import numpy as np

from edge_predict.float32 import TINY

_ONE_BITS = int(np.float32(1.0).view(np.uint32))
# A float32 sum of two values in [0, 1] is within one rounding (2**-24 relative, below 1.2e-7 for sums up to 2) of
# the float64 sum the reference takes: a margin of 1e-6 leaves no row the two could decide differently.
_MARGIN = 1e-6


def fine(out: np.ndarray, rows_sum: bool, atol: float) -> bool | None:
    """True if every value of (n, width) `out` is in [0, 1] (as check_output tests it) and, with rows_sum, every
    row sums to 1 within atol; None if that is not clear here."""
    if out.size <= TINY:  # Python floats, as the reference compares them at this size
        values = out.ravel().tolist()
        if not all(0.0 <= v <= 1.0 for v in values):
            return None
        if not rows_sum:
            return True
        width = out.shape[1]
        # sum() adds left to right from 0, as numpy's float64 sum of a row of fewer than 8 values does
        sums = [sum(values[i : i + width]) for i in range(0, len(values), width)] if width < 8 else None
        return True if sums is not None and all(abs(s - 1.0) <= atol for s in sums) else None
    if out.view(np.uint32).max() > _ONE_BITS:  # the reference's test at this size: NaN, -0.0 and beyond 1 fail it
        return None
    if not rows_sum:
        return True
    if out.shape[1] != 2:
        return None
    total = np.add(out[:, 0], out[:, 1])
    return True if total.min() >= 1 - atol + _MARGIN and total.max() <= 1 + atol - _MARGIN else None
