"""How good a model's answers are against the truth, per task, computed with numpy alone (the runtime has no
scikit-learn; tests/scoring/test_metrics.py checks every figure against it): what `edge-predict evaluate` prints."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from edge_predict.errors import InputError, UnknownLabelError

# Probabilities are clipped to [EPS, 1 - EPS] in the log loss, as the trainer clips them (trainer/metrics.py), so
# that the figure compares with the training record's; one sure mistake costs ~16, not inf.
EPS = 1e-7
CLASSIFIER = ("accuracy", "log_loss", "roc_auc", "macro_f1")
REGRESSION = ("r2", "mae", "rmse")


def class_codes(y: Any, labels: Sequence[str], n: int) -> np.ndarray:
    """The truth `y` (the model's labels, as text) as class indices into `labels`; UnknownLabelError naming every
    value that is not one of them."""
    truth = _one_column(y, n)
    texts = np.array([str(v) for v in truth.tolist()], dtype=object) if truth.dtype.kind not in "U" else truth
    known = {label: code for code, label in enumerate(labels)}
    unknown = sorted({v for v in set(texts.tolist()) if v not in known})
    if unknown:
        shown = ", ".join(map(repr, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise UnknownLabelError(
            f"the truth holds values that are not the model's labels: {shown}; the model's labels: {', '.join(labels)}",
            values=tuple(unknown),
            labels=tuple(labels),
        )
    return np.array([known[v] for v in texts.tolist()], dtype=np.intp)


def target_values(y: Any, n: int, width: int) -> np.ndarray:
    """The truth of a regression model, float64 (n, width); InputError if it is not finite numbers."""
    try:
        truth = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("the truth of a regression model must be numbers") from None
    if truth.ndim == 1 and width == 1:
        truth = truth.reshape(-1, 1)
    if truth.shape != (n, width):
        raise InputError(f"the truth has shape {truth.shape}, but there are {n} samples of {width} target(s)")
    bad = ~np.isfinite(truth)
    if bad.any():
        raise InputError(f"the truth of sample {int(np.flatnonzero(bad.any(axis=1))[0])} is not a finite number")
    return truth


def _one_column(y: Any, n: int) -> np.ndarray:
    truth = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if truth.ndim != 1 or len(truth) != n:
        raise InputError(f"the truth has shape {truth.shape}, but there are {n} samples: give one label per sample")
    return truth


def classification(proba: np.ndarray, truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """accuracy, log loss (natural log, clipped to EPS), ROC AUC (binary; multiclass: one-vs-rest, the macro mean
    over the classes present in the truth; None when the truth holds one class only), macro-F1 (over the classes in
    the truth or the predictions) and the confusion matrix (rows: truth, columns: predicted, in label order)."""
    p = np.asarray(proba, np.float64)
    n, width = p.shape
    picked = np.clip(p[np.arange(n), truth], EPS, 1 - EPS if width == 2 else 1.0)
    if width == 2:
        auc = roc_auc(p[:, 1], truth == 1)
    else:
        present = [c for c in range(width) if (truth == c).any()]
        aucs = [roc_auc(p[:, c], truth == c) for c in present] if len(present) > 1 else []
        auc = float(np.mean(aucs)) if aucs else None
    return {
        "accuracy": float(np.mean(predicted == truth)),
        "log_loss": float(-np.mean(np.log(picked))),
        "roc_auc": auc,
        "macro_f1": macro_f1(truth, predicted),
        "confusion_matrix": np.bincount(truth * width + predicted, minlength=width * width)
        .reshape(width, width)
        .tolist(),
    }


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """The area under the ROC curve: the chance that a positive scores above a negative, ties counting half (the
    Mann-Whitney statistic from average ranks); None without both positives and negatives."""
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(np.asarray(scores, np.float64))
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of x, tied values sharing the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    first = np.flatnonzero(starts)
    counts = np.diff(np.r_[first, len(x)])
    ranks = np.empty(len(x))
    ranks[order] = (first + (counts + 1) / 2)[np.cumsum(starts) - 1]
    return ranks


def macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """F1 = 2 TP / (2 TP + FP + FN) per class, averaged over the classes in `truth` or `predicted`."""
    scores = []
    for c in np.union1d(truth, predicted):
        tp = np.sum((predicted == c) & (truth == c))
        wrong = np.sum((predicted == c) != (truth == c))
        scores.append(2 * tp / (2 * tp + wrong))
    return float(np.mean(scores))


def regression(values: np.ndarray, truth: np.ndarray, targets: Sequence[str]) -> dict[str, Any]:
    """R² (1 - SSE/SST about the truth's mean; a constant truth: 1 if predicted exactly, else 0), MAE and RMSE,
    averaged over the targets (and per target when there are several)."""
    err = np.asarray(values, np.float64) - truth
    sse = np.sum(err**2, axis=0)
    sst = np.sum((truth - truth.mean(axis=0)) ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(sst > 0, 1 - sse / np.where(sst > 0, sst, 1), np.where(sse == 0, 1.0, 0.0))
    each = {"r2": r2, "mae": np.mean(np.abs(err), axis=0), "rmse": np.sqrt(np.mean(err**2, axis=0))}
    scores: dict[str, Any] = {name: float(np.mean(v)) for name, v in each.items()}
    if len(targets) > 1:
        scores["targets"] = {t: {name: float(v[i]) for name, v in each.items()} for i, t in enumerate(targets)}
    return scores


def training_figures(record: Mapping[str, Any], names: Sequence[str]) -> dict[str, dict[str, float]]:
    """The figures of the model's training record (the manifest's `training`: train_accuracy, val_rmse, ...) for
    each metric of `names` it has: {metric: {"train": v, "validation": v}}."""
    found: dict[str, dict[str, float]] = {}
    for name in names:
        for part, key in (("train", f"train_{name}"), ("validation", f"val_{name}")):
            value = record.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found.setdefault(name, {})[part] = float(value)
    return found
