"""One training run as a library call: split, fit, measure, export. The CLI only parses and prints."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

from .data import Table, data_sha256, split
from .export import OPSET, PARITY_ATOL, export_model, golden_inputs
from .train import TrainConfig, TrainingError, TrainResult, baseline, evaluate, train

# What usually turns a run that learned nothing into one that learned something, in the order to try it.
REMEDIES = "--standardize (features on different scales), a larger --lr, more --epochs"


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
    # Per part, what always answering the training rows' class frequency scores (the bar to beat).
    baseline: dict[str, dict[str, float]]


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
    parts = {"train": fit_rows, **({"validation": val_rows} if val_rows is not None else {})}
    metrics = {part: evaluate(result.model, rows.x, rows.y, threshold) for part, rows in parts.items()}
    bars = {part: baseline(fit_rows.y, rows.y, threshold) for part, rows in parts.items()}
    return Fitted(table, fit_rows, val_rows, result, val_fraction, threshold, metrics, bars)


def learned(fitted: Fitted) -> bool:
    """Whether the model beats the baseline on its training rows: a lower log loss, an accuracy no lower."""
    model, bar = fitted.metrics["train"], fitted.baseline["train"]
    return model["log_loss"] < bar["log_loss"] and model["accuracy"] >= bar["accuracy"]


def check_learned(fitted: Fitted) -> None:
    """Raise TrainingError, naming both figures and what usually helps, unless `learned(fitted)`."""
    if learned(fitted):
        return
    model, bar = fitted.metrics["train"], fitted.baseline["train"]
    raise TrainingError(
        f"the model is no better than always answering the training rows' class frequency: on the "
        f"{len(fitted.fit.x)} training rows log loss {model['log_loss']:.4f} (baseline {bar['log_loss']:.4f}), "
        f"accuracy {model['accuracy']:.4f} (baseline {bar['accuracy']:.4f}); nothing was written. "
        f"What usually helps: {REMEDIES}")

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
                  atol: float = PARITY_ATOL, sign_key: str | os.PathLike | bytes | None = None) -> bytes:
    """Export the fitted model with its manifest and golden vectors; verified, then written atomically."""
    return export_model(
        fitted.result.model, path, feature_names=fitted.table.feature_names, training=training_record(fitted),
        golden_x=golden_inputs(fitted.fit.x), threshold=fitted.threshold, labels=fitted.table.labels,
        domain=fitted.table.domain,
        observed=fitted.fit.x, opset=opset, atol=atol, sign_key=sign_key,
    )

