"""Run by the emulated aarch64 Python: the public API on one model and a grid file; prints one JSON object.

The grid is a CSV of numbers, or (a typed model) a JSON list of raw rows; an optional third argument, a JSON object
of name -> row, lists rows the model must refuse: each one's error is printed under "refusals"."""

import json
import platform
import sys

import numpy as np

import edge_predict  # first: it turns onnxruntime's telemetry off before onnxruntime is imported
from edge_predict import Predictor


def attempt(method, *args):
    """The method's result as plain lists (float32 values convert exactly), or the error it raised."""
    try:
        return {"value": np.asarray(method(*args)).tolist()}
    except Exception as exc:  # noqa: BLE001 - a regression model has no predict_proba; the host decides
        return {"error": f"{type(exc).__name__}: {exc}"}


model, grid = sys.argv[1], sys.argv[2]
if grid.endswith(".json"):
    with open(grid) as f:
        X = json.load(f)  # rows of numbers, strings and null (a gap)
else:
    X = np.loadtxt(grid, delimiter=",", skiprows=1, ndmin=2, dtype=np.float32)
refusals = {}
if len(sys.argv) > 3:
    with open(sys.argv[3]) as f:
        refusals = json.load(f)
predictor = Predictor.default() if model == "default" else Predictor.from_path(model)
try:  # imported already by Predictor where it is installed; only its version is read (none on 32-bit ARM)
    from onnxruntime import __version__ as onnxruntime_version
except ImportError:
    onnxruntime_version = "none"

print(
    json.dumps(
        {
            "machine": platform.machine(),
            "versions": {
                "python": platform.python_version(),
                "onnxruntime": onnxruntime_version,
                "numpy": np.__version__,
                "edge_predict": edge_predict.__version__,
            },
            "engine": predictor.engine,
            "heavy_modules": sorted(name for name in ("torch", "onnx") if name in sys.modules),
            "verify": attempt(predictor.verify),
            "predict_proba": attempt(predictor.predict_proba, X),
            "predict": attempt(predictor.predict, X),
            "refusals": {what: attempt(predictor.predict_proba, [row]) for what, row in refusals.items()},
        }
    )
)
