"""Rows of samples: the Batch a reader yields, and the line-by-line parse that defines the semantics and errors."""

from __future__ import annotations

import math
import re
from typing import Any, Iterable, Sequence

import numpy as np

from edge_predict.tables._fast.fastread import TOO_LONG, line_too_long
from edge_predict.errors import InputError
from edge_predict.tables.grammar import NOT_UTF8, SPACE, not_utf8, parse_field, parse_number, shown


class Batch:
    """Rows read from one chunk: their values (n, k) in model feature order, their text and their place. (A plain
    class: a dataclass costs a compile() per generated method at import, which every cold start paid.)"""

    __slots__ = ("values", "texts", "lines", "kind", "columns", "errors", "extra", "block")

    def __init__(
        self,
        values: np.ndarray,
        texts: Sequence[tuple[str, ...]],
        lines: Sequence[int],
        kind: str = "line",
        columns: tuple[str, ...] = (),
        errors: dict[int, InputError] | None = None,
        extra: tuple[str, ...] = (),
        block: Any = None,
    ):
        self.values, self.texts, self.lines = values, texts, lines  # lines: line numbers, or argument positions
        self.kind = kind  # "line" or "argument": how `lines` are named in messages
        self.columns = columns  # per feature, its name in messages: "column 2 (hours)" or "hours"
        self.errors = {} if errors is None else errors  # rows kept in place though they did not parse
        self.extra = extra  # names of the input's other columns, passed through: texts[i][k:] are theirs
        # the block path's texts (_fast.fastread.BlockTexts, also `texts`) where it read the batch, else None: what
        # the writer's whole-batch text starts from
        self.block = block

    def head(self, n: int) -> "Batch":
        """Its first n rows."""
        errors = {row: error for row, error in self.errors.items() if row < n}
        return Batch(self.values[:n], self.texts[:n], self.lines[:n], self.kind, self.columns, errors, self.extra)

    def where(self, row: int) -> str:  # "line 12", "argument 3"
        return f"{self.kind} {self.lines[row]}"

    def locate(self, error: InputError, row: int | None = None) -> InputError:
        """`error` about X[row, col] of this batch (row: its own, or the one given), reworded to name its line."""
        if error.row is None:
            return error
        if row is not None:
            error = InputError(str(error), row=row, col=error.col, problem=error.problem)
        if error.col is None:  # about the whole sample (the model computed NaN for it)
            message = f"{self.where(error.row)}: this sample {error.problem}"
        else:
            text = self.texts[error.row][error.col]
            message = f"{self.where(error.row)}, {self.columns[error.col]}: {shown(text)} {error.problem}"
        return InputError(message, row=error.row, col=error.col, problem=error.problem, line=self.lines[error.row])


def split_fields(line: str, where: str = "") -> list[str]:
    """The fields of one CSV line: split at commas, or read by Python's csv module (strict) when it holds a quote."""
    if '"' not in line:
        return line.split(",")
    import csv  # only for a line with a quote: `predict 7` and plain tables start without it

    end = line.rstrip(SPACE)  # spaces after a last closing quote are dropped, as edge-train drops them
    try:  # strict: leniently '1,"a' reads as ['1', 'a'], and a field spanning lines loses its rest silently
        return next(csv.reader([end if end.endswith('"') else line], strict=True))
    except csv.Error as exc:
        raise InputError(
            f"{where}: a quoted field is not closed on its line, or text follows its closing quote "
            f"({exc}); one record per line, quoted as RFC 4180 does"
        ) from None


def parse_line(
    line: str,
    where: str,
    order: Sequence[int],
    columns: Sequence[str],
    split: bool = True,
    extra: Sequence[int] = (),
    kinds: Sequence[str] | None = None,
) -> tuple[list, tuple[str, ...]]:
    """The feature values of one line in model order, and its texts (the features', then the `extra` columns'):
    the reference semantics and their errors. With `kinds` (grammar.field_kinds) each field is read as its kind."""
    try:
        fields = split_fields(line, where) if split else [line]
        width = len(order) + len(extra)
        if len(fields) != width:
            expected = f"the model expects {width} ({', '.join(columns)})" if not extra else f"the header has {width}"
            raise InputError(f"{where}: {len(fields)} columns, but {expected}")
        picked = tuple(fields[j].strip(SPACE) for j in order)
        if kinds is None:
            values = [parse_number(text, f"{where}, {column}") for text, column in zip(picked, columns)]
        else:
            values = [parse_field(t, kind, f"{where}, {column}") for t, kind, column in zip(picked, kinds, columns)]
        if extra and NOT_UTF8.search(line):  # a pass-through field that could not be written back as text
            raise not_utf8(where, line)
        return values, picked + tuple(fields[j] for j in extra)
    except InputError:
        if NOT_UTF8.search(line):  # undecodable bytes never parse; say so rather than "not a number"
            raise not_utf8(where, line) from None
        if split and len(order) == 1 and re.fullmatch(r"[+-]?[0-9]+,[0-9]+", line.strip(SPACE)):
            raise InputError(f"{where}: {shown(line)} is not a number; use '.' as the decimal point") from None
        raise


def parse_rows(
    rows: Iterable[tuple[int, str]],
    order: Sequence[int],
    columns: Sequence[str],
    keep: bool = False,
    split: bool = True,
    kind: str = "line",
    extra: dict[int, str] | None = None,
    kinds: Sequence[str] | None = None,
) -> Batch:
    """Parse (line number, text) pairs one by one: raise the first error, or with `keep` keep the row in place
    (NaN values, empty texts) with its error in Batch.errors. With `kinds` (a typed model's, grammar.field_kinds)
    the values are an object array: floats, texts and None (missing).

    This path defines the semantics; a faster one falls back to it whenever anything is off in a block.
    """
    values, texts, lines, errors = [], [], [], {}
    for number, line in rows:
        try:
            if line == TOO_LONG:  # a line --keep-going skipped as it was read
                raise line_too_long(number)
            row, text = parse_line(line, f"{kind} {number}", order, columns, split, list(extra or ()), kinds)
        except InputError as exc:
            exc.line = number
            if not keep:
                raise
            errors[len(lines)] = exc
            row, text = [math.nan] * len(order), ("",) * (len(order) + len(extra or ()))
        values.append(row)
        texts.append(text)
        lines.append(number)
    return Batch(
        _array(values, len(order), kinds),
        texts,
        lines,
        kind,
        tuple(columns),
        errors,
        tuple((extra or {}).values()),
    )


def _array(values: list[list], k: int, kinds: Sequence[str] | None) -> np.ndarray:
    """The rows' values as one (n, k) array: float64 for numbers only, objects for a typed model's values."""
    if kinds is None:
        return np.array(values, dtype=np.float64).reshape(-1, k)
    array = np.empty((len(values), k), dtype=object)
    for i, row in enumerate(values):
        array[i] = row
    return array
