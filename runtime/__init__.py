"""edge-predict: score an exported PyTorch model on CPU devices with onnxruntime alone."""

import os

# onnxruntime >= 1.29 starts opt-out telemetry when it is imported: it writes a device id and an event
# database under ~/.cache and tries to upload them. An unattended device should do neither (and a read-only
# home makes onnxruntime print warnings), so it is off unless the user chose otherwise: ORT_DISABLE_TELEMETRY=0.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from edge_predict.errors import (  # noqa: E402
    EdgePredictError,
    InputError,
    ModelError,
    NonFiniteOutputError,
    OutputError,
    VerificationError,
)

__version__ = "0.1.0"

__all__ = [
    "EdgePredictError",
    "InputError",
    "ModelError",
    "NonFiniteOutputError",
    "OutputError",
    "Predictor",
    "VerificationError",
    "__version__",
    "inspect_model",
    "sign_model",
]

# Predictor imports onnxruntime and numpy: `edge-predict --help` and `--version` should not pay for them.
_LAZY = {
    "Predictor": "edge_predict.predictor",
    "inspect_model": "edge_predict.files",
    "sign_model": "edge_predict.files",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
