"""Tables read by column name: pandas and polars DataFrames and pyarrow Tables, none of them imported here."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import InputError


def columns_by_name(X: Any, names: Sequence[str]) -> Any:
    """A pandas or polars DataFrame or a pyarrow Table as a float64 (n, k) array of the columns `names`, in
    that order (any order in X, extra columns ignored); anything else as it is. Imports none of them."""
    if type(X) in (list, tuple, np.ndarray):  # the usual inputs, decided without looking through their classes
        return X
    roots = {cls.__module__.split(".")[0] for cls in type(X).__mro__}  # a subclass of pandas.DataFrame is one too
    kind = next((k for k in ("pandas", "pyarrow", "polars") if k in roots), None)
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
