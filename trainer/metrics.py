"""How good a model is, per task, and the baseline it must beat: the training rows' frequency or mean."""

from __future__ import annotations

import numpy as np
import torch

from edge_predict.authoring import macro_f1  # one definition: the runtime's evaluate reports the same figure

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] in the log loss, so one sure mistake costs ~16, not inf
CLASSIFIER_METRICS = ("accuracy", "log_loss", "macro_f1")
REGRESSION_METRICS = ("rmse", "mae", "r2")


def outputs(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """The model's outputs (probabilities, or values in real units) for float32 rows `x`, float64 (n, width)."""
    with torch.no_grad():
        out = model(torch.from_numpy(np.asarray(x, np.float32)))
    return out.numpy().astype(np.float64).reshape(len(x), -1)


def evaluate(task: str, p: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The task's metrics of outputs `p` (n, width) against y (n, 1), rounded to 6 decimals.

    Classifiers: accuracy (binary: P(labels[1]) >= threshold; multiclass: the most probable class), log loss
    (natural log, clipped) and macro-F1 (F1 averaged over the classes that occur in y or the predictions).
    Regression: RMSE, MAE and R² (1 - SSE/SST about the mean of these rows' y).
    """
    p, t = np.asarray(p, np.float64), np.asarray(y, np.float64).reshape(-1)
    if task == "regression":
        err = p[:, 0] - t
        sst = float(np.sum((t - t.mean()) ** 2))
        r2 = 1.0 - float(np.sum(err**2)) / sst if sst > 0 else 0.0
        scores = {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))), "r2": r2}
    else:
        truth = t.astype(np.int64)
        if task == "binary":
            q = np.clip(p[:, 0], EPS, 1 - EPS)
            predicted = (p[:, 0] >= threshold).astype(np.int64)
            log_loss = -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q))
        else:
            predicted = np.argmax(p, axis=1)
            log_loss = -np.mean(np.log(np.clip(p[np.arange(len(t)), truth], EPS, 1.0)))
        scores = {
            "accuracy": float(np.mean(predicted == truth)),
            "log_loss": float(log_loss),
            "macro_f1": macro_f1(truth, predicted),
        }
    return {name: round(value, 6) for name, value in scores.items()}


def baseline(task: str, y_fit: np.ndarray, y: np.ndarray, width: int, threshold: float = 0.5) -> dict[str, float]:
    """The metrics of always answering the training rows' class frequencies (classifiers) or mean (regression)."""
    y_fit = np.asarray(y_fit, np.float64).reshape(-1)
    if task == "multiclass":
        constant = np.bincount(y_fit.astype(np.int64), minlength=width) / len(y_fit)
    else:  # binary: P(labels[1]) is the frequency of class 1; regression: the mean value
        constant = np.array([y_fit.mean()])
    return evaluate(task, np.tile(constant, (len(y), 1)), y, threshold)


def learned(task: str, model: dict[str, float], bar: dict[str, float]) -> bool:
    """Whether `model` beats the baseline `bar` on the same rows: classifiers need a lower log loss and an
    accuracy no lower, regression a lower RMSE."""
    if task == "regression":
        return model["rmse"] < bar["rmse"]
    return model["log_loss"] < bar["log_loss"] and model["accuracy"] >= bar["accuracy"]


def final_loss(task: str, p: np.ndarray, y: np.ndarray) -> float:
    """The one loss figure: on the training rows, the log loss `evaluate` reports (classifiers) or the mean
    squared error in the target's units (regression; the square of its RMSE), rounded to 6 decimals."""
    if task != "regression":
        return evaluate(task, p, y)["log_loss"]
    return round(float(np.mean((np.asarray(p, np.float64)[:, 0] - np.asarray(y, np.float64).reshape(-1)) ** 2)), 6)
