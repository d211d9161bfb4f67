"""The engines that score a checked model file: onnxruntime (model/session.make_session) or numpy (engines/numpy).

`choose` names the engine and gives its session factory; the model layer checks the bytes first whichever it is.
"""

from __future__ import annotations

from typing import Callable

from edge_predict.errors import ModelError

NAMES = ("onnxruntime", "numpy")


def _onnxruntime_missing() -> str | None:
    """Why onnxruntime cannot be imported here (not installed, or a build that fails to load), or None."""
    try:
        import onnxruntime  # noqa: F401  (imported once: scoring with it imports it anyway)
    except Exception as exc:  # ImportError, or a broken build's OSError: either way it cannot score here
        return f"{type(exc).__name__}: {exc}"
    return None


def available(name: str) -> bool:
    """Whether the engine `name` can run here (onnxruntime is an optional dependency; numpy always is)."""
    return name == "numpy" or _onnxruntime_missing() is None


def resolve(engine: str | None) -> str:
    """The engine's name for `engine` ('onnxruntime', 'numpy', or None: onnxruntime where it is installed, else
    numpy); ValueError for another name, ModelError for onnxruntime where it is not installed."""
    if engine is None:
        return "onnxruntime" if available("onnxruntime") else "numpy"
    if engine not in NAMES:
        raise ValueError(f"engine={engine!r}: expected one of {', '.join(map(repr, NAMES))} or None (automatic)")
    missing = None if engine == "numpy" else _onnxruntime_missing()
    if missing is not None:
        raise ModelError(
            f"the onnxruntime engine is not installed here ({missing}): pip install onnxruntime where it has a wheel, "
            "or use the numpy engine (--engine numpy, engine='numpy')"
        )
    return engine


def factory(name: str) -> Callable:
    """The session factory of engine `name`: (data, source, threads, facts) -> a session (InferenceSession-like)."""
    if name == "numpy":
        from edge_predict.engines.numpy.session import make_session

        return make_session
    from edge_predict.model.session import make_session

    return make_session
