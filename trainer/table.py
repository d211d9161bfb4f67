"""Read a CSV training table (gzip by extension): features, the label column and the task it poses."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Sequence

import numpy as np

from edge_predict import InputError
from edge_predict.authoring import NUMBER, names_a_column, parse_number, shown, split_fields

from .data import Table
from .tasks import encode


# A gap in a training table: an empty field, or what R and spreadsheets write for one. 'nan' is refused as a number
# that is not finite (as before): a gap is written as nothing.
GAPS = ("", "NA", "N/A", "null")
# A text (or declared integer) column with at least this share of distinct values among its rows, and more than
# MIN_ID_VALUES of them, is a name or an ID: one category per row teaches nothing and adds a column per row.
ID_SHARE, MIN_ID_VALUES = 0.5, 10


def read_table(
    path: str | Path,
    label: str | None = None,
    drop: Sequence[str] = (),
    task: str = "auto",
    categorical: Sequence[str] = (),
    numeric: Sequence[str] = (),
) -> Table:
    """Read a CSV table; `label` is a header name or a column number from 1 (default: the last column).

    Columns in `drop` (names or numbers, e.g. an ID) are neither features nor read. The first line is a
    header when a column is named (label or drop) or when one of its feature fields is not a number;
    without one the features are x0, x1, ... Blank lines are skipped; '#' lines as `_hash_rows` says, so that no
    row is ever dropped silently. `task` (auto, binary, multiclass, regression) decides how the label column is read.

    A table of numbers without gaps is read as it always was. Otherwise (text in a column, a gap, `categorical`
    columns: integer codes) the Table holds the raw rows and the encoding fitted to them (typed_table).
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
    declared = {
        option: {_column_index(c, header, width, path, option) for c in columns}
        for option, columns in (("--categorical", categorical), ("--numeric", numeric))
    }
    for option, columns in declared.items():
        if bad := sorted(columns - set(features)):
            raise InputError(f"{path}: {option} {names[bad[0]]!r} is not a feature column (the label, or dropped)")
    if both := sorted(declared["--categorical"] & declared["--numeric"]):
        raise InputError(f"{path}: column {names[both[0]]!r} is given to both --categorical and --numeric")
    kinds = _kinds(rows, width, features, declared, path)
    if kinds is not None:
        return typed_table(path, header, names, rows, features, target, kinds, task, lines[0][0])
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


def _kinds(rows, width, features, declared, path) -> dict[int, str] | None:
    """Per feature column "number", "text" or "integer" when the table needs the typed reader (a gap, a column without
    a number, a declared category); None when it is numbers only, read as it always was. A column of numbers and text
    is numbers with a bad value: the reader refuses it naming the value."""
    gaps, text, numbers = set(), set(), set()
    for _, line in rows:
        try:
            fields = split_fields(line)
        except InputError:
            return None  # the reader refuses the line, naming it
        if len(fields) != width:
            return None
        for j in features:
            value = fields[j].strip()
            if value in GAPS:
                gaps.add(j)
            elif NUMBER.fullmatch(value):
                numbers.add(j)
            else:
                text.add(j)
    forced = declared["--numeric"]
    kinds = {
        j: "integer"
        if j in declared["--categorical"]
        else "text"
        if j in text and j not in numbers and j not in forced
        else "number"
        for j in features
    }
    if not gaps and not declared["--categorical"] and all(kind == "number" for kind in kinds.values()):
        return None
    return kinds


def typed_table(path, header, names, rows, features, target, kinds, task, header_line) -> Table:
    """A table with text or integer categories or gaps: the raw rows (None for a gap), the encoding fitted to them
    (trainer/encoding.py: sorted vocabularies; a gap imputed, where a column has one, by the median or the most
    frequent category) and x, the module's input it makes."""
    from .encoding import fit_encoding

    if header is None and any(kind == "text" for kind in kinds.values()):
        raise InputError(f"{path}: a table with text columns needs a header line naming its columns")
    raw: list[list] = []
    values, where = [], []
    for lineno, line in rows:
        place = f"{path} line {lineno}"
        fields = split_fields(line, place)
        row = []
        for j in features:
            field, at = fields[j].strip(), f"{place}, column {j + 1} ({names[j]})"
            if field in GAPS:
                row.append(None)
            elif kinds[j] == "text":
                row.append(field)
            else:
                number = parse_number(field, at)
                with np.errstate(over="ignore"):  # beyond float32 becomes inf, refused here with its line
                    finite = bool(np.isfinite(np.float32(number)))
                if not finite:
                    raise InputError(
                        f"{at}: {field!r} is not a finite float32 number; the model cannot be trained on it: fix the "
                        "value or remove the row (a gap is an empty field)"
                    )
                if kinds[j] == "integer":
                    if not float(number).is_integer():
                        raise InputError(f"{at}: {field!r} is not a whole number, which --categorical columns hold")
                    number = int(number)
                row.append(number)
        label = fields[target].strip()
        if label in GAPS:
            raise InputError(f"{place}: the label ({names[target]}) is missing; label the row or remove it")
        raw.append(row)
        values.append(label)
        where.append(place)
    columns = [list(c) for c in zip(*raw)]
    if header is not None:  # a header-less table whose first row has text in it reads as a header: refuse it
        for j, column in zip(features, columns):
            if kinds[j] == "text" and header[j] in column:
                raise InputError(
                    f"{path} line {header_line}: {header[j]!r} names column {j + 1} and is one of its values too, so "
                    "this line is a row, not a header; add a header line naming the columns"
                )
    for j, column in zip(features, columns):
        present = [v for v in column if v is not None]
        if not present:
            raise InputError(f"{path}: column {j + 1} ({names[j]}) has no values, only gaps; drop it with --drop")
        distinct = len(set(present))
        if kinds[j] != "number" and distinct > MIN_ID_VALUES and distinct >= ID_SHARE * len(present):
            shown_values = ", ".join(repr(v) for v in sorted(set(present), key=str)[:3])
            raise InputError(
                f"{path}: column {j + 1} ({names[j]}) has {distinct} different values in {len(present)} rows "
                f"({shown_values}, ...): a name or an ID, not a category to learn from; drop it with --drop {names[j]}"
            )
    feature_names = tuple(header[j] for j in features) if header else tuple(f"x{i}" for i in range(len(features)))
    encoding = fit_encoding(feature_names, [kinds[j] for j in features], columns)
    encoded = encode(values, where, task, f"the label column {target + 1} ({names[target]})", str(path))
    label_name = names[target] if header else "label"
    table = Table(
        encoding.transform(raw),
        encoded.y,
        feature_names,
        label_name,
        str(path),
        labels=encoded.labels,
        task=encoded.task,
        encoding=encoding,
        raw=_object_rows(raw),
    )
    if header:
        check_header(header, feature_names, table, f"{path} line {header_line}")
    return table


def _object_rows(raw: list[list]) -> np.ndarray:
    """Rows as a numpy object array (n, k): they split as x does."""
    array = np.empty((len(raw), len(raw[0])), object)
    for i, row in enumerate(raw):
        array[i, :] = row
    return array


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
