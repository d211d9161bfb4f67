"""The feature domain and the golden vectors: inputs the runtime would score (never refuse), and what torch computes
on them, checked on the device."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from edge_predict import InputError
from edge_predict.authoring import SUM_ATOL, columns_by_name

from .graph import ExportError

# Distinct training rows kept as golden inputs: enough to cover the data, few enough for a small manifest.
MAX_TRAINING_ROWS = 16
Bounds = list[tuple[float | None, float | None]]


def domain_bounds(domain: Any, names: Sequence[str]) -> Bounds:
    """Per feature (min, max), None where unbounded, from None, a sequence aligned with `names` of
    {"min", "max"} dicts or (min, max) pairs, or a mapping from feature name to either."""
    if domain is None:
        return [(None, None)] * len(names)
    if isinstance(domain, Mapping):
        unknown = sorted(set(domain) - set(names))
        if unknown:
            raise ExportError(f"domain names {unknown}, which are not features ({list(names)})")
        domain = [domain.get(name) for name in names]
    if len(domain) != len(names):
        raise ExportError(f"domain has {len(domain)} entries for {len(names)} features; give one per feature")
    bounds = []
    for name, entry in zip(names, domain):
        lo, hi = (entry.get("min"), entry.get("max")) if isinstance(entry, Mapping) else (entry or (None, None))
        lo, hi = (None if v is None else float(v) for v in (lo, hi))
        if any(v is not None and not math.isfinite(v) for v in (lo, hi)) or (
            lo is not None and hi is not None and lo > hi
        ):
            raise ExportError(
                f"domain of {name!r} is [{lo}, {hi}]: bounds must be finite numbers with min <= max (None: unbounded)"
            )
        bounds.append((lo, hi))
    return bounds


def default_inputs(bounds: Bounds, x_train: np.ndarray | None = None) -> np.ndarray:
    """Distinct training rows inside the domain (up to MAX_TRAINING_ROWS), then every feature at the low end,
    the middle and the high end of its range: the domain's bound, else the training range, else -1 and 1."""
    k = len(bounds)
    rows = np.empty((0, k), np.float32)
    if x_train is not None and len(x_train):
        rows = np.unique(np.asarray(x_train, np.float32), axis=0)
        rows = rows[outside(rows, bounds) < 0]
        if len(rows) > MAX_TRAINING_ROWS:  # spread over the sorted rows: not the 16 with the smallest first feature
            rows = rows[np.linspace(0, len(rows) - 1, MAX_TRAINING_ROWS).round().astype(np.intp)]
    lo, hi = np.empty(k), np.empty(k)
    for j, (d_lo, d_hi) in enumerate(bounds):
        seen = (
            (float(x_train[:, j].min()), float(x_train[:, j].max()))
            if x_train is not None and len(x_train)
            else (-1.0, 1.0)
        )
        lo[j] = d_lo if d_lo is not None else min(seen[0], d_hi if d_hi is not None else math.inf)
        hi[j] = d_hi if d_hi is not None else max(seen[1], lo[j])
    grid = np.stack([lo, (lo + hi) / 2, hi]).astype(np.float32)
    # float32 rounding may step a bound outside the domain; the bounds themselves are float32 in the manifest
    grid = np.clip(
        grid,
        [b[0] if b[0] is not None else -np.inf for b in bounds],
        [b[1] if b[1] is not None else np.inf for b in bounds],
    ).astype(np.float32)
    both = np.concatenate([rows, grid]).astype(np.float32)
    _, first = np.unique(both, axis=0, return_index=True)
    return both[np.sort(first)]  # each row once, in order


def checked_inputs(x: Any, bounds: Bounds, names: Sequence[str], what: str = "golden_inputs") -> np.ndarray:
    """Rows given by the caller (`what`: golden_inputs or x_train) as float32 (n, k), refused if not finite or outside
    the domain. A DataFrame or Table is read by column name, as the runtime reads one, not by position."""
    try:
        x = columns_by_name(x, names)
    except InputError as exc:
        raise ExportError(f"{what}: {exc}") from None
    array = np.asarray(x, np.float32)
    k = len(bounds)
    if array.ndim == 1 and k == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != k or not len(array):
        raise ExportError(f"{what} has shape {array.shape}; expected (n, {k}) with n >= 1")
    if not np.isfinite(array).all():
        raise ExportError(f"{what} holds NaN or inf; the runtime refuses them, so they prove nothing")
    bad = outside(array, bounds)
    if (bad >= 0).any():
        i = int(np.flatnonzero(bad >= 0)[0])
        raise ExportError(
            f"golden input row {i} has feature {int(bad[i])} = {array[i, bad[i]]:g}, outside the "
            f"domain {list(bounds[bad[i]])}; the runtime would refuse it"
        )
    return array


def outside(x: np.ndarray, bounds: Bounds) -> np.ndarray:
    """Per row, the first feature outside its bounds, or -1."""
    lo = np.array([b[0] if b[0] is not None else -np.inf for b in bounds], np.float32)
    hi = np.array([b[1] if b[1] is not None else np.inf for b in bounds], np.float32)
    bad = (x < lo) | (x > hi)
    return np.where(bad.any(axis=1), bad.argmax(axis=1), -1)


def torch_outputs(module, codes, task, outputs, width, chosen) -> np.ndarray:
    """What the graph's module computes on the golden inputs (`codes`: one array per forward argument), checked for
    finiteness and, with outputs="probabilities", probability. `chosen`: the module's own tensor, for the hint."""
    with torch.no_grad():
        out = module(*(torch.from_numpy(c) for c in codes)).numpy()
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        row = codes[0][i].tolist() if len(codes) == 1 else [c[i].tolist() for c in codes]
        raise ExportError(
            f"the module computes {out[i].tolist()} for golden input {row}: not finite; fix the module or narrow "
            "the domain"
        )
    if outputs == "probabilities" and (
        (out < 0).any()
        or (out > 1).any()
        or (chosen.shape[1] >= 2 and (np.abs(chosen.sum(axis=1, dtype=np.float64) - 1) > SUM_ATOL).any())
    ):
        raise ExportError(
            "outputs='probabilities', but the module's outputs are not probabilities (outside [0, 1], or rows not "
            f"summing to 1: {chosen.min():.4g} to {chosen.max():.4g}); {_hint(chosen, task)}"
        )
    return out


def _hint(values: np.ndarray, task: str) -> str:
    """Which the numbers look like: logits (both signs, where a sigmoid still separates them) or a regression's values."""
    if task == "multiclass" or values.shape[1] >= 2 or (values.min() < 0 < values.max() and np.abs(values).max() <= 30):
        return "they look like logits: pass outputs='logits', which puts the activation into the graph"
    return "they look like a regression's values: pass task='regression' (and targets=[...] to name them)"
