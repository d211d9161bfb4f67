"""A model's golden vectors: the proof that this device computes what torch computed at export, and how loose
their tolerance may be (the exporter and edge-train write no looser one; files written before the bound keep loading)."""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import numpy as np

from edge_predict.errors import NonFiniteOutputError, VerificationError
from edge_predict.model.manifest import Manifest


# The golden check's tolerance at the outputs' scale (1 for probabilities, the largest |golden output| of a
# regression) is at most 1% of that scale, plus 1e-6 (float32 kernels' noise on probabilities). Looser, the check
# would pass almost any model (atol 0.5 passes nearly every classifier); exporters' defaults are 1e-6 (+ 2e-5 x
# scale for a regression), and real torch/onnxruntime differences beyond 1% come from unscaled features.
MAX_TOLERANCE, TOLERANCE_FLOOR = 0.01, 1e-6


def too_loose(task: str, outputs: Iterable[Sequence[float]], atol: float, rtol: float) -> str | None:
    """Why a golden tolerance (atol + rtol x |expected|) is too loose for these golden output rows ('atol 0.5 passes
    ...'), or None: it may pass at most MAX_TOLERANCE of the outputs' scale, plus TOLERANCE_FLOOR."""
    scale = max((abs(v) for row in outputs for v in row), default=0.0) if task == "regression" else 1.0
    limit = TOLERANCE_FLOOR + MAX_TOLERANCE * scale
    if atol + rtol * scale <= limit:
        return None
    what = "probabilities" if task != "regression" else f"values up to {scale:g}"
    return (
        f"atol {atol:g}"
        + (f" + rtol {rtol:g} x |expected|" if rtol else "")
        + f" passes differences up to {atol + rtol * scale:g} on {what}, more than 1% of their scale ({limit:g}): "
        "a check that loose passes almost any model"
    )


def verify(run: Callable[[np.ndarray], np.ndarray], manifest: Manifest, source: str) -> float:
    """The largest absolute difference between run(golden inputs) and the golden outputs, or VerificationError
    (carrying .difference) when one exceeds atol + rtol * |expected|."""
    x = np.asarray(manifest.golden_inputs, dtype=np.float32)
    expected = np.asarray(manifest.golden_outputs, dtype=np.float64)
    try:
        got = run(x).astype(np.float64)
    except NonFiniteOutputError as exc:  # the manifest's own vectors: this device computes them wrong
        raise VerificationError(
            f"{source}: golden vectors do not match: golden vector {exc.row} scores {exc.computed} on this device",
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
