"""Shared fixtures: every test builds its own models from the lecture data; nothing is downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "default.onnx"


@pytest.fixture(scope="session")
def lecture():
    """The default model trained with the default config (torch), and its training data."""
    from edge_predict.trainer.data import lecture_data
    from edge_predict.trainer.train import TrainConfig, train

    x, y = lecture_data()
    return train(x, y, TrainConfig()), x, y


def export_lecture(result, x, y, path: Path, **kwargs) -> bytes:
    """Export a trained lecture model the way edge-train does."""
    from edge_predict.trainer.data import lecture_table
    from edge_predict.trainer.run import export_fitted, measured

    return export_fitted(measured(lecture_table(), result), path, **kwargs)


@pytest.fixture(scope="session")
def model_path(request, tmp_path_factory) -> Path:
    """A freshly exported lecture model file.

    `make mutate` runs the tests once per mutant and passes the committed default model instead, in
    $EDGE_PREDICT_TEST_MODEL (the same bytes: test_artifact checks that), so torch trains only once.
    """
    if os.environ.get("EDGE_PREDICT_TEST_MODEL"):
        return Path(os.environ["EDGE_PREDICT_TEST_MODEL"])
    path = tmp_path_factory.mktemp("model") / "lecture.onnx"
    export_lecture(*request.getfixturevalue("lecture"), path)
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



@pytest.fixture(scope="session")
def diabetes_path() -> Path:
    """The diabetes table (759 rows, 8 features in [-1, 1], 0/1 label last, no header), copied from shared/."""
    return Path(__file__).parent / "data" / "diabetes.csv.gz"


def sealed(model) -> bytes:
    """A hand-built or edited onnx.ModelProto as the exporter would write it: with a fresh integrity digest."""
    from edge_predict.integrity import DIGEST_KEY, seal

    kept = [e for e in model.metadata_props if e.key != DIGEST_KEY.decode()]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    return seal(model.SerializeToString())
