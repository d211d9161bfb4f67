"""Scoring Dask and Spark DataFrames with one verified onnxruntime session per worker process.

The engines (dask, pyspark, pyarrow, pandas) are imported inside the functions that use them only:
`import edge_predict` never loads them. The model's bytes travel once to each worker process, which
loads them into one session (one intra-op thread, so workers do not fight over cores), verifies the
golden vectors once, and keeps the session for every later partition, found by the model's sha256.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .errors import InputError, ModelError, VerificationError
from .validation import columns_by_name

if TYPE_CHECKING:
    from .predictor import Predictor

ON_ERROR = ("raise", "null")
ERROR_COLUMN = "error"  # added with on_error="null": why a row's outputs are null (null when it was scored)

_PREDICTORS: dict[tuple[str, float | None], "Predictor"] = {}  # this process's, by (model sha256, threshold)
_SESSIONS_BUILT = 0  # how many this process built: the tests prove it stays at one per model
_LOCK = threading.Lock()  # a worker running several threads still builds each session once


def output_columns(predictor: "Predictor") -> list[tuple[str, str]]:
    """(name, "float32" or "string") of the columns scoring adds: predict_table's, the CLI's output columns.

    The task decides the names (Predictor.output_names); a classifier's label is text, every other output float32.
    """
    text = "label" if predictor.task != "regression" else None  # a regression target may be called "label"
    return [(name, "string" if name == text else "float32") for name in predictor.output_names]


@dataclass(frozen=True)
class _Model:
    """What every worker receives once: the model's bytes, its sha256 (the cache key) and the threshold."""

    sha256: str
    data: bytes
    source: str
    threshold: float | None  # binary models only


def _shipped(predictor: "Predictor") -> _Model:
    # Predictor has no public accessor for its bytes; its pickle support ships them, so take them from there,
    # checked against the public sha256 so that a change of that layout fails loudly, never silently.
    data = predictor.__reduce__()[1][0]
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != predictor.sha256:
        raise ModelError(f"{predictor.source}: cannot read the model's bytes to send them to the workers")
    threshold = predictor.threshold if predictor.task == "binary" else None
    return _Model(predictor.sha256, data, predictor.source, threshold)


def worker_predictor(model: _Model) -> "Predictor":
    """This process's Predictor for `model`: loaded and verified on first use, then reused for every partition."""
    global _SESSIONS_BUILT
    key = (model.sha256, model.threshold)
    with _LOCK:
        predictor = _PREDICTORS.get(key)
        if predictor is None:
            from .predictor import Predictor

            try:  # from_bytes scores the golden vectors: a worker whose CPU computes them wrong refuses to score
                predictor = Predictor.from_bytes(model.data, source=model.source, threads=1,
                                                 threshold=model.threshold, max_bytes=len(model.data))
            except VerificationError as exc:
                raise VerificationError(f"worker {socket.gethostname()} (pid {os.getpid()}) refuses to score: {exc}",
                                        difference=exc.difference) from None
            _PREDICTORS[key] = predictor
            _SESSIONS_BUILT += 1
    return predictor


def check_frame(predictor: "Predictor", kinds: dict[str, str | None], on_error: str) -> list[tuple[str, str]]:
    """Before any job starts: every feature present and numeric (kinds: None) and no output column there yet.

    Returns the output columns.
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error={on_error!r}: expected 'raise' (fail on the first bad row) or 'null'")
    names = predictor.feature_names
    missing = [name for name in names if name not in kinds]
    if missing:
        raise InputError(f"the DataFrame has no column {missing[0]!r}, a feature of the model ({', '.join(names)}); "
                         f"columns are matched by exact name" + (f" (also missing: {', '.join(missing[1:])})"
                                                                 if len(missing) > 1 else ""))
    for name in names:
        if kinds[name] is not None:
            raise InputError(f"column {name!r} holds {kinds[name]}, but the model expects numbers; cast it first")
    columns = output_columns(predictor)
    clash = [name for name, _ in columns + [(ERROR_COLUMN, "")] * (on_error == "null") if name in kinds]
    if clash:
        raise InputError(f"the DataFrame already has a column {clash[0]!r}, which scoring adds; rename or drop it")
    return columns


def score_rows(predictor: "Predictor", x: np.ndarray, columns: list[tuple[str, str]], on_error: str,
               where: Callable[[int], str]) -> tuple[dict[str, np.ndarray], np.ndarray | None, list | None]:
    """predict_table of the rows of `x` (float64, feature order), with the CLI's --keep-going loop.

    Returns the output columns, the mask of scored rows (None: all) and per row why it was not (None: all were).
    on_error="raise": the first bad row raises InputError naming it by `where(row)`;
    on_error="null": bad rows get NaN or None outputs and a reason.
    """
    keep = np.arange(len(x))
    reasons: dict[int, str] = {}
    while keep.size:
        try:
            table = predictor.predict_table(x[keep] if reasons else x)
            break
        except InputError as exc:
            if exc.row is None:
                raise
            # A bad value: find every bad row at once. The model's NaN for a sample: that sample alone.
            errors = (predictor.input_errors(x[keep]) if exc.col is not None else []) or [exc]
            found = {int(keep[e.row]): _reason(predictor, x, int(keep[e.row]), e) for e in errors}
            if on_error == "raise":
                row = min(found)
                raise InputError(f"{where(row)}, {found[row]}", row=row, col=errors[0].col,
                                 problem=errors[0].problem) from None
            reasons.update(found)
            keep = np.setdiff1d(keep, list(found), assume_unique=True)
    else:
        table = None
    if not reasons and table is not None:
        return table, None, None
    ok = np.zeros(len(x), bool)
    ok[keep] = True
    full = {}
    for name, kind in columns:
        full[name] = np.full(len(x), np.nan, np.float32) if kind == "float32" else np.full(len(x), None, object)
        if table is not None:
            full[name][keep] = table[name]
    return full, ok, [reasons.get(i) for i in range(len(x))]


def _reason(predictor: "Predictor", x: np.ndarray, row: int, error: InputError) -> str:
    if error.col is None:  # valid values, but the model computes NaN for them
        return f"the sample {error.problem}"
    return f"{predictor.feature_names[error.col]}: {x[row, error.col]:g} {error.problem}"


# -- Dask ---------------------------------------------------------------------------------------
def score_dask(ddf: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`ddf` with the model's output columns added (as the CLI's CSV names them), features read by column name.

    on_error="raise" fails the job on the first non-finite or out-of-domain row, naming its partition and row;
    "null" gives such rows null outputs and says why in an "error" column.
    """
    import dask

    kinds = {name: None if dtype.kind in "iuf" else str(dtype) for name, dtype in ddf.dtypes.items()}
    columns = check_frame(predictor, kinds, on_error)
    model = _shipped(predictor)
    empty = {name: np.empty(0, np.float32 if kind == "float32" else object) for name, kind in columns}
    meta = _with_outputs(ddf._meta, columns, empty, [], on_error)  # ddf._meta: dask's empty, typed frame
    # One key of the graph holds the bytes: each worker fetches it once, not once per task.
    shipped = dask.delayed(model, pure=True, traverse=False)
    return ddf.map_partitions(_dask_partition, shipped, columns, on_error, meta=meta)


