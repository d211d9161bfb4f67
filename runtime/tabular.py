"""Reading samples from text (CSV or bare numbers) in chunks; output.py writes the scored rows."""

from __future__ import annotations

import io
import itertools
import math
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Callable, Iterable, Iterator, Optional, Sequence

import numpy as np

from .errors import InputError
from .manifest import F32_MAX

CHUNK_ROWS = 65536
# The accepted number grammar, ASCII only. float() alone would also take '1_000', fullwidth or
# Arabic-Indic digits and surrounding Unicode spaces; a device fed by a sensor or a spreadsheet
# should refuse those, not guess. nan and inf are read so the model's check can name them.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
                     re.IGNORECASE)
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of undecodable bytes
_SPACE = " \t\r\n"  # stripped around lines and fields; any other whitespace is an error
EXPECTED = "expected a decimal number such as 7, -0.5 or 2.5e3"

OnError = Optional[Callable[[InputError], None]]


@dataclass
class Batch:
    """Rows read from one chunk: the values (n, k) in model feature order and their text."""

    values: np.ndarray
    texts: list[tuple[str, ...]]
    where: list[str]  # "line 12" or "argument 3", for error messages
    columns: tuple[str, ...] = ()  # per feature: "column 2 (hours)" in a file, "hours" in arguments

    def locate(self, error: InputError) -> InputError:
        """`error` about X[row, col] of this batch, reworded to name its line or argument."""
        if error.row is None:
            return error
        text = self.texts[error.row][error.col]
        return InputError(f"{self.where[error.row]}, {self.columns[error.col]}: {shown(text)} {error.problem}",
                          row=error.row, col=error.col, problem=error.problem)

    def drop(self, rows: Sequence[int]) -> "Batch":
        """This batch without `rows`."""
        keep = np.ones(len(self.where), bool)
        keep[list(rows)] = False
        kept = np.flatnonzero(keep).tolist()
        return Batch(self.values[keep], [self.texts[i] for i in kept], [self.where[i] for i in kept], self.columns)


@contextmanager
def open_input(path: str) -> Iterator[IO[str]]:
    """The text of FILE, or of stdin for '-': UTF-8 with or without BOM, any line ending."""
    options = dict(encoding="utf-8-sig", errors="surrogateescape", newline=None)
    if path == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, **options)
        try:
            yield stream
        finally:
            stream.detach()  # leave sys.stdin open for whoever runs us
        return
    try:
        stream = open(path, **options)
    except FileNotFoundError:
        raise InputError(f"{path}: no such input file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an input file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open the input file ({exc.strerror})") from None
    with stream:
        yield stream


def parse_number(token: str, where: str, column: str | None = None) -> float:
    """A number in the accepted grammar, or InputError naming where the bad token is and what was expected."""
    where = where if column is None else f"{where}, {column}"
    text = token.strip(_SPACE)
    if _NUMBER.fullmatch(text):
        value = float(text)
        if math.isinf(value) and "n" not in text.lower():  # e.g. 1e400: beyond even float64
            raise InputError(f"{where}: {shown(text)} overflows float32 (largest {F32_MAX:.4g})")
        return value
    raise InputError(f"{where}: {shown(text) if text else 'an empty value'} is not a number ({EXPECTED}{_hint(text)})")


def shown(text: str, limit: int = 40) -> str:
    """repr(text), cut to `limit` characters and '…': an error line must stay short whatever the input."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _hint(text: str) -> str:
    if "," in text:
        return "; use '.' as the decimal point"
    if text.lower().lstrip("+-").startswith("0x"):
        return "; hexadecimal is not accepted"
    if "_" in text:
        return "; write digits without '_'"
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return "; use the ASCII digits 0-9"
    return ""


def parse_fields(fields: Sequence[str], where: str, order: Sequence[int],
                 columns: Sequence[str]) -> tuple[list[float], tuple[str, ...]]:
    """The values and stripped texts of one row's `fields`, picked in model feature order."""
    if len(fields) != len(order):
        raise InputError(f"{where}: {len(fields)} columns, but the model expects {len(order)} "
                         f"({', '.join(columns)})")
    picked = tuple(fields[j].strip(_SPACE) for j in order)
    return [parse_number(text, f"{where}, {column}") for text, column in zip(picked, columns)], picked


def parse_line(line: str, where: str, order: Sequence[int], columns: Sequence[str],
               split: bool = True) -> tuple[list[float], tuple[str, ...]]:
    """The reference parser of one line: the exact semantics, and the error that names what is wrong."""
    try:
        return parse_fields(line.split(",") if split else [line], where, order, columns)
    except InputError:
        bad = _NOT_UTF8.search(line)  # undecodable bytes never parse; say so rather than "not a number"
        if bad:
            raw = line.encode("utf-8", "surrogateescape")[:40]
            raise InputError(f"{where}: bytes that are not UTF-8 ({raw!r}); save the input as UTF-8") from None
        if split and len(order) == 1 and re.fullmatch(r"[+-]?[0-9]+,[0-9]+", line):
            raise InputError(f"{where}: {shown(line)} is not a number; use '.' as the decimal point") from None
        raise


