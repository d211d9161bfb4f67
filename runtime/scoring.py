"""The scoring loop behind `edge-predict predict`: batches read from text, scored, written in order."""

from __future__ import annotations

from typing import Callable, Iterable

from .errors import InputError
from .reader import Batch


class KeepGoing:
    """--keep-going: collects bad rows as they are met and hands them to `report` in input order."""

    def __init__(self, report: Callable[[InputError], None]):
        self.report, self.pending, self.skipped = report, [], 0

    def __call__(self, error: InputError) -> None:
        self.pending.append(error)
        self.skipped += 1

    def flush(self) -> None:
        # Parse errors arrive while a chunk is read, domain errors once it is scored: sort by place.
        for error in sorted(self.pending, key=lambda e: e.line):
            self.report(error)
        self.pending.clear()


def score(predictor, batches: Iterable[Batch], writer, keep_going: KeepGoing | None = None) -> int:
    """Score and write each batch; return how many rows were scored.

    A bad row raises InputError naming its line (or argument); with `keep_going` it is handed to it and skipped.
    """
    scored = 0
    for batch in batches:
        outputs, batch = _score_batch(predictor, batch, keep_going)
        if keep_going is not None:
            keep_going.flush()
        if outputs is not None:
            writer.write(batch, outputs)
            scored += len(batch.lines)
    if keep_going is not None:
        keep_going.flush()
    return scored


def _score_batch(predictor, batch: Batch, keep_going: KeepGoing | None):
    """The batch's output columns (None if every row was skipped) and the rows they belong to."""
    while len(batch.lines):
        try:
            return predictor.predict_table(batch.values), batch  # validation runs once, inside
        except InputError as exc:
            if exc.row is None:
                raise
            if keep_going is None:
                raise batch.locate(exc) from None
            # A bad value: find every bad row at once. The model's NaN for a sample: that sample alone.
            errors = (predictor.input_errors(batch.values) if exc.col is not None else []) or [exc]
            for error in errors:
                keep_going(batch.locate(error))
            batch = batch.drop([error.row for error in errors])
    return None, batch
