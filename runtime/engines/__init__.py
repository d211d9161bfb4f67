"""The engines that score a checked model file: onnxruntime (model/session.make_session) or numpy (engines/numpy).

`choose` names the engine and gives its session factory; the model layer checks the bytes first whichever it is.
"""

from __future__ import annotations

import importlib.util
from typing import Callable

from edge_predict.errors import ModelError

NAMES = ("onnxruntime", "numpy")


def available(name: str) -> bool:
    """Whether the engine `name` can run here (onnxruntime is an optional dependency; numpy always is)."""
    return name == "numpy" or importlib.util.find_spec("onnxruntime") is not None


def resolve(engine: str | None) -> str:
    """The engine's name for `engine` ('onnxruntime', 'numpy', or None: onnxruntime where it is installed, else
    numpy); ValueError for another name, ModelError for onnxruntime where it is not installed."""
    if engine is None:
        return "onnxruntime" if available("onnxruntime") else "numpy"
    if engine not in NAMES:
        raise ValueError(f"engine={engine!r}: expected one of {', '.join(map(repr, NAMES))} or None (automatic)")
    if not available(engine):
        raise ModelError(
            "the onnxruntime engine is not installed here (no onnxruntime for this platform?): "
            "pip install onnxruntime, or use the numpy engine (--engine numpy, engine='numpy')"
        )
    return engine


def factory(name: str) -> Callable:
    """The session factory of engine `name`: (data, source, threads, facts) -> a session (InferenceSession-like)."""
    if name == "numpy":
        from edge_predict.engines.numpy.session import make_session

        return make_session
    from edge_predict.model.session import make_session

    return make_session
