"""Checking typed samples (manifest format 3: numbers and categories, missing values) and feeding them to the graph.

A value is judged by `judge`, one value at a time: that function is the semantics and words every error. The
column-at-once checks below only decide that a whole column needs no judging (every value a known category, every
number finite and in its domain); anything else in the column is judged value by value.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import numpy as np

from edge_predict.errors import InputError
from edge_predict.float32 import F32_MAX
from edge_predict.model.manifest import MISSING_TEXTS, Feature, Manifest
from edge_predict.scoring.frames import named_columns
from edge_predict.scoring.inputs import value_problem

INT64 = (-(2**63), 2**63 - 1)
SHOWN_CATEGORIES = 10  # an error names at most this many known categories, then how many there are


class Rows:
    """Samples read as one 1-D array per feature, in the manifest's feature order: what TypedInputCheck encodes."""

    def __init__(self, columns: Sequence[np.ndarray]):
        self.columns = list(columns)

    def __len__(self) -> int:
        return len(self.columns[0])

    def __getitem__(self, rows) -> "Rows":
        """The rows picked by a slice or an index array, as numpy picks them."""
        return Rows([column[rows] for column in self.columns])


class _Missing:
    """The marker `judge` returns for a missing value the feature accepts: the graph imputes it."""


MISSING = _Missing()


def judge(feature: Feature, value: Any) -> tuple[Any, str | None]:
    """(the value as the graph takes it, None), or (None, the problem: "is not a known category; ...").

    Numbers: any real number (not bool) is a float; a missing value (None, NaN, pandas NA/NaT, the texts
    MISSING_TEXTS) is MISSING where the feature may be missing. Categories: a value in the vocabulary is that
    category, before anything else (the text 'NA' of a vocabulary holding 'NA'); an integral float is an integer code.
    """
    if feature.type == "number":
        number = _number(value)
        if number is None:
            if _is_missing(value, ()):
                return _missing(feature, "a finite number")
            return None, f"is {_kind(value)}; expected a number"
        if math.isnan(number):
            return _missing(feature, "a finite number")
        problem = value_problem(number, feature.min, feature.max)
        return (number, None) if problem is None else (None, problem)
    vocabulary = feature.categories
    text = isinstance(vocabulary[0], str)
    if text and isinstance(value, str):
        if value in vocabulary:
            return str(value), None
        if value in MISSING_TEXTS:
            return _missing(feature, _known(feature))
        if feature.unknown == "encode":
            return str(value), None
        return None, f"is not a known category; expected {_known(feature)}"
    if not text and not isinstance(value, (str, bool, np.bool_)):
        number = _number(value)
        if number is not None and not math.isnan(number):
            code = _code(value, number)
            if code is None:
                return None, f"is not a whole number; expected an integer code, {_known(feature)}"
            if code in vocabulary or (feature.unknown == "encode" and INT64[0] <= code <= INT64[1]):
                return code, None
            return None, f"is not a known category; expected {_known(feature)}"
    if _is_missing(value, vocabulary):
        return _missing(feature, _known(feature))
    kind = "text" if text else "integer codes"
    return None, f"is {_kind(value)}, but {feature.name} takes {kind}; expected {_known(feature)}"


