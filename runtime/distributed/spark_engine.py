"""score_spark: the model's output columns added to a Spark DataFrame, Arrow batch by Arrow batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge_predict.distributed.table import ERROR_COLUMN, check_frame, features_of, label_array, score_rows
from edge_predict.distributed.worker import ShippedModel, ship, worker_predictor

if TYPE_CHECKING:
    from edge_predict.predictor import Predictor

_NUMBERS = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType")


def score_spark(df: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`df` with the model's output columns added, via mapInArrow; the model's bytes are broadcast once.

    on_error as in score_dask. A bad row ends the Spark job; Spark's error carries edge-predict's message.
    """
    from pyspark.sql.types import FloatType, StringType, StructField, StructType

    kinds = {
        f.name: None if type(f.dataType).__name__ in _NUMBERS else f.dataType.simpleString() for f in df.schema.fields
    }
    columns = check_frame(predictor, kinds, on_error)
    classes = [] if predictor.task == "regression" else predictor.classes_.tolist()
    added = [StructField(name, FloatType() if kind == "float32" else StringType()) for name, kind in columns]
    if on_error == "null":
        added.append(StructField(ERROR_COLUMN, StringType()))
    broadcast = df.sparkSession.sparkContext.broadcast(ship(predictor))
    return df.mapInArrow(
        lambda batches: _batches(batches, broadcast.value, columns, classes, on_error),
        StructType(df.schema.fields + added),
    )


def _batches(batches: Any, model: ShippedModel, columns: list, classes: list, on_error: str) -> Any:
    import pyarrow as pa
    from pyspark import TaskContext

    predictor = worker_predictor(model)
    number, offset = TaskContext.get().partitionId(), 0
    for batch in batches:
        x = features_of(predictor, batch)  # as Predictor reads an Arrow table
        where = lambda row, start=offset: f"partition {number}, row {start + row}"  # noqa: E731
        outputs, ok, reasons = score_rows(predictor, x, columns, on_error, where)
        arrays = [
            pa.array(outputs[name], type=pa.float32(), mask=None if ok is None else ~ok)
            if kind == "float32"
            else label_array(outputs[name], classes)
            for name, kind in columns
        ]
        names = [name for name, _ in columns]
        if on_error == "null":
            arrays.append(pa.array(reasons or [None] * batch.num_rows, type=pa.string()))
            names.append(ERROR_COLUMN)
        yield pa.RecordBatch.from_arrays(batch.columns + arrays, names=batch.schema.names + names)
        offset += batch.num_rows
