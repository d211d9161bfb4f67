"""Scoring Dask and Spark DataFrames with one verified onnxruntime session per worker process.

The engines (dask, pyspark, pyarrow, pandas) are imported inside the functions that use them only:
`import edge_predict` never loads them. The model's bytes travel once to each worker process, which
loads them into one session (one intra-op thread, so workers do not fight over cores), scores the
golden vectors once, and keeps the session for every later partition, found by the model's sha256.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

import numpy as np

from .errors import InputError, ModelError, VerificationError

if TYPE_CHECKING:
    from .predictor import Predictor

ON_ERROR = ("raise", "null")
ERROR_COLUMN = "error"  # added with on_error="null": why a row's outputs are null (null when scored)

_PREDICTORS: dict[str, "Predictor"] = {}  # this process's verified predictors, by the model's sha256
_SESSIONS_BUILT = 0  # how many this process built: the tests prove it stays at one per model
_LOCK = threading.Lock()  # a worker with several threads still builds each session once


class Column(NamedTuple):
    """One output column: its name, its type ("float32" or "string") and how it comes from the model's output."""

    name: str
    kind: str
    values: Callable[[np.ndarray], np.ndarray]


def output_columns(predictor: "Predictor", threshold: float | None = None) -> list[Column]:
    """The columns scoring adds, named and ordered as the CLI's CSV output for the model's task."""
    manifest = predictor.manifest
    task = manifest.get("task", "binary")  # format 1 models are binary
    if task == "binary":  # P(labels[1]), then the label the CLI prints at the threshold
        labels = np.array(manifest["labels"], dtype=object)
        cut = predictor.threshold if threshold is None else threshold
        return [Column("probability", "float32", _positive),
                Column("label", "string", lambda p: labels[(_positive(p) >= cut).astype(np.int64)])]
    raise ModelError(f"{predictor.source}: a {task!r} model cannot be scored by edge_predict.distributed yet")


def _positive(proba: np.ndarray) -> np.ndarray:
    return proba[:, 1] if proba.ndim == 2 else proba  # (n, 2) in classes_ order, or today's (n,)


@dataclass(frozen=True)
class _Model:
    """What every worker receives once: the model's bytes, its sha256 (the cache key) and the threshold."""

    sha256: str
    data: bytes
    source: str
    threshold: float


def _shipped(predictor: "Predictor") -> _Model:
    # Predictor has no public accessor for its bytes; its pickle support ships them, so read them from there,
    # and check them against the public sha256 so a change in that layout fails loudly, not silently.
    data = predictor.__reduce__()[1][0]
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != predictor.sha256:
        raise ModelError(f"{predictor.source}: cannot read the model's bytes to send them to the workers")
    return _Model(predictor.sha256, data, predictor.source, predictor.threshold)


def worker_predictor(model: _Model) -> "Predictor":
    """This process's Predictor for `model`: loaded and verified on first use, then reused for every partition."""
    global _SESSIONS_BUILT
    with _LOCK:
        predictor = _PREDICTORS.get(model.sha256)
        if predictor is None:
            from .predictor import Predictor

            predictor = Predictor.from_bytes(model.data, source=model.source, threads=1, max_bytes=len(model.data))
            _verify(predictor)
            _PREDICTORS[model.sha256] = predictor
            _SESSIONS_BUILT += 1
    return predictor


def _verify(predictor: "Predictor") -> None:
    """Refuse to score on a worker whose CPU computes the golden vectors wrong (as `edge-predict verify`)."""
    diff = predictor.verify()
    atol = predictor.manifest["golden"]["atol"]
    if not diff <= atol:
        raise VerificationError(f"{predictor.source}: golden vectors do not match on worker {socket.gethostname()} "
                                f"(pid {os.getpid()}): largest difference {diff:.3g} > atol {atol:g}; "
                                "this worker refuses to score")


def check_frame(predictor: "Predictor", columns: dict[str, Any], on_error: str) -> None:
    """Before any job starts: every feature present and numeric, no output column already there."""
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error={on_error!r}: expected 'raise' (fail on the first bad row) or 'null'")
    missing = [name for name in predictor.feature_names if name not in columns]
    if missing:
        raise InputError(f"the DataFrame has no column {missing[0]!r}, a feature of the model "
                         f"({', '.join(predictor.feature_names)}); columns are matched by exact name"
                         + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""))
    for name in predictor.feature_names:
        if columns[name] is not None:
            raise InputError(f"column {name!r} holds {columns[name]}, but the model expects numbers; "
                             f"cast it to float64 first")
    added = [c.name for c in output_columns(predictor)] + ([ERROR_COLUMN] if on_error == "null" else [])
    clash = [name for name in added if name in columns]
    if clash:
        raise InputError(f"the DataFrame already has a column {clash[0]!r}, which scoring adds; rename or drop it")


def score_rows(predictor: "Predictor", x: np.ndarray, columns: list[Column], on_error: str,
               where: Callable[[int], str]) -> tuple[list[np.ndarray], np.ndarray | None, list[str | None] | None]:
    """Score the rows of `x`: per output column its values (nulls for bad rows), the ok-mask and the reasons.

    on_error="raise": the first bad row raises InputError naming it by `where(row)`.
    on_error="null": bad rows get null outputs and a reason; the mask and reasons are None when every row scored.
    """
    n = len(x)
    if n == 0:
        return empty_outputs(columns), None, []
    keep = np.arange(n)
    bad: dict[int, str] = {}
    raw = None
    while keep.size:
        try:
            raw = predictor.predict_proba(x[keep] if bad else x)
            break
        except InputError as exc:
            if exc.row is None:
                raise
            found = _reasons(predictor, x, keep, exc)
            if on_error == "raise":
                row = min(found)
                raise InputError(f"{where(row)}, {found[row]}", row=row) from None
            bad.update(found)
            keep = np.setdiff1d(keep, list(found), assume_unique=True)
    if not bad:
        return [c.values(raw) for c in columns], None, None
    ok = np.ones(n, bool)
    ok[list(bad)] = False
    outputs = []
    for c in columns:
        full = np.full(n, np.nan, np.float32) if c.kind == "float32" else np.full(n, None, object)
        if raw is not None:
            full[keep] = c.values(raw)
        outputs.append(full)
    return outputs, ok, [bad.get(i) for i in range(n)]


