"""Read a CSV training table (gzip by extension): features, the label column and the task it poses."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Sequence

import numpy as np

from edge_predict.errors import InputError
from edge_predict.tables.grammar import NUMBER, names_a_column, parse_number, shown
from edge_predict.tables.reader import split_fields

from .data import Table
from .tasks import encode


def read_table(path: str | Path, label: str | None = None, drop: Sequence[str] = (), task: str = "auto") -> Table:
    """Read a CSV table; `label` is a header name or a column number from 1 (default: the last column).

    Columns in `drop` (names or numbers, e.g. an ID) are neither features nor read. The first line is a
    header when a column is named (label or drop) or when one of its feature fields is not a number;
    without one the features are x0, x1, ... Blank lines are skipped; '#' lines as `_hash_rows` says, so that no
    row is ever dropped silently. `task` (auto, binary, multiclass, regression) decides how the label column is read.
    """
    path = Path(path)
    lead, lines = _lines(path)
    first = [f.strip() for f in split_fields(lines[0][1], f"{path} line {lines[0][0]}")]
    width = len(first)
    given = [c for c in (label, *drop) if c is not None]
    numbered = {int(c) - 1 for c in given if _is_number_of_column(c, width)}
    label_at = int(label) - 1 if label is not None and _is_number_of_column(label, width) else width - 1
    features_first = [f for j, f in enumerate(first) if j not in numbered and j != label_at]
    named = any(not _is_number_of_column(c, width) for c in given)
    header = first if named or not all(NUMBER.fullmatch(f) for f in features_first) else None
    rows = lines[1:] if header else lines
    names = header or [f"column {j + 1}" for j in range(width)]
    target = width - 1 if label is None else _column_index(label, header, width, path, "label")
    dropped = {_column_index(column, header, width, path, "--drop") for column in drop}
    if target in dropped:
        raise InputError(
            f"{path}: --drop {names[target]!r} is the label column; drop a feature or pick another --label"
        )
    features = [j for j in range(width) if j != target and j not in dropped]
    rows = _hash_rows(lead if header is None else [], width, features, path) + [
        (n, line) for n, line in rows if not line.startswith("#") or _width(line) == width
    ]
    if not features or not rows:
        raise InputError(f"{path}: need at least one feature column and one data row")
    x = np.empty((len(rows), len(features)), np.float32)
    values, where = [], []
    for i, (lineno, line) in enumerate(rows):
        place = f"{path} line {lineno}"
        fields = split_fields(line, place)  # RFC 4180 quotes, as edge-predict reads them: "Smith, John" is one field
        if len(fields) != width:
            raise InputError(f"{place}: {len(fields)} columns, but the first line has {width}")
        with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused below with its line
            try:
                x[i] = [parse_number(fields[j], f"{place}, column {j + 1} ({names[j]})") for j in features]
            except InputError as exc:
                if not line.startswith("#"):
                    raise
                raise InputError(
                    f"{exc}; a '#' line with the table's {width} fields is a row, not a comment: fix or delete it"
                ) from None
        if line.startswith("#") and target == 0:  # a commented-out row, not a sample of a class '#yes'
            raise InputError(
                f"{place}, column 1 ({names[0]}): the label {fields[0].strip()!r} starts with '#'; a '#' line with the "
                f"table's {width} fields is a row, not a comment: fix or delete it"
            )
        values.append(fields[target].strip())
        where.append(place)
    broken = ~np.isfinite(x)  # nan, inf, or beyond float32 (1e39): training would diverge on them
    if broken.any():
        i, col = (int(v) for v in np.argwhere(broken)[0])
        lineno, line = rows[i]
        j = features[col]
        raise InputError(
            f"{path} line {lineno}, column {j + 1} ({names[j]}): {split_fields(line)[j].strip()!r} is not a finite "
            "float32 number; the model cannot be trained on it: fix the value or remove the row"
        )
    if (
        header is None
        and len(values) > 1
        and not NUMBER.fullmatch(values[0])
        and all(map(NUMBER.fullmatch, values[1:]))
    ):
        raise InputError(  # a header of numbers, e.g. wavelengths '400,450,class': it would train as a row
            f"{where[0]}: the label column {target + 1} holds {values[0]!r} here and a number on every other line, so "
            "this line is a header; but no feature name in it starts with a letter, so edge-predict could not tell "
            "it from a row of data; rename the features, e.g. 'x1'"
        )
    encoded = encode(values, where, task, f"the label column {target + 1} ({names[target]})", str(path))
    feature_names = tuple(header[j] for j in features) if header else tuple(f"x{i}" for i in range(len(features)))
    label_name = names[target] if header else "label"
    table = Table(x, encoded.y, feature_names, label_name, str(path), labels=encoded.labels, task=encoded.task)
    if header:
        check_header(header, feature_names, table, f"{path} line {lines[0][0]}")
    return table


def output_columns(table: Table) -> tuple[str, ...]:
    """The columns `edge-predict predict` adds to each row for this model: a feature may not share a name."""
    if table.task == "regression":
        return (*table.targets, "error")
    if table.task == "multiclass":
        return ("label", *(f"p_{name}" for name in table.labels), "error")
    return ("probability", "label", "error")


def check_header(header: list[str], feature_names: Sequence[str], table: Table, where: str) -> None:
    """Refuse names the runtime could not tell apart: a repeated column, a feature named like an output, or
    features none of which makes a header."""
    for j, name in enumerate(header):
        if not name:
            raise InputError(f"{where}: column {j + 1} has no name; name every column or drop the header")
        if name in header[:j]:
            raise InputError(f"{where}: column name {name!r} appears twice; give every column its own name")
    if not any(names_a_column(name) for name in feature_names):  # checked here too, before training
        raise InputError(
            f"{where}: no feature name starts with a letter (and is not a number), so edge-predict could not know a "
            "CSV header naming the features from a row of data; rename one, e.g. 'x1'"
        )
    for name in output_columns(table):
        if name in feature_names:
            raise InputError(
                f"{where}: a feature may not be named {name!r}, a column edge-predict's output adds; rename it"
            )


def _lines(path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(line number, stripped text) of the non-blank lines: the '#' lines before the first other line, and the rest."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline=None) as stream:
            lines = [(n, line.strip()) for n, line in enumerate(stream, start=1)]
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the data file ({exc})") from None
    lines = [(n, line) for n, line in lines if line]
    start = next((i for i, (_, line) in enumerate(lines) if not line.startswith("#")), len(lines))
    if start == len(lines):
        raise InputError(f"{path}: the data file has no rows (only blank lines and '#' comments)")
    return lines[:start], lines[start:]


def _width(line: str) -> int | None:
    """The number of fields of a line; None if a quote is not closed (a comment's text)."""
    try:
        return len(split_fields(line))
    except InputError:
        return None


def _hash_rows(lead: list[tuple[int, str]], width: int, features: Sequence[int], path: Path) -> list[tuple[int, str]]:
    """The rows among the '#' lines before the first row of a table without a header.

    After the first row (or the header), a '#' line with the table's number of fields is a row (an ID such as '#12'
    first), read or refused as any row: edge-predict's rule with pass-through columns. Before the first row of a
    header-less table the same line may be a commented-out header ('# x1,x2,y', as numpy.savetxt writes): it is a
    row if its features are numbers, refused if they are numbers once the '#' is removed (a commented-out row:
    skipped, it would vanish), and a comment otherwise.
    """
    rows = []
    for n, line in lead:
        if _width(line) != width:
            continue
        if _numbers(line, features):
            rows.append((n, line))
        elif _numbers(line[1:], features):
            raise InputError(
                f"{path} line {n}: {shown(line)} has the table's {width} fields and is a row once its '#' is removed; "
                "remove the '#' to train on it, or delete the line"
            )
    return rows


def _numbers(line: str, features: Sequence[int]) -> bool:
    """Whether the line has a number in every feature column."""
    try:
        fields = split_fields(line)
    except InputError:
        return False
    return all(j < len(fields) and NUMBER.fullmatch(fields[j].strip()) for j in features)


def _is_number_of_column(column: str, width: int) -> bool:
    return column.isdigit() and 1 <= int(column) <= width


def _column_index(column: str, header: list[str] | None, width: int, path: Path, what: str) -> int:
    """The index of `column`, a header name or a column number from 1; `what` names the option for errors."""
    if header and column in header:
        return header.index(column)
    if _is_number_of_column(column, width):
        return int(column) - 1
    known = f"a header name ({','.join(header)}) or " if header else ""
    noun = "no label column" if what == "label" else f"{what}: no column"
    raise InputError(f"{path}: {noun} {column!r}; use {known}a column number from 1 to {width}")
