"""Fit a model with full-batch SGD, seeded: BCEWithLogits (binary), CrossEntropy (multiclass) or MSE (regression)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from edge_predict import EdgePredictError

from .graph import WithActivation
from .metrics import final_loss, outputs
from .models import DEFAULT_HIDDEN, Rescaled, Standardized, build_model, standardization

LOSSES = {"binary": "BCEWithLogitsLoss", "multiclass": "CrossEntropyLoss", "regression": "MSELoss"}


class TrainingError(EdgePredictError):
    """Training could not produce a usable model (diverged, learned nothing)."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; the defaults are the lecture's."""

    epochs: int = 1000
    lr: float = 0.01
    seed: int = 0
    model: str = "logistic"
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    standardize: bool = False  # the features; for regression the target too
    activation: str = "sigmoid"  # mlp hidden layers


@dataclass
class TrainResult:
    """The trained network (logits or values, as trained), the model the export computes, and the losses."""

    network: torch.nn.Module
    model: torch.nn.Module  # probabilities (classifiers) or values in the target's units (regression)
    config: TrainConfig
    task: str = "binary"
    losses: list[float] = field(default_factory=list)  # the optimizer's loss at each epoch, before its step
    val_losses: list[float] = field(default_factory=list)
    # metrics.final_loss of the trained model on all training rows, in eval mode: the same figure as the
    # training rows' log loss (classifiers) or squared RMSE (regression), never a different one.
    final_loss: float = math.nan


def train(
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig = TrainConfig(),
    *,
    task: str = "binary",
    width: int = 1,
    on_epoch: Callable[[int, float], None] | None = None,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    names: Sequence[str] | None = None,
) -> TrainResult:
    """Full-batch SGD, seeded so the same inputs give the same weights bit for bit.

    y is (n, 1): 0/1 (binary), the class index (multiclass, `width` classes) or the value (regression).
    With `x_val`/`y_val`, the validation loss is recorded after every epoch too (never trained on). `names`: x's
    columns, named when training diverges on features whose scales differ widely.
    """
    torch.manual_seed(config.seed)
    torch.set_num_threads(1)  # these models are tiny: threads only add noise, and one thread is reproducible
    network = build_model(config.model, x.shape[1], config.hidden, width, config.activation)
    if config.standardize:
        # Learned on the training rows only; inside the module, so the export scales raw inputs itself.
        network = Standardized(network, *standardization(x))
    scale = standardization(y) if config.standardize and task == "regression" else (0.0, 1.0)
    loss_fn = _loss(task, *scale)
    inputs, targets = torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.float32))
    optimizer = torch.optim.SGD(network.parameters(), lr=config.lr)
    model = (
        Rescaled(network, *scale)
        if task == "regression" and config.standardize
        else network
        if task == "regression"
        else WithActivation(network, task)
    )
    result = TrainResult(network, model, config, task)
    advice = None if config.standardize else wide_scales(x, names)
    for epoch in range(1, config.epochs + 1):
        optimizer.zero_grad()
        loss = loss_fn(network(inputs), targets)
        loss.backward()
        optimizer.step()
        value = float(loss.item())
        result.losses.append(value)
        check_diverged(result.losses, network, epoch, config.lr, advice)
        if x_val is not None:
            with torch.no_grad():
                result.val_losses.append(float(loss_fn(network(torch.from_numpy(x_val)), torch.from_numpy(y_val))))
        if on_epoch is not None:
            on_epoch(epoch, value)
    model.eval()
    if result.losses[-1] > result.losses[0]:
        _diverged(
            config.lr,
            f"the loss ended above where it started ({result.losses[0]:.4g} -> {result.losses[-1]:.4g})",
            advice,
        )
    result.final_loss = final_loss(task, outputs(model, x), y)
    return result


def _loss(task: str, mean: float, std: float) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The task's loss of the network's outputs against y (n, 1); regression targets scaled by (mean, std)."""
    if task == "binary":
        return torch.nn.BCEWithLogitsLoss()
    if task == "multiclass":
        cross_entropy = torch.nn.CrossEntropyLoss()
        return lambda logits, y: cross_entropy(logits, y.reshape(-1).long())
    mse, mean, std = torch.nn.MSELoss(), torch.as_tensor(mean).reshape(1, -1), torch.as_tensor(std).reshape(1, -1)
    return lambda values, y: mse(values, (y - mean) / std)


# A learning rate far too large blows the weights up: the sigmoid saturates and the loss sticks at tens (or
# grows without bound) with finite weights. Converging runs may overshoot for a few epochs (lecture data,
# lr 3-10: up to 10 epochs above the first loss, measured); stuck runs never come back down.
PATIENCE = 100


def check_diverged(
    losses: list[float], model: torch.nn.Module, epoch: int, lr: float, advice: str | None = None
) -> None:
    """Raise TrainingError when the loss or a weight is not finite, or the loss has stayed above its start
    for the last PATIENCE epochs (by any margin: a run stuck a little above its start is stuck too)."""
    value = losses[-1]
    if not math.isfinite(value) or not all(torch.isfinite(p).all() for p in model.parameters()):
        _diverged(lr, f"the loss or the weights are not finite at epoch {epoch} (loss {value})", advice)
    if epoch > PATIENCE and min(losses[-PATIENCE:]) > losses[0]:
        _diverged(
            lr,
            f"the loss rose from {losses[0]:.4g} to {value:.4g} and stayed above its start "
            f"for {PATIENCE} epochs (epoch {epoch})",
            advice,
        )


def _diverged(lr: float, why: str, advice: str | None = None) -> None:
    if advice:  # a smaller --lr only slows the large feature down with the others: scaling is what helps
        raise TrainingError(
            f"training diverged: {why}; {advice}: train with --standardize, which scales them inside the model (then, "
            f"if it still diverges, lower --lr, now {lr:g}); nothing was written"
        )
    raise TrainingError(f"training diverged: {why}; lower --lr (now {lr:g}); nothing was written")


# Features whose ranges differ by more than this factor, or reach beyond WIDE_VALUE, are what plain SGD at one
# learning rate cannot fit: the step that moves the large one stably leaves the small ones unmoved.
WIDE_RATIO, WIDE_VALUE = 10.0, 100.0


def wide_scales(x: np.ndarray, names: Sequence[str] | None) -> str | None:
    """The features' spans when they differ widely (the largest and the smallest named), else None."""
    x = np.asarray(x, np.float64)
    if not len(x):
        return None
    lo, hi = x.min(axis=0), x.max(axis=0)
    spans = hi - lo
    names = list(names) if names is not None else [f"column {j + 1}" for j in range(x.shape[1])]
    varied = np.flatnonzero(spans > 0)
    if not len(varied):
        return None
    big, small = varied[spans[varied].argmax()], varied[spans[varied].argmin()]
    largest = float(np.abs(x).max())
    if spans[big] <= WIDE_RATIO * spans[small] and largest <= WIDE_VALUE:
        return None
    if big == small:
        return f"the feature {names[big]} spans {lo[big]:.4g} to {hi[big]:.4g}"
    return (
        f"the features' scales differ widely ({names[big]} spans {lo[big]:.4g} to {hi[big]:.4g}, {names[small]} "
        f"{lo[small]:.4g} to {hi[small]:.4g})"
    )
