"""The report's pictures, drawn with matplotlib's Agg backend (no display, same pixels everywhere)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .metrics import outputs
from .run import Fitted

LOSS_NAMES = {"binary": "binary cross-entropy", "multiclass": "cross-entropy", "regression": "mean squared error"}


def plot_loss(fitted: Fitted):
    """Loss per epoch on the training rows and, if held out, the validation rows."""
    fig, ax = _figure()
    result = fitted.result
    epochs = np.arange(1, len(result.losses) + 1)
    ax.plot(epochs, result.losses, label=f"train ({len(fitted.fit.x)} rows)", color="tab:blue")
    if result.val_losses:
        ax.plot(epochs, result.val_losses, label=f"validation ({len(fitted.val.x)} rows)", color="tab:orange")
    scaled = ", standardized target" if result.task == "regression" and result.config.standardize else ""
    ax.set(
        xlabel="epoch",
        ylabel=f"loss ({LOSS_NAMES[result.task]}{scaled})",
        title=f"{result.config.model}{', standardized' if result.config.standardize else ''}: "
        f"loss per epoch (SGD, lr {result.config.lr:g})",
    )
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def plot_confusion(fitted: Fitted):
    """Classifiers: how often each true class got each predicted class, on validation rows if held out."""
    rows = fitted.val if fitted.val is not None else fitted.fit
    labels, p = fitted.table.labels, outputs(fitted.result.model, rows.x)
    predicted = (p[:, 0] >= fitted.threshold).astype(int) if fitted.table.task == "binary" else p.argmax(axis=1)
    counts = np.zeros((len(labels), len(labels)), int)
    np.add.at(counts, (rows.y.reshape(-1).astype(int), predicted), 1)
    fig, ax = _figure(square=True)
    ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > counts.max() / 2 else "black")
    ticks = np.arange(len(labels))
    ax.set(
        xticks=ticks,
        yticks=ticks,
        xticklabels=labels,
        yticklabels=labels,
        xlabel="predicted",
        ylabel="true",
        title=f"{'validation' if fitted.val is not None else 'training'} rows ({len(rows.x)}): "
        f"accuracy {np.trace(counts) / counts.sum():.3f}",
    )
    return fig


def plot_predicted_vs_actual(fitted: Fitted):
    """Regression: each row's prediction against its true value, with the diagonal of perfect predictions."""
    fig, ax = _figure(square=True)
    name = fitted.table.targets[0]
    parts = [("training", fitted.fit, "tab:blue")] + ([("validation", fitted.val, "tab:orange")] if fitted.val else [])
    values = []
    for part, rows, color in parts:
        predicted = outputs(fitted.result.model, rows.x)[:, 0]
        ax.scatter(rows.y[:, 0], predicted, s=12, alpha=0.7, color=color, label=f"{part} rows ({len(rows.x)})")
        values += [rows.y[:, 0], predicted]
    lo, hi = float(min(v.min() for v in values)), float(max(v.max() for v in values))
    ax.plot([lo, hi], [lo, hi], color="gray", linestyle="--", linewidth=1, label="predicted = actual")
    ax.set(
        xlabel=f"actual {name}", ylabel=f"predicted {name}", title=f"{fitted.result.config.model}: predicted vs actual"
    )
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def plot_fit(fitted: Fitted, marks: Sequence[float] = ()):
    """Binary, one feature: the rows as points, the fitted probability curve, the threshold and marked inputs."""
    fig, ax = _figure()
    name, positive = fitted.table.feature_names[0], fitted.table.labels[1]
    x_all, marks = fitted.table.x[:, 0], np.asarray(marks, np.float64)
    lo, hi = float(min(x_all.min(), *marks, np.inf)), float(max(x_all.max(), *marks, -np.inf))
    pad = 0.1 * (hi - lo or 1.0)
    lo_domain = (fitted.table.domain or [{}])[0].get("min")
    grid = np.linspace(lo - pad if lo_domain is None else max(lo - pad, lo_domain), hi + pad, 401)
    curve = _proba(fitted, grid)
    ax.plot(grid, curve, color="tab:blue", label=f"p({fitted.table.label_name}) from the model")
    ax.scatter(fitted.fit.x[:, 0], fitted.fit.y[:, 0], color="black", zorder=3, label="training rows")
    if fitted.val is not None:
        ax.scatter(
            fitted.val.x[:, 0],
            fitted.val.y[:, 0],
            facecolors="none",
            edgecolors="tab:orange",
            zorder=3,
            label="validation rows",
        )
    t = fitted.threshold
    ax.axhline(t, color="gray", linestyle="--", linewidth=1, label=f"threshold {t:g}")
    at = threshold_crossing(grid, curve, t)
    if at is not None:
        ax.axvline(at, color="gray", linestyle=":", linewidth=1)
        ax.annotate(
            f"p = {t:g} at {name} ≈ {at:.3g}",
            (at, t),
            xytext=(6, -16),
            textcoords="offset points",
            color="gray",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9},
            zorder=5,
        )
    for x, p in zip(marks, _proba(fitted, marks)):
        verdict, right = (positive, True) if p >= t else (fitted.table.labels[0], False)
        ax.plot([x], [p], marker="o", markersize=9, color="tab:red", zorder=4)
        ax.annotate(
            f"{name} = {x:g}: p = {p:.2f} ({verdict})",
            (x, p),
            xytext=(-12 if right else 12, -24),
            textcoords="offset points",
            ha="right" if right else "left",
            color="tab:red",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9},
            zorder=5,
        )
    ax.set(
        xlabel=name,
        ylabel="probability",
        ylim=(-0.05, 1.05),
        title=f"{fitted.result.config.model}: p({fitted.table.label_name}) vs {name}",
    )
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def _proba(fitted: Fitted, x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return np.empty(0, np.float32)
    return outputs(fitted.result.model, np.asarray(x, np.float32).reshape(-1, 1))[:, 0]


def threshold_crossing(grid: np.ndarray, curve: np.ndarray, t: float) -> float | None:
    """Where `curve` (sampled on `grid`) first crosses `t`, interpolated between the two samples around it."""
    crossing = np.flatnonzero(np.diff(np.sign(curve - t)))
    if not crossing.size:
        return None
    ys, xs = curve[crossing[0] : crossing[0] + 2], grid[crossing[0] : crossing[0] + 2]
    order = np.argsort(ys)
    return float(np.interp(t, ys[order], xs[order]))


def _figure(square: bool = False):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 5) if square else (7, 4.5), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()
