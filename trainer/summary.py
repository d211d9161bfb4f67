"""The lines edge-train prints about a run: the task chosen, the metrics beside the baseline's, the final loss."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import click

from .data import Table
from .run import Fitted

# name in metrics -> (printed name, format): probabilities and scores to 4 decimals, values to 4 significant digits
_SHOWN = {
    "accuracy": ("accuracy", ".4f"),
    "log_loss": ("log loss", ".4f"),
    "macro_f1": ("macro-F1", ".4f"),
    "rmse": ("RMSE", ".4g"),
    "mae": ("MAE", ".4g"),
    "r2": ("R²", ".4f"),
}


def task_line(table: Table, chosen: bool) -> str:
    """What the model predicts; `chosen`: the task was decided from the label column (--task auto)."""
    how = f", chosen from the label column {table.label_name!r} (--task to change)" if chosen else ""
    if table.task == "regression":
        return f"task:       regression of {table.label_name!r}{how}"
    classes = ", ".join(table.labels[:10]) + (", ..." if len(table.labels) > 10 else "")
    return f"task:       {table.task} ({len(table.labels)} classes: {classes}){how}"


def encoding_lines(table: Table) -> list[str]:
    """A table with categories or gaps: per feature that has either, its categories and what a gap becomes."""
    if table.encoding is None:
        return []
    lines = []
    for j, column in enumerate(table.encoding.columns):
        gaps = sum(v is None for v in table.raw[:, j])
        if column.type == "number" and not gaps:
            continue
        what = (
            "number"
            if column.type == "number"
            else f"category ({len(column.categories)}: {', '.join(map(str, column.categories[:10]))}"
            + (", ..." if len(column.categories) > 10 else "")
            + ")"
        )
        if gaps:
            how = "the median" if column.type == "number" else "the most frequent"
            what += f", {gaps} gaps -> {column.impute!r} ({how}, imputed in the graph)"
        lines.append(f"{'feature:':<12}{column.name}: {what}")
    return lines


def metric_lines(fitted: Fitted) -> list[str]:
    """One line per part (train, validation): its rows, the model's metrics and, in brackets, the baseline's."""
    lines = []
    for part, values in fitted.metrics.items():
        rows = len((fitted.fit if part == "train" else fitted.val).x)
        ours = ", ".join(_show(name, value) for name, value in values.items())
        bar = ", ".join(_show(name, value) for name, value in fitted.baseline[part].items())
        lines.append(f"{part + ':':<12}{rows} rows, {ours} (baseline: {bar})")
    return lines


def baseline_line(fitted: Fitted) -> str:
    """What the baseline answers: the training rows' class frequencies, or their mean."""
    table, y = fitted.table, fitted.fit.y.reshape(-1)
    if table.task == "regression":
        return f"baseline:   always {float(y.mean()):.4g}, the training rows' mean"
    if table.task == "binary":
        return f"baseline:   always p({table.labels[1]}) = {float(y.mean()):.4f}, the training rows' frequency"
    shares = ", ".join(f"{name} {float((y == i).mean()):.2f}" for i, name in enumerate(table.labels[:10]))
    return (
        f"baseline:   always the training rows' class frequencies ({shares}{', ...' if len(table.labels) > 10 else ''})"
    )


def loss_line(fitted: Fitted) -> str:
    """The one loss figure, named."""
    what = "mean squared error" if fitted.table.task == "regression" else "log loss"
    return f"final loss {fitted.result.final_loss:.6g} ({what} on the training rows)"


def _show(name: str, value: float) -> str:
    label, spec = _SHOWN[name]
    return f"{label} {value:{spec}}"


@contextmanager
def progress(epochs: int, quiet: bool):
    """A callback per epoch: click's progress bar on a terminal, a line every tenth of the run otherwise."""
    if quiet:
        yield None
        return
    if sys.stdout.isatty():
        with click.progressbar(
            length=epochs,
            label="training",
            show_pos=True,
            item_show_func=lambda loss: "" if loss is None else f"loss {loss:.6f}",
        ) as bar:
            yield lambda epoch, loss: bar.update(1, loss)
        return
    every = max(1, epochs // 10)

    def line(epoch: int, loss: float) -> None:
        if epoch % every == 0 or epoch == epochs:
            click.echo(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {loss:.6f}")

    yield line
