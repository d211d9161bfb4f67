"""`edge-train --report DIR`: report.json and the pictures (loss.png; confusion.png or predicted_vs_actual.png;
fit.png for one-feature binary models), deterministic."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any, Sequence

from edge_predict.authoring import write_atomic

from .data import data_sha256, file_sha256
from .plots import plot_confusion, plot_fit, plot_loss, plot_predicted_vs_actual
from .run import Fitted

# The lecture's question: does 1 hour of study pass? 7 hours? fit.png marks them for the lecture data.
LECTURE_MARKS = (1.0, 7.0)
# PNG text chunks carry matplotlib's version by default; without it the same run gives the same bytes anywhere.
_PNG_METADATA = {"Software": None}


def write_report(
    directory: str | Path,
    fitted: Fitted,
    model_bytes: bytes,
    *,
    config: dict[str, Any],
    data_file: Path | None = None,
    marks: Sequence[float] = (),
) -> list[Path]:
    """Write the report files into `directory` (created if needed); return their paths.

    `config` is the run's options as given; `data_file` the table read (None: the lecture data).
    """
    table = fitted.table
    data = {
        "source": str(data_file) if data_file else table.source,
        "rows": len(table.x),
        "features": list(table.feature_names),
        "label": table.label_name,
        "task": table.task,
        **({"labels": list(table.labels)} if table.labels else {}),
        "sha256": file_sha256(data_file) if data_file else None,
        "table_sha256": data_sha256(table.x, table.y),
        **({"encoding": encoding_record(table)} if table.encoding is not None else {}),
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pictures = {"loss.png": plot_loss(fitted)}
    if table.task == "regression":
        pictures["predicted_vs_actual.png"] = plot_predicted_vs_actual(fitted)
    else:
        pictures["confusion.png"] = plot_confusion(fitted)
    if table.task == "binary" and table.x.shape[1] == 1:
        pictures["fit.png"] = plot_fit(fitted, marks)
    written = [_save(fig, directory / name) for name, fig in pictures.items()]
    report = {
        "config": config,
        "data": data,
        "metrics": fitted.metrics,  # final_loss is metrics.final_loss of metrics["train"]'s rows
        "baseline": fitted.baseline,
        "final_loss": fitted.result.final_loss,
        "model": {"sha256": hashlib.sha256(model_bytes).hexdigest(), "bytes": len(model_bytes)},
        "files": [p.name for p in written],
    }
    path = directory / "report.json"
    write_atomic(path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    return [*written, path]


def encoding_record(table) -> list[dict[str, Any]]:
    """Per feature of a table with categories or gaps: its type, categories, gaps in the table and the value a gap
    becomes in the graph (the median of a number, the most frequent category), as in the model's manifest."""
    record = []
    for j, column in enumerate(table.encoding.columns):
        entry: dict[str, Any] = {"name": column.name, "type": column.type}
        if column.type == "category":
            entry["categories"] = list(column.categories)
        entry["gaps"] = int(sum(v is None for v in table.raw[:, j]))
        if column.impute is not None:
            entry["impute"] = column.impute
            entry["imputed_by"] = "median" if column.type == "number" else "most frequent"
        record.append(entry)
    return record


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata=_PNG_METADATA)
    write_atomic(path, buffer.getvalue())
    return path