def empty_outputs(columns: list[Column]) -> list[np.ndarray]:
    return [np.empty(0, np.float32 if c.kind == "float32" else object) for c in columns]


def _reasons(predictor: "Predictor", x: np.ndarray, keep: np.ndarray, exc: InputError) -> dict[int, str]:
    """Row of `x` -> why it cannot be scored: each bad value among rows `keep`, else the row the model made NaN."""
    names = predictor.feature_names
    errors = predictor.input_errors(x[keep])
    if errors:
        return {int(keep[e.row]): f"{names[e.col]}: {x[keep[e.row], e.col]:g} {e.problem}" for e in errors}
    return {int(keep[exc.row]): f"the sample {exc.problem}"}  # valid values, but the model computes NaN


# -- Dask -------------------------------------------------------------------------------------
def score_dask(ddf: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`ddf` with the model's output columns added (as the CLI's CSV names them), features read by column name.

    on_error="raise" fails the job on the first non-finite or out-of-domain row, naming its partition and row;
    "null" gives such rows null outputs and says why in an "error" column.
    """
    import dask

    check_frame(predictor, {name: None if t.kind in "iuf" else str(t) for name, t in ddf.dtypes.items()}, on_error)
    model = _shipped(predictor)
    columns = output_columns(predictor)
    meta = _with_outputs(ddf._meta, columns, empty_outputs(columns), [], on_error)  # ddf._meta: empty, typed
    # One key of the graph holds the bytes: each worker fetches it once, not once per task.
    shipped = dask.delayed(model, pure=True, traverse=False)
    return ddf.map_partitions(_dask_partition, shipped, on_error, meta=meta)


def _dask_partition(frame: Any, model: _Model, on_error: str, partition_info: dict | None = None) -> Any:
    predictor = worker_predictor(model)
    columns = output_columns(predictor, model.threshold)
    number = partition_info["number"] if partition_info else "?"
    x = frame[list(predictor.feature_names)].to_numpy(dtype=np.float64, na_value=np.nan)
    where = lambda row: f"partition {number}, row {row} (index {frame.index[row]})"  # noqa: E731
    outputs, _, reasons = score_rows(predictor, x, columns, on_error, where)
    return _with_outputs(frame, columns, outputs, reasons, on_error)


def _with_outputs(frame: Any, columns: list[Column], outputs: list[np.ndarray], reasons: list | None,
                  on_error: str) -> Any:
    """The pandas `frame` with the output columns (and, with on_error="null", the error column) added."""
    import pandas as pd

    string = pd.StringDtype("pyarrow")  # what dask makes of text columns it reads
    added = {c.name: pd.Series(v, index=frame.index, dtype="float32" if c.kind == "float32" else string)
             for c, v in zip(columns, outputs)}
    if on_error == "null":
        added[ERROR_COLUMN] = pd.Series(reasons or [None] * len(frame), index=frame.index, dtype=string)
    return frame.assign(**added)


# -- Spark ------------------------------------------------------------------------------------
_SPARK_NUMERIC = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType")


def score_spark(df: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`df` with the model's output columns added, via mapInArrow; the model's bytes are broadcast once.

    on_error as in score_dask. A bad row ends the Spark job; Spark's error carries edge-predict's message.
    """
    from pyspark.sql.types import FloatType, StringType, StructField, StructType

    kinds = {f.name: None if type(f.dataType).__name__ in _SPARK_NUMERIC else f.dataType.simpleString()
             for f in df.schema.fields}
    check_frame(predictor, kinds, on_error)
    added = [StructField(c.name, FloatType() if c.kind == "float32" else StringType())
             for c in output_columns(predictor)]
    if on_error == "null":
        added.append(StructField(ERROR_COLUMN, StringType()))
    broadcast = df.sparkSession.sparkContext.broadcast(_shipped(predictor))
    return df.mapInArrow(lambda batches: _spark_batches(batches, broadcast.value, on_error),
                         StructType(df.schema.fields + added))


def _spark_batches(batches: Any, model: _Model, on_error: str) -> Any:
    import pyarrow as pa
    from pyspark import TaskContext

    predictor = worker_predictor(model)
    columns = output_columns(predictor, model.threshold)
    number, offset = TaskContext.get().partitionId(), 0
    for batch in batches:
        x = np.column_stack([batch.column(name).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
                             for name in predictor.feature_names]).reshape(batch.num_rows, -1)
        where = lambda row, start=offset: f"partition {number}, row {start + row}"  # noqa: E731
        outputs, ok, reasons = score_rows(predictor, x, columns, on_error, where)
        mask = None if ok is None else ~ok
        arrays = [pa.array(v, type=pa.float32() if c.kind == "float32" else pa.string(), mask=mask)
                  for c, v in zip(columns, outputs)]
        names = [c.name for c in columns]
        if on_error == "null":
            arrays.append(pa.array(reasons or [None] * batch.num_rows, type=pa.string()))
            names.append(ERROR_COLUMN)
        yield pa.RecordBatch.from_arrays(batch.columns + arrays, names=batch.schema.names + names)
        offset += batch.num_rows
