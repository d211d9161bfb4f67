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
        return X
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
    picked = []
    for name in names:
        # pandas by position: str() of a label such as 0 names it, but X["0"] does not find it
        column = X.iloc[:, columns.index(name)] if kind == "pandas" else X[name] if kind == "polars" else X.column(name)
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
