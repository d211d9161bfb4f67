"""`edge-train --report DIR`: loss.png, fit.png (one-feature models) and report.json, deterministic."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from edge_predict.atomicfile import write_atomic

from .data import data_sha256, file_sha256
from .run import Fitted

# The lecture's question: does 1 hour of study pass? 7 hours? fit.png marks them for the lecture data.
LECTURE_MARKS = (1.0, 7.0)
# PNG text chunks carry matplotlib's version by default; without it the same run gives the same bytes anywhere.
_PNG_METADATA = {"Software": None}


def write_report(directory: str | Path, fitted: Fitted, model_bytes: bytes, *, config: dict[str, Any],
                 data_file: Path | None = None, marks: Sequence[float] = ()) -> list[Path]:
    """Write the report files into `directory` (created if needed); return their paths.

    `config` is the run's options as given; `data_file` the table read (None: the lecture data).
    """
    table = fitted.table
    data = {"source": str(data_file) if data_file else table.source, "rows": len(table.x),
            "features": list(table.feature_names), "label": table.label_name,
            "sha256": file_sha256(data_file) if data_file else None, "table_sha256": data_sha256(table.x, table.y)}
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = [_save(plot_loss(fitted), directory / "loss.png")]
    if fitted.table.x.shape[1] == 1:
        written.append(_save(plot_fit(fitted, marks), directory / "fit.png"))
    report = {
        "config": config,
        "data": data,
        "metrics": fitted.metrics,  # metrics["train"]["log_loss"] is the final loss
        "baseline": fitted.baseline,
        "model": {"sha256": hashlib.sha256(model_bytes).hexdigest(), "bytes": len(model_bytes)},
        "files": [p.name for p in written],
    }
    path = directory / "report.json"
    write_atomic(path, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    return [*written, path]


def plot_loss(fitted: Fitted):
    """Loss per epoch on the training rows and, if held out, the validation rows."""
    fig, ax = _figure()
    result = fitted.result
    epochs = np.arange(1, len(result.losses) + 1)
    ax.plot(epochs, result.losses, label=f"train ({len(fitted.fit.x)} rows)", color="tab:blue")
    if result.val_losses:
        ax.plot(epochs, result.val_losses, label=f"validation ({len(fitted.val.x)} rows)", color="tab:orange")
    ax.set(xlabel="epoch", ylabel="loss (binary cross-entropy)",
           title=f"{result.config.model}{', standardized' if result.config.standardize else ''}: "
                 f"loss per epoch (SGD, lr {result.config.lr:g})")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def plot_fit(fitted: Fitted, marks: Sequence[float] = ()):
    """The rows as points, the fitted probability curve, the threshold and the marked inputs."""
    fig, ax = _figure()
    name = fitted.table.feature_names[0]
    x_all, marks = fitted.table.x[:, 0], np.asarray(marks, np.float64)
    lo, hi = float(min(x_all.min(), *marks, np.inf)), float(max(x_all.max(), *marks, -np.inf))
    pad = 0.1 * (hi - lo or 1.0)
    lo_domain = (fitted.table.domain or [{}])[0].get("min")
    grid = np.linspace(lo - pad if lo_domain is None else max(lo - pad, lo_domain), hi + pad, 401)
    curve = _proba(fitted.result.model, grid)
    ax.plot(grid, curve, color="tab:blue", label=f"p({fitted.table.label_name}) from the model")
    ax.scatter(fitted.fit.x[:, 0], fitted.fit.y[:, 0], color="black", zorder=3, label="training rows")
    if fitted.val is not None:
        ax.scatter(fitted.val.x[:, 0], fitted.val.y[:, 0], facecolors="none", edgecolors="tab:orange",
                   zorder=3, label="validation rows")
    t = fitted.threshold
    ax.axhline(t, color="gray", linestyle="--", linewidth=1, label=f"threshold {t:g}")
    at = threshold_crossing(grid, curve, t)
    if at is not None:
        ax.axvline(at, color="gray", linestyle=":", linewidth=1)
        ax.annotate(f"p = {t:g} at {name} ≈ {at:.3g}", (at, t), xytext=(6, -16), textcoords="offset points",
                    color="gray", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9}, zorder=5)
    for x, p in zip(marks, _proba(fitted.result.model, marks)):
        verdict, right = ("pass", True) if p >= t else ("fail", False)
        ax.plot([x], [p], marker="o", markersize=9, color="tab:red", zorder=4)
        ax.annotate(f"{name} = {x:g}: p = {p:.2f} ({verdict})", (x, p), xytext=(-12 if right else 12, -24),
                    textcoords="offset points", ha="right" if right else "left", color="tab:red",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9}, zorder=5)
    ax.set(xlabel=name, ylabel="probability", ylim=(-0.05, 1.05),
           title=f"{fitted.result.config.model}: p({fitted.table.label_name}) vs {name}")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return fig


def _proba(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    if len(x) == 0:
        return np.empty(0, np.float32)
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, np.float32).reshape(-1, 1))).numpy().reshape(-1)


def threshold_crossing(grid: np.ndarray, curve: np.ndarray, t: float) -> float | None:
    """Where `curve` (sampled on `grid`) first crosses `t`, interpolated between the two samples around it."""
    crossing = np.flatnonzero(np.diff(np.sign(curve - t)))
    if not crossing.size:
        return None
    ys, xs = curve[crossing[0]:crossing[0] + 2], grid[crossing[0]:crossing[0] + 2]
    order = np.argsort(ys)
    return float(np.interp(t, ys[order], xs[order]))


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg: no display, same pixels everywhere
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=100, layout="tight")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig, path: Path) -> Path:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata=_PNG_METADATA)
    write_atomic(path, buffer.getvalue())
    return path
