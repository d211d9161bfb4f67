"""One training run as a library call: split, fit, measure against the baseline, export. The CLI only parses and prints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from .data import Table, data_sha256, split
from .exporter import export
from .graph import ExportError
from .graph import OPSET
from .metrics import baseline, evaluate, learned, outputs
from .train import LOSSES, TrainConfig, TrainingError, TrainResult, train

# What usually turns a run that learned nothing into one that learned something, in the order to try it.
REMEDIES = "--standardize (features on different scales), a larger --lr, more --epochs"


@dataclass
class Fitted:
    """A trained model with the data it was fitted and validated on, its metrics and the baseline's."""

    table: Table
    fit: Table
    val: Table | None
    result: TrainResult
    val_fraction: float
    threshold: float
    metrics: dict[str, dict[str, float]]
    # Per part, what always answering the training rows' class frequency (or mean) scores: the bar to beat.
    baseline: dict[str, dict[str, float]]


def fit(
    table: Table,
    config: TrainConfig = TrainConfig(),
    *,
    val_fraction: float = 0.0,
    threshold: float = 0.5,
    on_epoch: Callable[[int, float], None] | None = None,
) -> Fitted:
    """Split `table` (seeded by config.seed), train on the training rows, measure both parts."""
    fit_rows, val_rows = split(table, val_fraction, config.seed)
    width = len(table.labels) if table.task == "multiclass" else 1  # output columns: classes, or one
    val_x, val_y = (val_rows.x, val_rows.y) if val_rows is not None else (None, None)
    result = train(
        fit_rows.x,
        fit_rows.y,
        config,
        task=table.task,
        width=width,
        on_epoch=on_epoch,
        x_val=val_x,
        y_val=val_y,
        names=table.feature_names if table.encoding is None else table.encoding.module_columns(),
    )
    return measured(table, result, fit_rows=fit_rows, val_rows=val_rows, val_fraction=val_fraction, threshold=threshold)


def measured(
    table: Table,
    result: TrainResult,
    *,
    fit_rows: Table | None = None,
    val_rows: Table | None = None,
    val_fraction: float = 0.0,
    threshold: float = 0.5,
) -> Fitted:
    """A Fitted for `result`, trained on `fit_rows` (default: all of `table`), with its metrics."""
    fit_rows = fit_rows or table
    parts = {"train": fit_rows, **({"validation": val_rows} if val_rows is not None else {})}
    task, width = table.task, len(table.labels) if table.task == "multiclass" else 1
    metrics = {part: evaluate(task, outputs(result.model, rows.x), rows.y, threshold) for part, rows in parts.items()}
    bars = {part: baseline(task, fit_rows.y, rows.y, width, threshold) for part, rows in parts.items()}
    return Fitted(table, fit_rows, val_rows, result, val_fraction, threshold, metrics, bars)


def check_learned(fitted: Fitted) -> None:
    """Raise TrainingError, naming both figures and what usually helps, unless the model beats the baseline
    on its training rows (metrics.learned)."""
    task, model, bar = fitted.table.task, fitted.metrics["train"], fitted.baseline["train"]
    if learned(task, model, bar):
        return
    what = "mean" if task == "regression" else "class frequency"
    figures = ", ".join(
        f"{name.replace('_', ' ')} {model[name]:.4f} (baseline {bar[name]:.4f})"
        for name in (("rmse", "r2") if task == "regression" else ("log_loss", "accuracy"))
    )
    raise TrainingError(
        f"the model is no better than always answering the training rows' {what}: on the "
        f"{len(fitted.fit.x)} training rows {figures}; nothing was written. What usually helps: "
        f"{REMEDIES}"
    )


def training_record(fitted: Fitted) -> dict[str, Any]:
    """The manifest's `training` entry: how the model was made and how well it did, flat for `info`."""
    config = fitted.result.config
    record: dict[str, Any] = {
        "model": config.model,
        "epochs": config.epochs,
        "lr": config.lr,
        "seed": config.seed,
        "loss": LOSSES[fitted.table.task],
        "optimizer": "SGD",
        "final_loss": fitted.result.final_loss,
        "n_samples": int(len(fitted.fit.x)),
        "data_sha256": data_sha256(fitted.table.x, fitted.table.y),
        "standardize": config.standardize,
    }
    if config.model == "mlp":
        record.update(hidden=list(config.hidden), activation=config.activation)
    if fitted.val is not None:
        record.update(val_fraction=fitted.val_fraction, n_validation=int(len(fitted.val.x)))
    for part, values in fitted.metrics.items():
        prefix = "train" if part == "train" else "val"
        record.update({f"{prefix}_{name}": value for name, value in values.items()})
    return record


def export_fitted(
    fitted: Fitted,
    path: str | os.PathLike,
    *,
    opset: int = OPSET,
    atol: float | None = None,
    sign_key: str | os.PathLike | bytes | None = None,
    model_name: str | None = None,
    model_version: int | None = None,
) -> bytes:
    """Export the fitted model (format 3) with its manifest and golden vectors; verified, then written atomically."""
    try:
        return _export(fitted, path, opset, atol, sign_key, model_name, model_version)
    except ExportError as exc:  # the same advice in edge-train's terms: its flags, not export()'s arguments
        if exc.cli is None:
            raise
        raise ExportError(exc.cli) from None


def _export(fitted, path, opset, atol, sign_key, model_name, model_version) -> bytes:
    table, result = fitted.table, fitted.result
    classifier = table.task != "regression"
    return export(
        result.network if classifier else result.model,
        path,
        feature_names=table.feature_names,
        task=table.task,
        labels=table.labels if classifier else None,
        outputs="logits" if classifier else None,
        targets=None if classifier else table.targets,
        threshold=fitted.threshold,
        domain=table.domain,
        x_train=fitted.fit.x if table.encoding is None else fitted.fit.raw.tolist(),
        encoding=table.encoding,
        training=training_record(fitted),
        opset=opset,
        atol=atol,
        sign_key=sign_key,
        model_name=model_name,
        model_version=model_version,
        exporter="edge-train",
    )
