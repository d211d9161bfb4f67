"""What a graph's outputs mean for each task, checked: class labels, probability columns, the CLI's named columns."""

from __future__ import annotations

import functools
from typing import Collection

import numpy as np

from edge_predict.errors import InputError, ModelError, NonFiniteOutputError
from edge_predict.scoring._fast import probabilities
from edge_predict.float32 import TINY

OVERFLOW = "the input overflows float32 arithmetic inside the model"

_ONE_BITS = int(np.float32(1.0).view(np.uint32))
# How far float32 rounding takes a probability past 0 or 1 (4 ulps of 1.0); anything further is refused.
_ROUNDING = 4 * float(np.finfo(np.float32).eps)
SUM_ATOL = 1e-4  # a multiclass row sums to 1 within this, as the exporter also requires


def labels(out: np.ndarray, task: str, classes: np.ndarray, threshold: float | None) -> np.ndarray:
    """The predicted label per sample: binary p >= threshold -> classes[1] (p: the last column, P(classes[1]), of
    (n, 1) or (n, 2) outputs); multiclass the most probable class."""
    if task == "binary" and len(out) == 1:  # batch 1: Python floats and a slice's copy (fancy indexing costs more)
        i = 1 if out.item(-1) >= _float32_at_or_above(threshold)[1] else 0  # exactly as float32 compares
        return classes[i : i + 1].copy()
    return classes[label_codes(out, task, threshold)]


def label_codes(out: np.ndarray, task: str, threshold: float | None) -> np.ndarray:
    """The index into the classes of each sample's predicted label (labels())."""
    if task == "binary":
        return (out[:, -1] >= _float32_at_or_above(threshold)[0]).astype(np.intp)
    return out.argmax(axis=1)


@functools.lru_cache(maxsize=64)
def _float32_at_or_above(threshold: float) -> tuple[np.float32, float]:
    """The least float32 >= threshold, and its value as a Python float: for a float32 p, p >= it exactly when
    p >= threshold. (Compared with a Python float, numpy 2 rounds the threshold to the NEAREST float32: 0.3 + 1e-12
    would pass p = float32(0.3).) Made once per threshold."""
    t32 = np.float32(threshold)
    t32 = np.nextafter(t32, np.float32(np.inf)) if float(t32) < threshold else t32
    return t32, float(t32)


