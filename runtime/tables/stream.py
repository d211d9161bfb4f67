"""The scoring loop behind `edge-predict predict`: batches read from text, scored, written in input order."""

from __future__ import annotations

from typing import Callable, Iterable

from edge_predict.errors import InputError, ModelError
from edge_predict.tables.reader import Batch


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


def _score_batch(predictor, batch: Batch, keep_going: bool) -> tuple[dict | None, dict[int, InputError]]:
    """The output columns of the batch's good rows (None if there are none) and the errors of the others."""
    errors = dict(batch.errors)  # rows that did not parse (only when keeping going)
    good = [i for i in range(len(batch.lines)) if i not in errors] if errors else None
    if good == []:
        return None, errors
    values = batch.values if good is None else batch.values[good]
    try:
        if not keep_going:
            return predictor.predict_table(values), errors  # validation runs once, inside
        table, bad = predictor.score_rows(values)
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
        raise batch.locate(exc, exc.row if good is None else good[exc.row]) from None
    for index, error in bad.items():
        row = index if good is None else good[index]
        errors[row] = batch.locate(error, row)
    return table, errors
