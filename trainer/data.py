"""Training tables: the lecture's four students, or a CSV file (gzip by extension), split seeded."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import numpy as np

from edge_predict.errors import InputError
from edge_predict.numbers import NUMBER, parse_number

# The columns `edge-predict predict` appends to each row's features: a feature of the same name is ambiguous
OUTPUT_COLUMNS = ("probability", "label")


@dataclass(frozen=True)
class Table:
    """Features x (n, k) and 0/1 labels y (n, 1), float32, with the features' names."""

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    label_name: str = "label"
    source: str = "lecture"
    # What the runtime will refuse values outside of, per feature ({"min", "max"}); None: unbounded.
    domain: tuple[dict, ...] | None = None
    labels: tuple[str, str] = ("0", "1")  # what the runtime prints for label 0 and label 1


def lecture_data() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's four students: hours studied (x) and whether they passed (y), float32."""
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype=np.float32)
    return x, y


def lecture_table() -> Table:
    """The lecture data as a Table with its one feature, hours."""
    return Table(*lecture_data(), feature_names=("hours",), label_name="passed", domain=({"min": 0.0},),
                 labels=("fail", "pass"))


def data_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """A fingerprint of the training data as the model saw it (little-endian float32)."""
    digest = hashlib.sha256()
    for array in (x, y):
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype="<f4").tobytes())
    return digest.hexdigest()


def read_table(path: str | Path, label: str | None = None, drop: Sequence[str] = ()) -> Table:
    """Read a CSV table; `label` is a header name or a column number from 1 (default: the last column).

    Columns in `drop` (names or numbers, e.g. an ID) are neither features nor read. A first line that is
    not all numbers is the header; without one the features are x0, x1, ... Blank lines and lines
    starting with '#' are skipped, as the runtime does.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline=None) as stream:
            lines = [(n, line.strip()) for n, line in enumerate(stream, start=1)]
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the data file ({exc})") from None
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if not lines:
        raise InputError(f"{path}: the data file has no rows")
    first = [f.strip() for f in lines[0][1].split(",")]
    header = None if all(NUMBER.fullmatch(f) for f in first) else first
    rows = lines[1:] if header else lines
    width = len(first)
    names = header or [f"column {j + 1}" for j in range(width)]
    target = width - 1 if label is None else _column_index(label, header, width, path, "label")
    dropped = {_column_index(column, header, width, path, "--drop") for column in drop}
    if target in dropped:
        raise InputError(f"{path}: --drop {names[target]!r} is the label column; drop a feature or pick "
                         "another --label")
    features = [j for j in range(width) if j != target and j not in dropped]
    if header:
        _check_header(header, [header[j] for j in features], f"{path} line {lines[0][0]}")
    if not features or not rows:
        raise InputError(f"{path}: need at least one feature column and one data row")
    x = np.empty((len(rows), len(features)), np.float32)
    y = np.empty((len(rows), 1), np.float32)
    for i, (lineno, line) in enumerate(rows):
        fields = line.split(",")
        where = f"{path} line {lineno}"
        if len(fields) != width:
            raise InputError(f"{where}: {len(fields)} columns, but the first line has {width}")
        x[i] = [parse_number(fields[j], f"{where}, column {j + 1} ({names[j]})") for j in features]
        value = fields[target].strip()
        if not (NUMBER.fullmatch(value) and float(value) in (0.0, 1.0)):
            raise InputError(f"{where}: label {value!r} in column {target + 1} ({names[target]}) is not 0 or 1")
        y[i] = float(value)
    if y.min() == y.max():
        raise InputError(f"{path}: every label is {int(y[0, 0])}; a classifier needs rows of both 0 and 1")
    feature_names = tuple(header[j] for j in features) if header else tuple(f"x{i}" for i in range(len(features)))
    return Table(x, y, feature_names, names[target] if header else "label", str(path))


def _check_header(header: list[str], feature_names: list[str], where: str) -> None:
    """Refuse names the runtime could not tell apart: a repeated column, or a feature named like an output."""
    for j, name in enumerate(header):
        if not name:
            raise InputError(f"{where}: column {j + 1} has no name; name every column or drop the header")
        if name in header[:j]:
            raise InputError(f"{where}: column name {name!r} appears twice; give every column its own name")
    for name in OUTPUT_COLUMNS:
        if name in feature_names:
            raise InputError(f"{where}: a feature may not be named {name!r}, a column edge-predict's output "
                             "adds; rename it")


def _column_index(column: str, header: list[str] | None, width: int, path: Path, what: str) -> int:
    """The index of `column`, a header name or a column number from 1; `what` names the option for errors."""
    if header and column in header:
        return header.index(column)
    if column.isdigit() and 1 <= int(column) <= width:
        return int(column) - 1
    known = f"a header name ({','.join(header)}) or " if header else ""
    noun = "no label column" if what == "label" else f"{what}: no column"
    raise InputError(f"{path}: {noun} {column!r}; use {known}a column number from 1 to {width}")


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
    return replace(table, x=table.x[fit], y=table.y[fit]), replace(table, x=table.x[val], y=table.y[val])


def observed_domain(table: Table) -> Table:
    """`table` whose domain is the range each feature has in it: the runtime will refuse anything else."""
    bounds = [{"min": float(lo), "max": float(hi)} for lo, hi in zip(table.x.min(axis=0), table.x.max(axis=0))]
    return replace(table, domain=tuple(bounds))


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, as stored (compressed if it is .gz)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
