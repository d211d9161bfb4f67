"""The networks edge-train fits (they return logits or values) and the scalings that travel inside the export."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

MODELS = ("logistic", "linear", "mlp")
ACTIVATIONS = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
DEFAULT_HIDDEN = (6, 4)


class LogisticRegression(torch.nn.Module):
    """w . x + b per output: the logits of logistic regression, or the values of linear regression."""

    def __init__(self, n_features: int = 1, n_outputs: int = 1):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


class MLP(torch.nn.Module):
    """The next lecture's network: Linear layers with an activation after each hidden one, e.g. 8 -> 6 -> 4 -> 1."""

    def __init__(
        self, n_features: int, hidden: Sequence[int] = DEFAULT_HIDDEN, n_outputs: int = 1, activation: str = "sigmoid"
    ):
        super().__init__()
        sizes = [n_features, *hidden]
        layers: list[torch.nn.Module] = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out), ACTIVATIONS[activation]()]
        self.layers = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], n_outputs))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Standardized(torch.nn.Module):
    """`inner((x - mean) / std)`: the scaling is part of the module, so the ONNX export has Sub and Div."""

    def __init__(self, inner: torch.nn.Module, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.inner = inner
        # Buffers, not parameters: the optimizer never moves them and they are exported as constants.
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean, np.float32)).reshape(1, -1))
        self.register_buffer("std", torch.as_tensor(np.asarray(std, np.float32)).reshape(1, -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner((x - self.mean) / self.std)


class Rescaled(Standardized):
    """`inner(x) * std + mean`: a regression net trained on standardized targets, answering in real units."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) * self.std + self.mean


def build_model(
    kind: str, n_features: int, hidden: Sequence[int] = DEFAULT_HIDDEN, n_outputs: int = 1, activation: str = "sigmoid"
) -> torch.nn.Module:
    """A freshly initialised model of `kind` (uses torch's global RNG: seed first)."""
    if kind in ("logistic", "linear"):
        return LogisticRegression(n_features, n_outputs)
    if kind == "mlp":
        return MLP(n_features, hidden, n_outputs, activation)
    raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODELS)}")


def standardization(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and standard deviation of `x`; a constant column gets std 1 (no division by 0)."""
    x = np.asarray(x, np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std == 0] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)
