"""The engines' shared rules: the checks before a job starts and the scoring of one partition's rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from edge_predict.errors import InputError, ModelError
from edge_predict.scoring.frames import columns_by_name, named_columns

if TYPE_CHECKING:
    from edge_predict.predictor import Predictor

ON_ERROR = ("raise", "null")
ERROR_COLUMN = "error"  # added with on_error="null": why a row's outputs are null (null when it was scored)


def output_columns(predictor: "Predictor", input_columns: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, "float32" or "string") of the columns scoring adds: predict_table's, the CLI's output columns.

    The task decides the names (Predictor.output_names_for the frame's columns: beside a truth column 'label', the
    label is 'predicted_label'); a classifier's label is text, every other output float32.
    """
    text = "label" if predictor.task != "regression" else None  # a regression target may be called "label"
    kinds = ["string" if name == text else "float32" for name in predictor.output_names]
    return list(zip(predictor.output_names_for(input_columns), kinds))


def check_frame(predictor: "Predictor", kinds: dict[str, str | None], on_error: str) -> list[tuple[str, str]]:
    """Before any job starts: every feature present, numeric (kinds: None) unless it is a category, and no output
    column there yet.

    Returns the output columns.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error={on_error!r}: expected 'raise' (fail on the first bad row) or 'null'")
    names = predictor.feature_names
    missing = [name for name in names if name not in kinds]
    if missing:
        raise InputError(
            f"the DataFrame has no column {missing[0]!r}, a feature of the model ({', '.join(names)}); "
            f"columns are matched by exact name"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        )
    categories = {f.name for f in predictor.features if f.type == "category"}  # text, codes: any column kind
    for name in names:
        if kinds[name] is not None and name not in categories:
            raise InputError(f"column {name!r} holds {kinds[name]}, but the model expects numbers; cast it first")
    columns = output_columns(predictor, list(kinds))
    if on_error == "null" and ERROR_COLUMN in dict(columns):
        raise InputError(
            f"on_error='null' adds a column {ERROR_COLUMN!r}, but the model has an output of that name, whose values "
            "it would replace; use on_error='raise', or re-export the model with another target name"
        )
    if on_error == "null" and ERROR_COLUMN in kinds:
        raise InputError(
            f"the DataFrame already has a column {ERROR_COLUMN!r}, which on_error='null' adds; rename or drop it"
        )
    return columns


def features_of(predictor: "Predictor", table: Any) -> np.ndarray | dict[str, np.ndarray]:
    """A partition's features as Predictor reads a DataFrame or Arrow table: a float64 (n, k) array of a numeric
    model's (NA as NaN), or {feature: its column as it is} of a typed model's (text, codes, nulls as None)."""
    names = predictor.feature_names
    if all(f.type == "number" and f.missing == "refuse" for f in predictor.features):
        return columns_by_name(table, names)
    return dict(zip(names, named_columns(table, names)))


def score_rows(
    predictor: "Predictor",
    x: np.ndarray | dict[str, np.ndarray],
    columns: list[tuple[str, str]],
    on_error: str,
    where: Callable[[int], str],
) -> tuple[dict[str, np.ndarray], np.ndarray | None, list | None]:
    """predict_table of the rows of `x` (features_of), keeping going past bad rows (Predictor.score_rows).

    Returns the output columns, the mask of scored rows (None: all) and per row why it was not (None: all were).
    on_error="raise": the first bad row raises InputError naming it by `where(row)`;
    on_error="null": bad rows get NaN or None outputs and a reason.
    """
    try:
        table, errors = predictor.score_rows(x)  # output_names, in the order of `columns`, which may rename them
    except ModelError as exc:  # the graph's output for one sample is impossible: the job fails naming it
        if exc.row is None:
            raise
        raise ModelError(
            f"{predictor.source}: {where(exc.row)}: {exc.problem}", row=exc.row, problem=exc.problem
        ) from None
    if errors and on_error == "raise":
        row, error = next(iter(errors.items()))
        raise InputError(
            f"{where(row)}, {_reason(predictor, x, row, error)}", row=row, col=error.col, problem=error.problem
        )
    if table is not None:
        table = dict(zip([name for name, _ in columns], table.values()))
    if not errors:
        return table, None, None
    n = len(x) if not isinstance(x, dict) else len(next(iter(x.values())))
    ok = np.ones(n, bool)
    ok[list(errors)] = False
    full = {}
    for name, kind in columns:
        full[name] = np.full(n, np.nan, np.float32) if kind == "float32" else np.full(n, None, object)
        if table is not None:
            full[name][ok] = table[name]
    reasons = {row: _reason(predictor, x, row, error) for row, error in errors.items()}
    return full, ok, [reasons.get(i) for i in range(n)]


def _reason(predictor: "Predictor", x: np.ndarray, row: int, error: InputError) -> str:
    if error.col is None:  # valid values, but the model computes NaN for them
        return f"the sample {error.problem}"
    name = predictor.feature_names[error.col]
    if not isinstance(x, dict):
        return f"{name}: {x[row, error.col]:g} {error.problem}"
    value = x[name][row]
    if isinstance(value, np.generic):
        value = value.item()
    shown = f"{value:g}" if isinstance(value, float) else repr(value)
    return f"{name}: {shown} {error.problem}"


def label_array(labels: np.ndarray, classes: Sequence[str]) -> Any:
    """A classifier's label column (None where a row was not scored) as an Arrow string array, null for None.

    Built from class codes rather than from each row's text: converting every row's str object is what costs
    the most in a worker, several times the scoring itself (docs/distributed.md).
    """
    import pyarrow as pa

    codes = np.full(len(labels), -1, np.int32)
    for code, name in enumerate(classes):
        codes[labels == name] = code
    indices = pa.array(codes, mask=codes < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(classes), pa.string())).cast(pa.string())
