"""edge-predict serve: the Open Inference Protocol's REST half over one Predictor (docs/serve.md)."""

from edge_predict.serve.limits import Limits
from edge_predict.serve.server import Server, is_loopback
from edge_predict.serve.slot import ModelSlot

__all__ = ["Limits", "ModelSlot", "Server", "is_loopback"]
