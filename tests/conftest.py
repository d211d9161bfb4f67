"""Shared fixtures: every test builds its own models from the lecture data; nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "models" / "default.onnx"
# Nothing of the test process may leak into the device environment.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


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


def run(*args, cwd, code=0):
    """Run a command with no stdin (CI has none); fail with its output unless it exits `code`."""
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=CLEAN_ENV,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == code, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout if code == 0 else done.stderr


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The wheel built from a copy of the working tree (so the build writes nothing into the repository);
    built once for the device-install tests and the benchmark's quick run alike."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".work"
        ),
    )
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", src, cwd=work)
    (path,) = (work / "dist").glob("edge_predict-*.whl")
    return path


@pytest.fixture(scope="session")
def device(wheel):
    """A new virtualenv (no system site-packages) with only the wheel and its declared dependencies."""
    env = wheel.parent.parent / "device"
    run(sys.executable, "-m", "venv", env, cwd=wheel.parent.parent)
    run(env / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=env)
    return env
