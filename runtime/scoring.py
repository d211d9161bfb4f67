"""The scoring loop behind `edge-predict predict`: batches read from text, scored, written in input order."""

from __future__ import annotations

from typing import Callable, Iterable

from .errors import InputError, ModelError
from .reader import Batch


def score(
    predictor, batches: Iterable[Batch], writer, keep_going: Callable[[InputError], None] | None = None
) -> tuple[int, int]:
    """Score and write each batch; return (rows scored, rows skipped).

    A bad row raises InputError naming its line (or argument). With `keep_going`, it is handed to it
    (in input order) and written in its place with an error instead of outputs, so output row N is input row N.
    """
    scored = skipped = 0
    for batch in batches:
        outputs, errors = _score_batch(predictor, batch, keep_going is not None)
        for row in sorted(errors):
            keep_going(errors[row])
        writer.write(batch, outputs, {row: str(error) for row, error in errors.items()})
        writer.out.flush()  # a program writing one line at a time on a pipe waits for this answer
        skipped += len(errors)
        scored += len(batch.lines) - len(errors)
    return scored, skipped


def _score_batch(predictor, batch: Batch, keep: bool) -> tuple[dict | None, dict[int, InputError]]:
    """The output columns of the batch's good rows (None if there are none) and the errors of the others."""
    errors = dict(batch.errors)  # rows that did not parse (only with keep)
    while True:
        good = [i for i in range(len(batch.lines)) if i not in errors] if errors else None
        if good == []:
            return None, errors
        values = batch.values if good is None else batch.values[good]
        try:
            return predictor.predict_table(values), errors  # validation runs once, inside
        except ModelError as exc:  # the graph's output for one sample is impossible: name the sample's line
            if exc.row is None:
                raise
            row = exc.row if good is None else good[exc.row]
            raise ModelError(
                f"{predictor.source}: {batch.where(row)}: {exc.problem}", row=row, problem=exc.problem
            ) from None
        except InputError as exc:
            if exc.row is None:
                raise
            if not keep:
                raise batch.locate(exc, exc.row if good is None else good[exc.row]) from None
            # A bad value: find every bad row at once. The model's NaN for a sample: that sample alone.
            for error in (predictor.input_errors(values) if exc.col is not None else []) or [exc]:
                row = error.row if good is None else good[error.row]
                errors[row] = batch.locate(error, row)
