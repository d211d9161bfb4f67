"""A model's golden vectors: the proof that this device computes what torch computed at export, and how loose
their tolerance may be (the exporter and edge-train write no looser one; files written before the bound keep loading)."""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

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


def verify(run: Callable[[Any], np.ndarray], manifest: Manifest, source: str, x: Any = None) -> float:
    """The largest absolute difference between run(golden inputs) and the golden outputs, or VerificationError
    (carrying .difference) when one exceeds atol + rtol * |expected|, or when the rows score differently one at a
    time or in a batch of another size (batch_sizes) than in one batch: a graph whose answer depends on the batch.

    `x` is the golden inputs as `run` takes them (rows picked by x[index array], x[i : i + 1]); default: the float32
    (n, k) array of a numeric model's."""
    if x is None:
        x = np.asarray(manifest.golden_inputs, dtype=np.float32)
    expected = np.asarray(manifest.golden_outputs, dtype=np.float64)
    got = _scored(run, x, source)
    diff = np.abs(got - expected)
    largest = float(diff.max())
    atol, rtol = manifest.golden_atol, manifest.golden_rtol
    bound = f"atol {atol:g}" + (f" + rtol {rtol:g} x |expected|" if rtol else "")
    if not (diff <= atol + rtol * np.abs(expected)).all():
        raise VerificationError(
            f"{source}: golden vectors do not match: largest difference {largest:.3g} > {bound}; "
            "this file or this device does not compute what torch computed",
            difference=largest,
        )
    n = len(x)
    for size, scored in _other_batches(run, x, source):
        change = np.abs(scored - np.resize(got, scored.shape))  # row i of a batch of `size` is golden row i % n
        if not (change <= atol + rtol * np.abs(np.resize(expected, scored.shape))).all():
            row = int(np.argmax(change.max(axis=1)))
            raise VerificationError(
                f"{source}: the model's answer depends on the batch: golden vector {row % n} scores "
                f"{_shown(got[row % n])} in a batch of {n} but {_shown(scored[row])} in a batch of {size} "
                f"(difference {float(change.max()):.3g} > {bound}); a sample's answer must not depend on the "
                "rows scored with it: re-export the model",
                difference=float(change.max()),
                batch_sizes=(n, size),
            )
    return largest


def batch_sizes(n: int) -> tuple[int, ...]:
    """The other batch sizes the n golden vectors are scored in: 1 (each row alone) and the smallest prime above n
    (rows repeated in order), so that no size is a multiple of another."""
    p = n + 1
    while any(p % d == 0 for d in range(2, math.isqrt(p) + 1)):
        p += 1
    return (1, p) if n > 1 else (p,)


def _other_batches(run, x: np.ndarray, source: str):
    """(batch size, outputs of the golden rows scored in batches of that size)."""
    for size in batch_sizes(len(x)):
        if size == 1:
            yield 1, np.concatenate([_scored(run, x[i : i + 1], source) for i in range(len(x))])
        else:
            yield size, _scored(run, x[np.arange(size) % len(x)], source)  # the rows repeated in order


def _scored(run, x: np.ndarray, source: str) -> np.ndarray:
    try:
        return run(x).astype(np.float64)
    except NonFiniteOutputError as exc:  # the manifest's own vectors: this device computes them wrong
        raise VerificationError(
            f"{source}: golden vectors do not match: golden vector {exc.row % len(x) if len(x) else exc.row} scores "
            f"{exc.computed} on this device",
            difference=math.inf,
        ) from None


def _shown(row: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in row) + "]"
