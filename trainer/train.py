"""Train the lecture's logistic regression: hours studied -> probability of passing."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from edge_predict.errors import EdgePredictError


class TrainingError(EdgePredictError):
    """Training could not produce a usable model (diverged, bad data)."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; the defaults are the lecture's."""

    epochs: int = 1000
    lr: float = 0.01
    seed: int = 0


class LogisticRegression(torch.nn.Module):
    """sigmoid(w . x + b): the probability of the positive label."""

    def __init__(self, n_features: int = 1):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x))


@dataclass
class TrainResult:
    model: torch.nn.Module
    config: TrainConfig
    losses: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


def lecture_data() -> tuple[np.ndarray, np.ndarray]:
    """The lecture's four students: hours studied (x) and whether they passed (y), float32."""
    x = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype=np.float32)
    return x, y


def data_sha256(x: np.ndarray, y: np.ndarray) -> str:
    """A fingerprint of the training data as the model saw it (little-endian float32)."""
    digest = hashlib.sha256()
    for array in (x, y):
        digest.update(repr(array.shape).encode())
        digest.update(np.ascontiguousarray(array, dtype="<f4").tobytes())
    return digest.hexdigest()


def train(x: np.ndarray, y: np.ndarray, config: TrainConfig = TrainConfig(),
          on_epoch: Callable[[int, float], None] | None = None) -> TrainResult:
    """Full-batch SGD on BCELoss, seeded so the same inputs give the same weights bit for bit."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(1)  # a 1-feature model gains nothing from threads, and one thread is reproducible
    model = LogisticRegression(x.shape[1])
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
        if not math.isfinite(value) or not all(torch.isfinite(p).all() for p in model.parameters()):
            raise TrainingError(
                f"training diverged at epoch {epoch} (loss {value}); lower --lr (now {config.lr:g})"
            )
        result.losses.append(value)
        if on_epoch is not None:
            on_epoch(epoch, value)
    model.eval()
    return result
