"""Training tables: the lecture's four students or a CSV file's rows, the task they pose, a seeded split."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_predict import InputError


@dataclass(frozen=True)
class Table:
    """Features x (n, k) and the label column y (n, 1), float32, with names and the task they pose.

    y holds the class index (0 .. C-1, classes in `labels` order) for classifiers, the value for regression.
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    label_name: str = "label"
    source: str = "lecture"
    # What the runtime will refuse values outside of, per feature ({"min", "max"}); None: unbounded.
    domain: tuple[dict, ...] | None = None
    labels: tuple[str, ...] | None = ("0", "1")  # classifiers: class names in output order; regression: None
    task: str = "binary"
    # A table with text or integer categories or gaps: how its raw features become x (trainer/encoding.py), and the
    # raw rows (object (n, features), None for a gap). None: x is the features themselves.
    encoding: Any = None
    raw: np.ndarray | None = None

    @property
    def targets(self) -> tuple[str, ...]:
        """Regression: the names of the predicted values (the label column's)."""
        return (self.label_name,)


def lecture_data() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's four students: hours studied (x) and whether they passed (y), float32."""
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype=np.float32)
    return x, y


def lecture_table() -> Table:
    """The lecture data as a Table with its one feature, hours."""
    return Table(
        *lecture_data(), feature_names=("hours",), label_name="passed", domain=({"min": 0.0},), labels=("fail", "pass")
    )


def data_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """A fingerprint of the table as trained on (docs/training.md): shapes and little-endian float32 values."""
    digest = hashlib.sha256()
    for array in (x, y):
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype="<f4").tobytes())
    return digest.hexdigest()


def split(table: Table, val_fraction: float, seed: int) -> tuple[Table, Table | None]:
    """Shuffle rows with `seed` and hold out `val_fraction` of them for validation (None if 0)."""
    n = len(table.x)
    n_val = int(round(n * val_fraction))
    if val_fraction <= 0:
        return table, None
    if not 1 <= n_val < n:
        raise InputError(f"--val-fraction {val_fraction:g} of {n} rows leaves no training or no validation rows")
    order = np.random.default_rng(seed).permutation(n)
    val, fit = np.sort(order[:n_val]), np.sort(order[n_val:])
    parts = []
    for rows in (fit, val):
        raw = None if table.raw is None else table.raw[rows]
        parts.append(replace(table, x=table.x[rows], y=table.y[rows], raw=raw))
    return parts[0], parts[1]


def observed_domain(table: Table) -> Table:
    """`table` whose domain is the range each feature has in it: the runtime will refuse anything else."""
    if table.encoding is not None:  # numbers: the range of their values (gaps left out); categories: their vocabulary
        bounds = []
        for j, column in enumerate(table.encoding.columns):
            present = [v for v in table.raw[:, j] if v is not None]
            bounds.append(
                {"min": float(np.float32(min(present))), "max": float(np.float32(max(present)))}
                if column.type == "number"
                else {}
            )
        return replace(table, domain=tuple(bounds))
    bounds = [{"min": float(lo), "max": float(hi)} for lo, hi in zip(table.x.min(axis=0), table.x.max(axis=0))]
    return replace(table, domain=tuple(bounds))


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, as stored (compressed if it is .gz)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
