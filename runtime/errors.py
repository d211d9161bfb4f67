"""The error tree of edge-predict: one base, a few specific errors, each with its CLI exit code."""


class EdgePredictError(Exception):
    """Base of every error edge-predict raises on purpose."""

    exit_code = 1


class InputError(EdgePredictError, ValueError):
    """The data to score is not what the model expects (exit code 2)."""

    exit_code = 2


class ModelError(EdgePredictError):
    """The model file is missing, unreadable, unsafe or not an edge-predict model (exit code 1)."""

    exit_code = 1


class VerificationError(EdgePredictError):
    """The model's golden vectors or checksum do not match on this device (exit code 1)."""

    exit_code = 1
