"""score_dask: the model's output columns added to a Dask DataFrame, partition by partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from edge_predict.distributed.table import ERROR_COLUMN, check_frame, features_of, label_array, score_rows
from edge_predict.distributed.worker import ShippedModel, ship, worker_predictor

if TYPE_CHECKING:
    from edge_predict.predictor import Predictor


def score_dask(ddf: Any, predictor: "Predictor", *, on_error: str = "raise") -> Any:
    """`ddf` with the model's output columns added (as the CLI's CSV names them), features read by column name.

    on_error="raise" fails the job on the first non-finite or out-of-domain row, naming its partition and row;
    "null" gives such rows null outputs and says why in an "error" column.
    """
    import dask
    from dask.dataframe.utils import make_meta

    kinds = {name: None if dtype.kind in "iuf" else str(dtype) for name, dtype in ddf.dtypes.items()}
    columns = check_frame(predictor, kinds, on_error)
    classes = [] if predictor.task == "regression" else predictor.classes_.tolist()
    empty = {name: np.empty(0, np.float32 if kind == "float32" else object) for name, kind in columns}
    meta = _with_outputs(make_meta(ddf), columns, classes, empty, [], on_error)  # dask's empty, typed frame
    # One key of the graph holds the bytes: each worker fetches it once, not once per task.
    shipped = dask.delayed(ship(predictor), pure=True, traverse=False)
    return ddf.map_partitions(_partition, shipped, columns, classes, on_error, meta=meta)


def _partition(
    frame: Any, model: ShippedModel, columns: list, classes: list, on_error: str, partition_info: dict | None = None
) -> Any:
    predictor = worker_predictor(model)
    number = partition_info["number"] if partition_info else "?"
    where = lambda row: f"partition {number}, row {row} (index {frame.index[row]})"  # noqa: E731
    x = features_of(predictor, frame)  # as Predictor reads a DataFrame
    outputs, _, reasons = score_rows(predictor, x, columns, on_error, where)
    return _with_outputs(frame, columns, classes, outputs, reasons, on_error)


def _with_outputs(frame: Any, columns: list, classes: list, outputs: dict, reasons: list | None, on_error: str) -> Any:
    """The pandas `frame` with the output columns (and, with on_error="null", the error column) added."""
    import pandas as pd

    string = pd.StringDtype("pyarrow")  # what dask makes of the text columns it reads
    added = {}
    for name, kind in columns:
        values = outputs[name] if kind == "float32" else pd.array(label_array(outputs[name], classes), dtype=string)
        added[name] = pd.Series(values, index=frame.index, dtype="float32" if kind == "float32" else string)
    if on_error == "null":
        added[ERROR_COLUMN] = pd.Series(reasons or [None] * len(frame), index=frame.index, dtype=string)
    return frame.assign(**added)
