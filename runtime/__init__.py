"""edge-predict: score an exported PyTorch model on CPU devices with onnxruntime alone."""

from .errors import EdgePredictError, InputError, ModelError, VerificationError
from .predictor import Predictor

__version__ = "0.1.0"

__all__ = [
    "EdgePredictError",
    "InputError",
    "ModelError",
    "Predictor",
    "VerificationError",
    "__version__",
]
