"""edge-predict serve: the Open Inference Protocol's REST half over one Predictor (docs/serve.md)."""

from .limits import Limits
from .server import Server, is_loopback
from .slot import ModelSlot

__all__ = ["Limits", "ModelSlot", "Server", "is_loopback"]
