"""Scoring a model's golden vectors: the proof that this device computes what torch computed at export."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .errors import InputError, VerificationError
from .manifest import Manifest


def verify(run: Callable[[np.ndarray], np.ndarray], manifest: Manifest, source: str) -> float:
    """The largest absolute difference between run(golden inputs) and the golden outputs, or VerificationError
    (carrying .difference) when one exceeds atol + rtol * |expected|."""
    x = np.asarray(manifest.golden_inputs, dtype=np.float32)
    expected = np.asarray(manifest.golden_outputs, dtype=np.float64)
    try:
        got = run(x).astype(np.float64)
    except InputError as exc:  # the manifest's own vectors: this device computes them wrong
        what = "NaN" if "NaN" in (exc.problem or "NaN") else "an infinite value"
        raise VerificationError(
            f"{source}: golden vectors do not match: golden vector {exc.row} scores {what} on this device",
            difference=math.inf,
        ) from None
    diff = np.abs(got - expected)
    largest = float(diff.max())
    atol, rtol = manifest.golden_atol, manifest.golden_rtol
    if not (diff <= atol + rtol * np.abs(expected)).all():
        bound = f"atol {atol:g}" + (f" + rtol {rtol:g} x |expected|" if rtol else "")
        raise VerificationError(
            f"{source}: golden vectors do not match: largest difference {largest:.3g} > {bound}; "
            "this file or this device does not compute what torch computed",
            difference=largest,
        )
    return largest