def parse_rows(rows: Iterable[tuple[str, str]], order: Sequence[int], columns: Sequence[str],
               on_error: OnError = None, split: bool = True) -> Batch:
    """Parse (where, line) pairs one by one: raise the first error, or hand each to on_error and skip the row.

    This per-line path defines the semantics. A faster path may parse a whole chunk at once, but must
    fall back to this one when anything is off, so errors are found and worded the same way.
    """
    values, texts, where = [], [], []
    for loc, line in rows:
        try:
            row, text = parse_line(line, loc, order, columns, split)
        except InputError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        values.append(row)
        texts.append(text)
        where.append(loc)
    return Batch(np.array(values, dtype=np.float64).reshape(-1, len(order)), texts, where, tuple(columns))


def samples_from_args(values: Sequence[str], feature_names: Sequence[str], on_error: OnError = None) -> Batch:
    """Command-line samples: one number each for a one-feature model, else 'v1,v2,...' each."""
    k = len(feature_names)
    rows = ((f"argument {i}", arg) for i, arg in enumerate(values, start=1))
    # One feature: no splitting, so '1,5' is one bad number (a locale decimal), not two columns.
    return parse_rows(rows, range(k), feature_names, on_error, split=k > 1)


def read_batches(stream: IO[str], feature_names: Sequence[str], chunk_rows: int = CHUNK_ROWS,
                 on_error: OnError = None) -> Iterator[Batch]:
    """Samples from a text stream, `chunk_rows` lines at a time, so memory stays flat on any file size.

    Accepted: CSV with a header naming the model's features (any order), or header-less rows of
    numbers in the model's feature order. Blank lines and lines starting with '#' are skipped.
    A bad row raises InputError naming its line and column, or, with on_error, is handed to it and skipped.
    """
    from .fastread import bounded_lines

    content = _content_lines(bounded_lines(stream))
    first = next(content, None)
    if first is None:
        raise InputError("the input has no samples (it is empty or only blank/comment lines)")
    order = _header_order(first, feature_names)
    data_first = order is None
    order = order or list(range(len(feature_names)))
    columns = tuple(f"column {j + 1} ({name})" for j, name in zip(order, feature_names))
    if len(order) == 1:
        chunks = _block_chunks(stream, first if data_first else None, first[0] + 1, columns, chunk_rows)
    else:
        rows = itertools.chain([first], content) if data_first else content
        chunks = iter(lambda: list(itertools.islice(rows, chunk_rows)), [])
    seen = False
    for chunk in chunks:
        seen = True
        batch = chunk if isinstance(chunk, Batch) else \
            parse_rows(((f"line {n}", line) for n, line in chunk), order, columns, on_error)
        if batch.where:
            yield batch
    if not seen:
        raise InputError(f"line {first[0]}: a header but no samples after it")


def _block_chunks(stream: IO[str], first: tuple[int, str] | None, lineno: int, columns: tuple[str, ...],
                  chunk_rows: int) -> Iterator[Batch | list[tuple[int, str]]]:
    """One feature: a block of plain numbers parsed at once as a Batch; any other block as chunks of
    (line number, text) for parse_rows, so every error is found and worded as line by line."""
    from .fastread import LineNumbers, OneColumn, blocks, plain_numbers

    texts = blocks(stream, lineno)
    if first is not None:  # header-less: the first line, already read, leads the first block
        start, text = next(texts, (lineno, ""))
        texts = itertools.chain([(first[0], first[1] + "\n" + text)], texts)
    for start, text in texts:
        plain = plain_numbers(text)
        if plain is not None:
            values, lines = plain
            yield Batch(values, OneColumn(lines), LineNumbers(start, len(lines)), columns)
            continue
        content = _content_lines(text.split("\n"), start)
        yield from iter(lambda: list(itertools.islice(content, chunk_rows)), [])


def _content_lines(lines: Iterable[str], start: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of every line that is not blank or a '#' comment."""
    from .fastread import MAX_LINE_CHARS, line_too_long

    for n, line in enumerate(lines, start=start):
        if len(line) > MAX_LINE_CHARS and len(line.rstrip("\n")) > MAX_LINE_CHARS:  # cut by bounded_lines
            raise line_too_long(n)
        text = line.strip(_SPACE)
        if n == 1:
            text = text.lstrip("\ufeff").strip(_SPACE)  # a BOM the stream's decoder did not remove
        if text and text[0] != "#":
            yield n, text


def _header_order(first: tuple[int, str], feature_names: Sequence[str]) -> list[int] | None:
    """Column index of each feature if `first` is a header line; None if it is data."""
    lineno, line = first
    fields = [f.strip(_SPACE) for f in line.split(",")]
    if sorted(fields) == sorted(feature_names):
        return [fields.index(name) for name in feature_names]
    if not any(f[:1].isalpha() and not _NUMBER.fullmatch(f) for f in fields):
        return None  # data; a bad number in it is reported as such
    raise InputError(
        f"line {lineno}: header {shown(','.join(fields))} does not match the model's features "
        f"{','.join(feature_names)!r} (any order); fix the header or drop it"
    )

