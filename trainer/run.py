"""One training run as a library call: split, fit, measure, export. The CLI only parses and prints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from .data import Table, data_sha256, split
from .export import OPSET, PARITY_ATOL, export_model, golden_inputs
from .train import TrainConfig, TrainResult, evaluate, train


@dataclass
class Fitted:
    """A trained model with the data it was fitted and validated on, and its metrics."""

    table: Table
    fit: Table
    val: Table | None
    result: TrainResult
    val_fraction: float
    threshold: float
    metrics: dict[str, dict[str, float]]


def fit(table: Table, config: TrainConfig = TrainConfig(), *, val_fraction: float = 0.0,
        threshold: float = 0.5, on_epoch: Callable[[int, float], None] | None = None) -> Fitted:
    """Split `table` (seeded by config.seed), train on the training rows, measure both parts."""
    fit_rows, val_rows = split(table, val_fraction, config.seed)
    val_x, val_y = (val_rows.x, val_rows.y) if val_rows is not None else (None, None)
    result = train(fit_rows.x, fit_rows.y, config, on_epoch=on_epoch, x_val=val_x, y_val=val_y)
    return measured(table, result, fit_rows=fit_rows, val_rows=val_rows, val_fraction=val_fraction,
                    threshold=threshold)


def measured(table: Table, result: TrainResult, *, fit_rows: Table | None = None, val_rows: Table | None = None,
             val_fraction: float = 0.0, threshold: float = 0.5) -> Fitted:
    """A Fitted for `result`, trained on `fit_rows` (default: all of `table`), with its metrics."""
    fit_rows = fit_rows or table
    metrics = {"train": evaluate(result.model, fit_rows.x, fit_rows.y, threshold)}
    if val_rows is not None:
        metrics["validation"] = evaluate(result.model, val_rows.x, val_rows.y, threshold)
    return Fitted(table, fit_rows, val_rows, result, val_fraction, threshold, metrics)

def training_record(fitted: Fitted) -> dict[str, Any]:
    """The manifest's `training` entry: how the model was made and how well it did, flat for `info`."""
    config = fitted.result.config
    record: dict[str, Any] = {
        "model": config.model, "epochs": config.epochs, "lr": config.lr, "seed": config.seed,
        "loss": "BCELoss", "optimizer": "SGD", "final_loss": fitted.result.final_loss,
        "n_samples": int(len(fitted.fit.x)), "data_sha256": data_sha256(fitted.table.x, fitted.table.y),
        "standardize": config.standardize,
    }
    if config.model == "mlp":
        record["hidden"] = list(config.hidden)
    if fitted.val is not None:
        record.update(val_fraction=fitted.val_fraction, n_validation=int(len(fitted.val.x)))
    for part, values in fitted.metrics.items():
        prefix = "train" if part == "train" else "val"
        record.update({f"{prefix}_{name}": value for name, value in values.items()})
    return record


def export_fitted(fitted: Fitted, path: str | os.PathLike, *, opset: int = OPSET,
                  atol: float = PARITY_ATOL) -> bytes:
    """Export the fitted model with its manifest and golden vectors; verified, then written atomically."""
    return export_model(
        fitted.result.model, path, feature_names=fitted.table.feature_names, training=training_record(fitted),
        golden_x=golden_inputs(fitted.fit.x), threshold=fitted.threshold, labels=fitted.table.labels,
        domain=fitted.table.domain,
        observed=fitted.fit.x, opset=opset, atol=atol,
    )

