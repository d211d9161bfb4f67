"""The error tree of edge-predict: one base, a few specific errors, each with its CLI exit code."""

from __future__ import annotations


class EdgePredictError(Exception):
    """Base of every error edge-predict raises on purpose."""

    exit_code = 1


class InputError(EdgePredictError, ValueError):
    """The data to score is not what the model expects (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, row: int | None = None, col: int | None = None,
                 problem: str | None = None):
        super().__init__(message)
        # Where a bad value sits in X and what is wrong with it, so a caller that knows where the
        # row came from (a line of a file, a command-line argument) can name that place instead.
        self.row, self.col, self.problem = row, col, problem


class ModelError(EdgePredictError):
    """The model file is missing, unreadable, unsafe or not an edge-predict model (exit code 1)."""

    exit_code = 1


class VerificationError(EdgePredictError):
    """The model's golden vectors or checksum do not match on this device (exit code 1)."""

    exit_code = 1
