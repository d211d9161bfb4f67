"""Shared fixtures: every test builds its own models from the lecture data; nothing is downloaded."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from helpers import CLEAN_ENV, DATA, REPO, export_lecture, run

# `make test-fast`: every property runs, with a quarter of the examples `make test` gives it (helpers.examples).
FAST_PROFILE = "fast"
settings.register_profile(FAST_PROFILE, max_examples=25)


def pytest_configure(config):
    """A run that leaves out the slow tests (-m "not slow") uses the fast profile, unless one is named
    (--hypothesis-profile=default runs the full example counts)."""
    if "not slow" in (config.option.markexpr or "") and not config.getoption("--hypothesis-profile"):
        settings.load_profile(FAST_PROFILE)


@pytest.fixture(scope="session")
def lecture():
    """The default model trained with the default config (torch), and its training data."""
    from edge_predict.trainer.data import lecture_data
    from edge_predict.trainer.train import TrainConfig, train

    x, y = lecture_data()
    return train(x, y, TrainConfig()), x, y


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


@pytest.fixture(scope="session")
def _state_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("state")


@pytest.fixture(autouse=True)
def rollback_state(_state_dir, monkeypatch) -> Path:
    """Each test's own rollback state (docs/signing.md): the versions a key-checked load accepts never carry from
    one test to the next, nor into the home directory of whoever runs the tests."""
    import uuid

    path = _state_dir / f"{uuid.uuid4().hex}.json"
    monkeypatch.setenv("EDGE_PREDICT_STATE_FILE", str(path))
    monkeypatch.setitem(CLEAN_ENV, "EDGE_PREDICT_STATE_FILE", str(path))
    return path


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
    return DATA / "diabetes.csv.gz"


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
