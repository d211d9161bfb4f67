"""Tables read by column name: pandas and polars DataFrames and pyarrow Tables, none of them imported here."""

from __future__ import annotations

import sys
from typing import Any, Sequence

import numpy as np

from edge_predict.errors import InputError


def columns_by_name(X: Any, names: Sequence[str]) -> Any:
    """A pandas or polars DataFrame or a pyarrow Table as a float64 (n, k) array of the columns `names`, in
    that order (any order in X, extra columns ignored); a Series as the DataFrame it stands for (_series_frame);
    a list of rows as it is, unless its rows carry names (refused); anything else as it is. Imports none of them."""
    if type(X) is np.ndarray:
        return X
    if type(X) in (list, tuple):  # rows: plain ones as they are (one look at each), others below
        return X if all(type(row) in _PLAIN_ROWS for row in X) else _odd_rows(X)
    found = _table_columns(X, names)
    if found is None:
        return X
    kind, table = found
    picked = []
    for name, column in zip(names, table):
        # Numbers only, as for arrays: converting strings would take Python's float grammar ('1_0' -> 10.0)
        numeric = column.dtype.kind in "iuf" if kind == "pandas" else True
        try:
            values = (
                column.to_numpy(zero_copy_only=False)
                if kind == "pyarrow"
                else column.to_numpy(dtype=np.float64, na_value=np.nan)
                if kind == "pandas"
                else column.to_numpy()
            )
            numeric = numeric and np.asarray(values).dtype.kind in "iuf"
        except (TypeError, ValueError):
            numeric = False
        if not numeric:
            dtype = column.type if kind == "pyarrow" else column.dtype
            raise InputError(
                f"X's column {name!r} holds {dtype} values, but the model expects numbers; "
                "convert it, e.g. with astype(float)"
            )
        picked.append(np.asarray(values, dtype=np.float64))
    return np.column_stack(picked) if picked else np.empty((len(X), 0))


def named_columns(X: Any, names: Sequence[str]) -> list[np.ndarray] | None:
    """The columns `names` of a pandas or polars DataFrame, a pyarrow Table or a dict of columns, each as a 1-D
    array of its values as they are: numbers as a numeric array (NaN where missing), anything else as objects
    (None where missing; categories as their values). None if X is not a table (rows, arrays)."""
    if isinstance(X, dict):
        found = ("dict", _columns_of(X, list(map(str, X)), names, lambda i: list(X.values())[i]))
    elif type(X) in (list, tuple):
        _odd_rows(X)  # rows that carry names are refused
        return None
    else:
        found = _table_columns(X, names)
    if found is None:
        return None
    kind, table = found
    columns = [_values(kind, column) for column in table]
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise InputError(f"X's columns have different lengths ({', '.join(map(str, sorted(lengths)))})")
    return columns


def _values(kind: str, column: Any) -> np.ndarray:
    """One column's values as a 1-D array: numeric where the column is, else objects with None for a null."""
    if kind == "dict":
        values = column if type(column) is np.ndarray else np.array(list(column), dtype=object)
        if values.ndim != 1:
            raise InputError(f"X's columns must be 1-D; one has shape {values.shape}")
        if values.dtype == object and len(values):  # Python numbers only: a numeric array, as numpy makes one
            types = set(map(type, values))
            if types <= {int, float}:
                try:
                    return values.astype(np.int64 if types == {int} else np.float64)
                except OverflowError:
                    return values
        return values.astype(object) if values.dtype.kind in "US" else values
    if kind == "pandas":
        dtype = column.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            return column.to_numpy()
        return column.to_numpy(dtype=object, na_value=None)
    if kind == "polars":
        if column.dtype.is_numeric():
            return column.to_numpy()
        return np.array(column.to_list(), dtype=object)
    import pyarrow  # a pyarrow Table was given: pyarrow is imported already

    if pyarrow.types.is_integer(column.type) or pyarrow.types.is_floating(column.type):
        return column.to_numpy(zero_copy_only=False)  # nulls: NaN (integers become float64)
    return np.array(column.to_pylist(), dtype=object)  # dictionary columns too: their to_numpy drops nulls