class TypedInputCheck:
    """Turns X into the feed the graph takes ({input name: array}, one per manifest input), or raises InputError."""

    def __init__(self, manifest: Manifest):
        self._features = manifest.features
        self._names = manifest.feature_names
        position = {name: j for j, name in enumerate(self._names)}
        self._inputs = [(g.name, g.type, [position[n] for n in g.features]) for g in manifest.inputs]
        self._vocabularies = [frozenset(f.categories) if f.type == "category" else None for f in self._features]

    def __call__(self, X: Any) -> dict[str, np.ndarray]:
        """The feed for X, or the InputError of its first bad value (row, col in feature order, problem)."""
        columns, bad = self._encode(self.rows(X), first_only=True)
        if bad:
            raise bad[0]
        return self._feed(columns)

    def convert(self, X: Any) -> tuple[Rows, Rows]:
        """X as Rows twice (as InputCheck.convert gives X as given and as converted); InputError if X is not a
        table of samples with the model's features."""
        rows = self.rows(X)
        return rows, rows

    def rows(self, X: Any) -> Rows:
        """X as Rows: a DataFrame's, Table's or dict's columns by name; rows (lists, arrays) by position."""
        if isinstance(X, Rows):
            return X
        k = len(self._names)
        columns = named_columns(X, self._names)
        if columns is None:
            if type(X) in (list, tuple) and len({len(r) for r in X if isinstance(r, (list, tuple, np.ndarray))}) > 1:
                raise InputError(
                    f"X is ragged: rows of different lengths, but the model expects every sample to have "
                    f"{k} features ({', '.join(self._names)})"
                )
            try:
                x = np.asarray(X) if type(X) is np.ndarray or _numeric_rows(X) else np.array(X, dtype=object)
            except ValueError as exc:  # rows of different lengths
                raise InputError(
                    f"X is ragged: rows of different lengths, but the model expects every sample to have "
                    f"{k} features ({', '.join(self._names)})"
                ) from exc
            if x.ndim == 1 and x.shape[0] == 0:
                raise InputError("X has no samples; pass at least one")
            if x.ndim == 0 or (x.ndim == 1 and k == 1):
                x = x.reshape(-1, 1)
            elif x.ndim == 1:
                raise InputError(
                    f"X is 1-D with {x.shape[0]} values, but the model expects 2-D samples of {k} features "
                    f"({', '.join(self._names)}); pass a list of rows, e.g. [[...]] for one sample"
                )
            elif x.ndim != 2:
                raise InputError(f"X has {x.ndim} dimensions, but the model expects a 2-D array (samples, features)")
            if x.shape[1] != k:
                raise InputError(
                    f"X has {x.shape[1]} features per sample, but the model expects {k} ({', '.join(self._names)})"
                )
            if x.dtype.kind in "US":  # a text array: its values as Python strings
                x = x.astype(object)
            columns = [x[:, j] for j in range(k)]
        if len(columns[0]) == 0:
            raise InputError("X has no samples; pass at least one")
        return Rows(columns)

    def errors(self, x: Any, first_only: bool = False) -> list[InputError]:
        """One InputError per sample holding a bad value (its first such column), in row order."""
        return self._encode(self.rows(x), first_only)[1]

    def _encode(self, rows: Rows, first_only: bool) -> tuple[list[np.ndarray], list[InputError]]:
        """Each feature's column as its graph input takes it, and the errors (one per bad row, its first column)."""
        columns, found = [], {}
        for j, (feature, column) in enumerate(zip(self._features, rows.columns)):
            encoded, problems = _column(feature, self._vocabularies[j], column)
            columns.append(encoded)
            for row, problem in problems:
                found.setdefault(row, (j, problem))
        errors = [self._error(rows, row, j, problem) for row, (j, problem) in sorted(found.items())]
        return columns, errors[:1] if first_only else errors

    def _feed(self, columns: list[np.ndarray]) -> dict[str, np.ndarray]:
        feed = {}
        for name, kind, positions in self._inputs:
            picked = [columns[j] for j in positions]
            if kind == "float32":
                with np.errstate(over="ignore"):
                    feed[name] = np.ascontiguousarray(np.column_stack(picked), dtype=np.float32)
            elif kind == "int64":
                feed[name] = np.ascontiguousarray(np.column_stack(picked), dtype=np.int64)
            else:
                feed[name] = np.column_stack(picked).astype(object)
        return feed

    def _error(self, rows: Rows, row: int, col: int, problem: str) -> InputError:
        value = rows.columns[col][row]
        return InputError(
            f"sample {row}, {self._names[col]}: {_shown(value)} {problem}", row=row, col=col, problem=problem
        )