def _dask_partition(frame: Any, model: _Model, columns: list, on_error: str, partition_info: dict | None = None):
    predictor = worker_predictor(model)
    number = partition_info["number"] if partition_info else "?"
    where = lambda row: f"partition {number}, row {row} (index {frame.index[row]})"  # noqa: E731
    x = columns_by_name(frame, predictor.feature_names)  # as Predictor reads a DataFrame: float64, NA as NaN
    outputs, _, reasons = score_rows(predictor, x, columns, on_error, where)
    return _with_outputs(frame, columns, outputs, reasons, on_error)


def _with_outputs(frame: Any, columns: list, outputs: dict, reasons: list | None, on_error: str) -> Any:
    """The pandas `frame` with the output columns (and, with on_error="null", the error column) added."""
    import pandas as pd

    string = pd.StringDtype("pyarrow")  # what dask makes of the text columns it reads
    added = {name: pd.Series(outputs[name], index=frame.index, dtype="float32" if kind == "float32" else string)
             for name, kind in columns}
    if on_error == "null":
        added[ERROR_COLUMN] = pd.Series(reasons or [None] * len(frame), index=frame.index, dtype=string)
    return frame.assign(**added)


# -- Spark --------------------------------------------------------------------------------------
_SPARK_NUMBERS = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType")


def score_spark(df: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`df` with the model's output columns added, via mapInArrow; the model's bytes are broadcast once.

    on_error as in score_dask. A bad row ends the Spark job; Spark's error carries edge-predict's message.
    """
    from pyspark.sql.types import FloatType, StringType, StructField, StructType

    kinds = {f.name: None if type(f.dataType).__name__ in _SPARK_NUMBERS else f.dataType.simpleString()
             for f in df.schema.fields}
    columns = check_frame(predictor, kinds, on_error)
    added = [StructField(name, FloatType() if kind == "float32" else StringType()) for name, kind in columns]
    if on_error == "null":
        added.append(StructField(ERROR_COLUMN, StringType()))
    broadcast = df.sparkSession.sparkContext.broadcast(_shipped(predictor))
    return df.mapInArrow(lambda batches: _spark_batches(batches, broadcast.value, columns, on_error),
                         StructType(df.schema.fields + added))


def _spark_batches(batches: Any, model: _Model, columns: list, on_error: str) -> Any:
    import pyarrow as pa
    from pyspark import TaskContext

    predictor = worker_predictor(model)
    number, offset = TaskContext.get().partitionId(), 0
    for batch in batches:
        x = columns_by_name(batch, predictor.feature_names)  # as Predictor reads an Arrow table: float64
        where = lambda row, start=offset: f"partition {number}, row {start + row}"  # noqa: E731
        outputs, ok, reasons = score_rows(predictor, x, columns, on_error, where)
        mask = None if ok is None else ~ok
        arrays = [pa.array(outputs[name], type=pa.float32() if kind == "float32" else pa.string(), mask=mask)
                  for name, kind in columns]
        names = [name for name, _ in columns]
        if on_error == "null":
            arrays.append(pa.array(reasons or [None] * batch.num_rows, type=pa.string()))
            names.append(ERROR_COLUMN)
        yield pa.RecordBatch.from_arrays(batch.columns + arrays, names=batch.schema.names + names)
        offset += batch.num_rows