def _table_columns(X: Any, names: Sequence[str]) -> tuple[str, list] | None:
    """('pandas' | 'polars' | 'pyarrow', the columns `names` in that order), None if X is no DataFrame or Table;
    InputError if a name is missing or twice, or X is a table this runtime cannot read by name."""
    kind = _library(X)
    if kind in ("pandas", "polars") and not hasattr(X, "columns") and hasattr(X, "to_frame"):  # a Series
        X = _series_frame(X, names, kind)
    if kind == "pandas" and hasattr(X, "columns"):
        columns = [str(c) for c in X.columns]
    elif kind == "pyarrow" and hasattr(X, "column_names"):
        columns = list(X.column_names)
    elif kind == "polars" and hasattr(X, "to_numpy") and hasattr(X, "columns"):  # a DataFrame, not a Series
        columns = list(X.columns)
    elif (kind == "polars" and not hasattr(X, "to_numpy")) or hasattr(X, "columns"):  # np.asarray: by position
        raise InputError(
            f"X is a {type(X).__module__}.{type(X).__name__}, a table this runtime cannot read by column name; "
            "convert it to a pandas or polars DataFrame or a pyarrow Table, e.g. X.to_pandas() (X.collect() for a "
            "polars LazyFrame)"
        )
    else:
        return None

    def column(i: int):
        # pandas by position: str() of a label such as 0 names it, but X["0"] does not find it
        return X.iloc[:, i] if kind == "pandas" else X[columns[i]] if kind == "polars" else X.column(columns[i])

    return kind, _columns_of(X, columns, names, column)


def _columns_of(X: Any, columns: list[str], names: Sequence[str], column) -> list:
    """column(i) for each of `names` by its position in `columns`, or InputError if one is missing or twice."""
    missing = [n for n in names if n not in columns]
    twice = sorted({n for n in names if columns.count(n) > 1})
    if missing or twice:
        extra = [c for c in columns if c not in names]
        raise InputError(
            f"X has no column {', '.join(map(repr, missing))} (it has extra columns "
            f"{', '.join(map(repr, extra)) or 'none'}); the model reads its features by name: "
            f"{', '.join(names)}"
            if missing
            else f"X has the column {twice[0]!r} twice"
        )
    return [column(columns.index(name)) for name in names]


def column_labels(X: Any) -> tuple[str, ...]:
    """The column names of a pandas or polars DataFrame, a pyarrow Table or a dict of columns (as they are read by
    name), else ()."""
    if isinstance(X, dict):
        return tuple(map(str, X))
    kind = _library(X) if type(X) not in (np.ndarray, list, tuple) else None
    if kind == "pandas" and hasattr(X, "columns"):
        return tuple(str(c) for c in X.columns)
    if kind == "pyarrow" and hasattr(X, "column_names"):
        return tuple(X.column_names)
    if kind == "polars" and hasattr(X, "to_numpy") and hasattr(X, "columns"):
        return tuple(X.columns)
    return ()


_PLAIN_ROWS = {list, tuple, float, int, bool, np.ndarray, np.float32, np.float64, np.int64, np.int32}


def _odd_rows(X: list | tuple) -> Any:
    """Rows not all plain lists or numbers: refused if they carry names (they would be read by position); masked
    rows as one masked array (np.asarray would drop their masks; ragged ones are left for convert to name)."""
    if any(map(_carries_names, X)):
        raise InputError(
            f"X is a {type(X).__name__} of rows or columns that carry names (pandas Series from df.iloc[i] or "
            "df.iterrows(), namedtuples from df.itertuples(), polars Series, pyarrow arrays), which would be read "
            "by position as rows; pass the DataFrame or Table itself"
        )
    ma = sys.modules.get("numpy.ma")  # not imported: no masked row exists
    if ma is not None and any(isinstance(row, ma.MaskedArray) for row in X):
        try:
            return ma.asarray(X)
        except ValueError:  # rows of different lengths
            return X
    return X


def _library(X: Any) -> str | None:
    """'pandas', 'pyarrow' or 'polars' if X's class (or a base of it) comes from that library."""
    roots = {cls.__module__.split(".")[0] for cls in type(X).__mro__}  # a subclass of pandas.DataFrame is one too
    return next((k for k in ("pandas", "pyarrow", "polars") if k in roots), None)


def _carries_names(item: Any) -> bool:
    """A namedtuple, or a pandas, polars or pyarrow object (a Series, an array): values that have names."""
    return hasattr(item, "_fields") or _library(item) is not None


def _series_frame(series: Any, names: Sequence[str], kind: str) -> Any:
    """A Series as the DataFrame it stands for: one column named as the Series (unnamed: the one feature), or, for a
    pandas Series not named as a feature whose index holds every feature (df.iloc[i]), one row; else InputError."""
    name = series.name
    if len(names) == 1 and (name == names[0] or name is None or (kind == "polars" and name == "")):
        return series.to_frame(names[0])
    if (
        kind == "pandas"
        and str(name) not in names
        and set(names) <= {str(label) for label in getattr(series, "index", ())}
    ):
        return series.to_frame().T.infer_objects()
    raise InputError(
        f"X is a {kind} Series named {name!r}, but the model reads its features by name: {', '.join(names)}; "
        + (f"pass a Series named {names[0]!r} or a DataFrame" if len(names) == 1 else "pass a DataFrame")
    )