def _column(feature: Feature, vocabulary: frozenset | None, column: np.ndarray) -> tuple[np.ndarray, list]:
    """(the column encoded, [(row, problem)]): a whole-column check first, `judge` for each value it leaves."""
    n, kind = len(column), column.dtype.kind
    if feature.type == "number":
        if kind == "O" and set(map(type, column)) <= _PLAIN_NUMBERS:  # Python numbers and None (missing: NaN)
            try:
                column, kind = column.astype(np.float64), "f"
            except OverflowError:  # an integer beyond any float: judged below
                pass
        if kind in "iuf":
            out = column.astype(np.float64)
            with np.errstate(over="ignore", invalid="ignore"):
                x32 = out.astype(np.float32)
                lo = np.float32(-F32_MAX if feature.min is None else feature.min)
                hi = np.float32(F32_MAX if feature.max is None else feature.max)
                todo = np.flatnonzero(~((x32 >= lo) & (x32 <= hi)))  # NaN fails both
        else:
            out, todo = np.empty(n, np.float64), range(n)
    elif isinstance(feature.categories[0], str):
        out = column if kind == "O" else column.astype(object)
        known = np.fromiter(map(vocabulary.__contains__, out), bool, n)
        todo = np.flatnonzero(~known)
        if todo.size:
            out = out.copy()
    else:
        if kind == "O" and set(map(type, column)) <= _FLOATS:  # as the CLI reads codes: floats, None for missing
            column, kind = column.astype(np.float64), "f"
        out, todo = _codes(vocabulary, column, kind)
    problems = []
    for i in todo:
        encoded, problem = judge(feature, column[i])
        if problem is not None:
            problems.append((int(i), problem))
        elif encoded is MISSING:
            out[i] = math.nan if feature.type == "number" else feature.missing_value
        else:
            out[i] = encoded
    return out, problems


_PLAIN_NUMBERS = {float, int, type(None)}
_FLOATS = {float, type(None)}


def _codes(vocabulary: frozenset, column: np.ndarray, kind: str) -> tuple[np.ndarray, Any]:
    """An integer-code column as int64, and the rows `judge` must look at: all of them unless the column is numeric;
    else those whose value is not exactly a code of the vocabulary (NaN, 1.5, an unseen code)."""
    n = len(column)
    if kind not in "iuf":
        return np.empty(n, np.int64), range(n)
    codes = np.fromiter(vocabulary, np.int64, len(vocabulary))
    with np.errstate(invalid="ignore"):
        out = column.astype(np.int64) if kind != "f" else np.where(np.isfinite(column), column, 0).astype(np.int64)
    known = np.isin(out, codes) & (out == column if kind == "f" else True)
    return out, np.flatnonzero(~known)


def _missing(feature: Feature, expected: str) -> tuple[Any, str | None]:
    if feature.missing == "impute":
        return MISSING, None
    return None, f"is missing, and {feature.name} may not be missing; expected {expected}"


def _known(feature: Feature) -> str:
    """'one of 'a', 'b', 'c'': the vocabulary, its first SHOWN_CATEGORIES and how many more."""
    shown = ", ".join(map(repr, feature.categories[:SHOWN_CATEGORIES]))
    more = len(feature.categories) - SHOWN_CATEGORIES
    return f"one of {shown}" + (f" (and {more} more)" if more > 0 else "")


def _number(value: Any) -> float | None:
    """A real number (Python's or numpy's, not a bool) as a float (inf beyond float64), else None."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond any float
        return math.inf if value > 0 else -math.inf


def _code(value: Any, number: float) -> int | None:
    """An integer code: an integer as it is, an integral float as the integer it equals; None otherwise."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return int(number) if math.isfinite(number) and number.is_integer() else None


def _is_missing(value: Any, vocabulary: Sequence) -> bool:
    """None, NaN, pandas NA/NaT, or a text of MISSING_TEXTS that is not a category."""
    if value is None:
        return True
    if isinstance(value, str):
        return value in MISSING_TEXTS and value not in vocabulary
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    pandas = sys.modules.get("pandas")  # not imported: no pandas value exists
    return pandas is not None and (value is pandas.NA or value is pandas.NaT)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "a number"
    return f"a {type(value).__name__}"


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:40]) + "…"
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        return f"{float(value):g}"
    if isinstance(value, np.generic):
        return repr(value.item())
    return repr(value)


def _floats(column: np.ndarray) -> np.ndarray | None:
    """A column of real numbers as float64 (NaN where missing, judged later), or None if it holds anything else."""
    if column.dtype.kind in "iuf":
        return column.astype(np.float64)
    return None


def _numeric_rows(X: Any) -> bool:
    """Rows (lists) of real numbers only, which numpy may read as numbers."""
    return (
        type(X) in (list, tuple)
        and all(type(row) in (list, tuple) for row in X)
        and all(type(v) in (int, float) for row in X for v in row)
    )