def table(
    out: np.ndarray, task: str, classes: np.ndarray, threshold: float | None, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """The outputs as the columns column_names() names (`names`: what it returned for the input), in that order."""
    if task == "binary":
        columns = [out[:, -1], labels(out, task, classes, threshold)]
    elif task == "multiclass":
        columns = [labels(out, task, classes, threshold), *(out[:, i] for i in range(len(classes)))]
    else:
        columns = [out[:, i] for i in range(out.shape[1])]
    return dict(zip(names, columns))


PREDICTED = "predicted_"  # the prefix of an output named like one of the input's columns: predicted_label


def column_names(
    task: str, classes: tuple[str, ...], targets: tuple[str, ...], taken: Collection[str] = ()
) -> tuple[str, ...]:
    """binary: probability, label; multiclass: label, p_<label> per class; regression: one column per target.

    An output named like one of the input's columns `taken` (a truth column `label`, a regression target `y`)
    is named predicted_<name> instead, so that the input's column passes through beside it; InputError if that
    name is taken too.
    """
    if task == "binary":
        plain: tuple[str, ...] = ("probability", "label")
    else:
        plain = ("label", *(f"p_{label}" for label in classes)) if task == "multiclass" else targets
    if not taken:
        return plain
    taken = set(taken)
    names = tuple(PREDICTED + name if name in taken else name for name in plain)
    for name, new in zip(plain, names):
        if new != name and (new in taken or names.count(new) > 1):
            raise InputError(
                f"the input has a column {name!r}, so the output {name!r} is named {new!r}, but "
                f"{'the input' if new in taken else 'the model'} has a column {new!r} too; rename or drop one of them"
            )
    return names


def check_output(
    out: np.ndarray, n: int, width: int, task: str, source: str, rows_sum_to_one: bool = False
) -> np.ndarray:
    """The graph's output for n samples as (n, width), or an error naming the first sample it cannot stand behind.

    Only (n, width), or (n,) for one output, is accepted: reshaping, say, a (width, n) output would pair
    samples with other samples' numbers.

    NaN (or, for values, an infinite value) is the input's fault: InputError. A probability beyond [0, 1] by more
    than float32 rounding, or a multiclass row not summing to 1, means the graph does not compute what its
    manifest says: ModelError, never a clipped number. Within rounding it is clipped: onnxruntime's Sigmoid
    returns 1.0000001 for some logits in [17.48, 18).

    rows_sum_to_one: the graph's structure proves that every row whose values are in [0, 1] sums to 1 within
    rounding (model/proofs.py), so the fast answer tests the values only.
    """
    if out.shape != (n, width):
        if out.ndim == 2 and out.shape[0] == n:
            raise ModelError(
                f"{source}: the graph outputs {out.shape[1]} values per sample, but the manifest "
                f"describes {width}; re-export the model"
            )
        if not (width == 1 and out.shape == (n,)):
            raise ModelError(
                f"{source}: the graph returned an output of shape {out.shape} for {n} samples, but the "
                f"manifest describes ({n}, {width}); re-export the model"
            )
        out = out.reshape(n, width)
    if task == "regression":
        if not np.isfinite(out).all():
            _refuse_nonfinite(out, ~np.isfinite(out))
        return out
    rows_sum = task == "multiclass" or width == 2  # binary (n, 2): [P(labels[0]), P(labels[1])] sums to 1 too
    # None: not clear in a few passes; the reference below decides
    if probabilities.fine(out, rows_sum and not rows_sum_to_one, SUM_ATOL):
        return out
    if out.size <= TINY:
        ok = all(0.0 <= v <= 1.0 for v in out.ravel().tolist())
    else:  # as uint32, 0.0..1.0 are exactly the patterns up to 1.0's: one read instead of a read and a write
        ok = out.view(np.uint32).max() <= _ONE_BITS
    if not ok:
        if np.isnan(out).any():
            _refuse_nonfinite(out, np.isnan(out))
        beyond = (out < -_ROUNDING) | (out > 1 + _ROUNDING)
        if beyond.any():
            row, col = np.argwhere(beyond)[0].tolist()
            problem = (
                f"the model computed the probability {float(out[row, col]):.9g}, outside [0, 1]; its graph "
                "does not compute probabilities as its manifest says: re-export it (with outputs='logits' if "
                "the module returns logits)"
            )
            raise ModelError(f"{source}: sample {row}: {problem}", row=row, problem=problem)
        out = np.clip(out, 0.0, 1.0, out=out)
    if rows_sum:
        off = np.abs(out.sum(axis=1, dtype=np.float64) - 1.0) > SUM_ATOL
        if off.any():
            row = int(np.flatnonzero(off)[0])
            problem = (
                f"the model's class probabilities sum to {float(out[row].sum(dtype=np.float64)):.9g}, not 1; "
                "its graph does not end in a softmax as its manifest says: re-export it"
            )
            raise ModelError(f"{source}: sample {row}: {problem}", row=row, problem=problem)
    return out


def _refuse_nonfinite(out: np.ndarray, broken: np.ndarray) -> None:
    row = int(np.flatnonzero(broken.any(axis=1))[0])
    raise nonfinite(row, "NaN" if np.isnan(out[row]).any() else "an infinite value")


def nonfinite(row: int, computed: str) -> NonFiniteOutputError:
    """The error for sample `row`, for which the model computed `computed` (NaN or an infinite value)."""
    return NonFiniteOutputError(
        f"sample {row}: the model computed {computed} ({OVERFLOW})",
        row=row,
        problem=f"makes the model compute {computed} ({OVERFLOW})",
        computed=computed,
    )
