"""Reading samples from text (CSV or bare numbers) in chunks; output.py writes the scored rows."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import IO, Iterator, Sequence

import numpy as np

from .errors import InputError

CHUNK_ROWS = 65536
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


@dataclass
class Batch:
    """Rows read from one chunk: the values (n, k) in model feature order and their text."""

    values: np.ndarray
    texts: list[tuple[str, ...]]
    where: list[str]  # "line 12" or "argument 3", for error messages


def parse_number(token: str, where: str, column: str) -> float:
    """A decimal number, or InputError naming where the bad token is and what was expected."""
    text = token.strip()
    if not _NUMBER.fullmatch(text):
        shown = repr(text) if text else "an empty value"
        hint = "; use '.' as the decimal point" if "," in text else ""
        raise InputError(f"{where}, {column}: {shown} is not a number{hint}")
    return float(text)


def samples_from_args(values: Sequence[str], feature_names: Sequence[str]) -> Batch:
    """Command-line samples: one number each for a one-feature model, else 'v1,v2,...' each."""
    k = len(feature_names)
    rows, texts, where = [], [], []
    for i, arg in enumerate(values, start=1):
        fields = arg.split(",") if k > 1 else [arg]
        loc = f"argument {i}"
        if len(fields) != k:
            raise InputError(
                f"{loc}: {arg!r} has {len(fields)} values, but the model expects {k} "
                f"({','.join(feature_names)}), comma-separated"
            )
        rows.append([parse_number(f, loc, name) for f, name in zip(fields, feature_names)])
        texts.append(tuple(f.strip() for f in fields))
        where.append(loc)
    return Batch(np.array(rows, dtype=np.float64).reshape(-1, k), texts, where)


def read_batches(stream: IO[str], feature_names: Sequence[str], chunk_rows: int = CHUNK_ROWS) -> Iterator[Batch]:
    """Samples from a text stream, `chunk_rows` at a time, so memory stays flat on any file size.

    Accepted: CSV with a header naming the model's features (any order), or header-less rows of
    numbers in the model's feature order. Blank lines and lines starting with '#' are skipped.
    """
    k = len(feature_names)
    numbered = ((n, line.strip()) for n, line in enumerate(stream, start=1))
    content = ((n, line) for n, line in numbered if line and not line.startswith("#"))
    first = next(content, None)
    if first is None:
        raise InputError("the input has no samples (it is empty or only blank/comment lines)")
    order = _header_order(first, feature_names)
    rows = content if order is not None else itertools.chain([first], content)
    order = order or list(range(k))
    while True:
        chunk = list(itertools.islice(rows, chunk_rows))
        if not chunk:
            return
        values = np.empty((len(chunk), k), dtype=np.float64)
        texts, where = [], []
        for i, (lineno, line) in enumerate(chunk):
            fields = line.split(",")
            loc = f"line {lineno}"
            if len(fields) != k:
                raise InputError(f"{loc}: {len(fields)} columns, but the model expects {k} ({','.join(feature_names)})")
            picked = [fields[j] for j in order]
            values[i] = [parse_number(f, loc, f"column {j + 1} ({name})")
                         for f, j, name in zip(picked, order, feature_names)]
            texts.append(tuple(f.strip() for f in picked))
            where.append(loc)
        yield Batch(values, texts, where)


def _header_order(first: tuple[int, str], feature_names: Sequence[str]) -> list[int] | None:
    """Column index of each feature if `first` is a header line; None if it is data."""
    lineno, line = first
    fields = [f.strip().lstrip("\ufeff") for f in line.split(",")]
    if all(_NUMBER.fullmatch(f) for f in fields):
        return None
    if sorted(fields) != sorted(feature_names):
        raise InputError(
            f"line {lineno}: header {','.join(fields)!r} does not match the model's features "
            f"{','.join(feature_names)!r} (any order); fix the header or drop it"
        )
    return [fields.index(name) for name in feature_names]
