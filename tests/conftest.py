"""Shared fixtures: every test builds its own models from the lecture data; nothing is downloaded."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "default.onnx"


@pytest.fixture(scope="session")
def lecture():
    """The default model trained with the default config (torch), and its training data."""
    from edge_predict.trainer.train import TrainConfig, lecture_data, train

    x, y = lecture_data()
    return train(x, y, TrainConfig()), x, y


def export_lecture(result, x, y, path: Path, **kwargs) -> bytes:
    """Export a trained lecture model the way edge-train does."""
    from edge_predict.trainer.export import export_model, golden_inputs
    from edge_predict.trainer.train import data_sha256

    training = {"model": "logistic", "epochs": result.config.epochs, "lr": result.config.lr,
                "seed": result.config.seed, "loss": "BCELoss", "optimizer": "SGD",
                "final_loss": result.final_loss, "n_samples": int(len(x)), "data_sha256": data_sha256(x, y)}
    return export_model(result.model, path, feature_names=["hours"], training=training,
                        golden_x=golden_inputs(x), domain=[{"min": 0.0}], **kwargs)


@pytest.fixture(scope="session")
def model_path(lecture, tmp_path_factory) -> Path:
    """A freshly exported lecture model file."""
    path = tmp_path_factory.mktemp("model") / "lecture.onnx"
    export_lecture(*lecture, path)
    return path


def torch_proba(model, x) -> np.ndarray:
    """What torch computes for float32 rows `x`: the reference every parity test compares with."""
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1))).numpy().reshape(-1)


@pytest.fixture
def cli_runner():
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps stderr apart
        return CliRunner()


sys.path.insert(0, str(Path(__file__).parent))
