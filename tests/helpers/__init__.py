"""What the tests share besides fixtures: paths, a clean environment, the torch reference, sealing, running."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
DATA = TESTS / "data"
DEFAULT_MODEL = REPO / "models" / "default.onnx"
DEFAULT_VERSION = 3  # models/default.onnx's model.version: `make export` passes --model-version 3
# Nothing of the test process may leak into the device environment.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def export_lecture(result, x, y, path: Path, **kwargs) -> bytes:
    """Export a trained lecture model the way `make export` does (the name and version of models/default.onnx)."""
    from edge_predict.trainer.data import lecture_table
    from edge_predict.trainer.run import export_fitted, measured

    kwargs = {"model_name": "default", "model_version": DEFAULT_VERSION, **kwargs}
    return export_fitted(measured(lecture_table(), result), path, **kwargs)


def torch_proba(model, x) -> np.ndarray:
    """What torch computes for float32 rows `x`: the reference every parity test compares with."""
    import torch

    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1))).numpy().reshape(-1)


def sealed(model) -> bytes:
    """A hand-built or edited onnx.ModelProto as the exporter would write it: with a fresh integrity digest."""
    from edge_predict.model.integrity import DIGEST_KEY, seal

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


def examples(n: int) -> int:
    """A property's example count: `n` under `make test`; under the "fast" profile (`make test-fast`, conftest.py)
    the same share of `n` as the profile's default is of hypothesis's 100, and at least 10 (or `n`, if fewer)."""
    from hypothesis import settings

    return min(n, max(10, n * settings.default.max_examples // 100))
