"""Fit a model with full-batch SGD on BCELoss, seeded, and measure it against a baseline (accuracy, log loss)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from edge_predict.errors import EdgePredictError

from .models import DEFAULT_HIDDEN, Standardized, build_model, standardization


class TrainingError(EdgePredictError):
    """Training could not produce a usable model (diverged, bad data)."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; the defaults are the lecture's."""

    epochs: int = 1000
    lr: float = 0.01
    seed: int = 0
    model: str = "logistic"
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    standardize: bool = False


@dataclass
class TrainResult:
    """The trained model (in eval mode), the loss of every epoch and the final loss."""

    model: torch.nn.Module
    config: TrainConfig
    losses: list[float] = field(default_factory=list)  # the optimizer's loss at each epoch, before its step
    val_losses: list[float] = field(default_factory=list)
    # The log loss of the trained model on all training rows, in eval mode: the same figure `evaluate`
    # reports for those rows, so "final loss" and "log loss" never disagree.
    final_loss: float = math.nan


def train(x: np.ndarray, y: np.ndarray, config: TrainConfig = TrainConfig(),
          on_epoch: Callable[[int, float], None] | None = None,
          x_val: np.ndarray | None = None, y_val: np.ndarray | None = None) -> TrainResult:
    """Full-batch SGD on BCELoss, seeded so the same inputs give the same weights bit for bit.

    With `x_val`/`y_val`, the validation loss is recorded after every epoch too (never trained on).
    """
    torch.manual_seed(config.seed)
    torch.set_num_threads(1)  # these models are tiny: threads only add noise, and one thread is reproducible
    model = build_model(config.model, x.shape[1], config.hidden)
    if config.standardize:
        # Learned on the training rows only; inside the module, so the export scales raw inputs itself.
        model = Standardized(model, *standardization(x))
    inputs, targets = torch.from_numpy(np.asarray(x, np.float32)), torch.from_numpy(np.asarray(y, np.float32))
    loss_fn = torch.nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    result = TrainResult(model, config)
    for epoch in range(1, config.epochs + 1):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        value = float(loss.item())
        result.losses.append(value)
        check_diverged(result.losses, model, epoch, config.lr)
        if x_val is not None:
            result.val_losses.append(bce(model, x_val, y_val))
        if on_epoch is not None:
            on_epoch(epoch, value)
    model.eval()
    if result.losses[-1] > result.losses[0]:
        _diverged(config.lr, f"the loss ended above where it started ({result.losses[0]:.4g} -> {result.losses[-1]:.4g})")
    result.final_loss = evaluate(model, x, y)["log_loss"]
    return result


# BCELoss clamps log(0) to -100, so a learning rate far too large does not make the loss NaN: the weights
# blow up, the sigmoid saturates and the loss sticks at tens. Converging runs may overshoot for a few epochs
# (lecture data, lr 3-10: at most 9 epochs above the first loss); stuck runs never come back down.
PATIENCE = 100


def check_diverged(losses: list[float], model: torch.nn.Module, epoch: int, lr: float) -> None:
    """Raise TrainingError when the loss or a weight is not finite, or the loss has stayed above its start
    for the last PATIENCE epochs (by any margin: a run stuck a little above its start is stuck too)."""
    value = losses[-1]
    if not math.isfinite(value) or not all(torch.isfinite(p).all() for p in model.parameters()):
        _diverged(lr, f"the loss or the weights are not finite at epoch {epoch} (loss {value})")
    if epoch > PATIENCE and min(losses[-PATIENCE:]) > losses[0]:
        _diverged(lr, f"the loss rose from {losses[0]:.4g} to {value:.4g} and stayed above its start "
                      f"for {PATIENCE} epochs (epoch {epoch})")


def _diverged(lr: float, why: str) -> None:
    raise TrainingError(f"training diverged: {why}; lower --lr (now {lr:g}); nothing was written")


def bce(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """BCELoss of `model` on (x, y), without touching gradients."""
    with torch.no_grad():
        return float(torch.nn.functional.binary_cross_entropy(
            model(torch.from_numpy(np.asarray(x, np.float32))), torch.from_numpy(np.asarray(y, np.float32))))


def evaluate(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Accuracy at `threshold` and log loss of `model` on (x, y), in eval mode, rounded to 6 decimals."""
    with torch.no_grad():
        p = model(torch.from_numpy(np.asarray(x, np.float32))).numpy().reshape(-1)
    return _scores(p, y, threshold)


def baseline(y_fit: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """What always answering the training rows' class frequency scores on the rows labelled `y`."""
    return _scores(np.full(len(y), np.mean(y_fit, dtype=np.float64)), y, threshold)


def _scores(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy at `threshold` and log loss (natural log, probabilities clipped to [1e-7, 1 - 1e-7])."""
    p = np.clip(np.asarray(p, np.float64).reshape(-1), 1e-7, 1 - 1e-7)
    t = np.asarray(y, np.float64).reshape(-1)
    accuracy = float(np.mean((p >= threshold) == (t == 1)))
    log_loss = float(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))
    return {"accuracy": round(accuracy, 6), "log_loss": round(log_loss, 6)}
