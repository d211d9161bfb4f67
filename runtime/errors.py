"""The error tree of edge-predict: one base, a few specific errors, each with its CLI exit code."""

from __future__ import annotations


class EdgePredictError(Exception):
    """Base of every error edge-predict raises on purpose."""

    exit_code = 1


class InputError(EdgePredictError, ValueError):
    """The data to score is not what the model expects (exit code 2)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        col: int | None = None,
        problem: str | None = None,
        line: int | None = None,
    ):
        super().__init__(message)
        # Where the bad value sits in X (row, col) and what is wrong with it (problem), so a caller that
        # knows where the row came from can name that place; `line` is that place once known (a line of
        # a file, or an argument's position on the command line).
        self.row, self.col, self.problem, self.line = row, col, problem, line


class NonFiniteOutputError(InputError):
    """The model computed NaN or an infinite value for one sample: its input overflows the graph's arithmetic."""

    def __init__(self, message: str, *, row: int, problem: str, computed: str):
        super().__init__(message, row=row, problem=problem)
        self.computed = computed  # "NaN" or "an infinite value"


class UnknownLabelError(InputError):
    """The truth given to evaluate holds values that are not the model's labels (exit code 2)."""

    def __init__(self, message: str, *, values: tuple[str, ...], labels: tuple[str, ...]):
        super().__init__(message)
        self.values, self.labels = values, labels  # the unknown values (sorted), and the model's labels


class ModelError(EdgePredictError):
    """The model file is missing, unreadable, unsafe or not an edge-predict model (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str, *, row: int | None = None, problem: str | None = None):
        super().__init__(message)
        # When the graph computed something impossible for one sample: that sample's row in X and what it
        # computed, so a caller that knows where the row came from can name that place.
        self.row, self.problem = row, problem


class GraphLimitError(ModelError):
    """The model's graph is beyond a documented limit (nodes, constant bytes, tensor elements; exit code 1)."""

    def __init__(self, message: str, *, limit: str):
        super().__init__(message)
        self.limit = limit  # the limit's name, as --graph-limit spells it


class VerificationError(EdgePredictError):
    """The model's golden vectors or checksum do not match on this device (exit code 1)."""

    exit_code = 1

    def __init__(self, message: str, *, difference: float | None = None, batch_sizes: tuple[int, int] | None = None):
        super().__init__(message)
        self.difference = difference  # the largest golden-vector difference measured, when there was one
        self.batch_sizes = batch_sizes  # (n, m): the golden rows score differently in batches of n and of m


class OutputError(EdgePredictError):
    """The output cannot be written: a full disk, a closed stdout (exit code 1)."""

    exit_code = 1
