"""What a graph's outputs mean for each task: class labels, probability columns, the CLI's named columns."""

from __future__ import annotations

import numpy as np


def labels(out: np.ndarray, task: str, classes: np.ndarray, threshold: float | None) -> np.ndarray:
    """The predicted label per sample: binary p >= threshold -> classes[1]; multiclass the most probable class."""
    if task == "binary":
        return classes[(out[:, 0] >= threshold).astype(np.intp)]
    return classes[out.argmax(axis=1)]


def table(out: np.ndarray, task: str, classes: np.ndarray, threshold: float | None,
          targets: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The outputs as the columns column_names() names, in that order."""
    if task == "binary":
        return {"probability": out[:, 0], "label": labels(out, task, classes, threshold)}
    if task == "multiclass":
        return {"label": labels(out, task, classes, threshold),
                **{f"p_{label}": out[:, i] for i, label in enumerate(classes.tolist())}}
    return {name: out[:, i] for i, name in enumerate(targets)}


def column_names(task: str, classes: tuple[str, ...], targets: tuple[str, ...]) -> tuple[str, ...]:
    """binary: probability, label; multiclass: label, p_<label> per class; regression: one column per target."""
    if task == "binary":
        return ("probability", "label")
    return ("label", *(f"p_{label}" for label in classes)) if task == "multiclass" else targets
