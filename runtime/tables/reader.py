"""Reading samples from text (CSV or bare numbers, a file or the command line) in batches."""

from __future__ import annotations

import itertools
from typing import IO, Callable, Iterable, Iterator, Sequence

from edge_predict.errors import InputError
from edge_predict.tables._fast.blockparse import parse_block, pays
from edge_predict.tables._fast.fastread import (
    MAX_LINE_CHARS,
    BlockTexts,
    ahead,
    line_too_long,
    text_chunks,
    whole_lines,
)
from edge_predict.tables.grammar import NOT_UTF8, SPACE, names_a_column, not_utf8, shown
from edge_predict.tables._rows import Batch, parse_rows, split_fields

CHUNK_ROWS = 65536  # rows per batch on the line path: memory stays flat, numpy calls stay large


def samples_from_args(
    values: Sequence[str], feature_names: Sequence[str], keep: bool = False, kinds: Sequence[str] | None = None
) -> Batch:
    """Command-line samples: one value each for a one-feature model, else 'v1,v2,...' each; `kinds` as for
    read_batches."""
    k = len(feature_names)
    # One feature: no splitting, so '1,5' is one bad number (a locale decimal), not two columns.
    return parse_rows(
        enumerate(values, start=1), range(k), feature_names, keep, split=k > 1, kind="argument", kinds=kinds
    )


def read_batches(
    stream: IO,
    feature_names: Sequence[str],
    chunk_rows: int = CHUNK_ROWS,
    keep: bool = False,
    reserved: Sequence[str] = (),
    json: bool = False,
    kinds: Sequence[str] | None = None,
) -> Iterator[Batch]:
    """Samples from a stream (binary, read as UTF-8, or text), a block at a time: memory stays flat on any size,
    and a line that arrives alone on a pipe is a batch of its own at once.

    CSV with a header naming the model's features (any order; other columns are passed through, and may not be
    named as one of `reserved`, the output's columns), or header-less rows in feature order;
    blank and '#' lines skipped (unless a '#' line reads as a whole row). A bad row raises InputError, or with `keep`
    stays in place with its error. With `json`, blocks also carry their values' JSON texts (Block.json_chars).
    With `kinds` (grammar.field_kinds: a typed model's numbers, integer codes and texts) plain blocks are read at
    once (_fast.typedblock), others line by line, and the first line is a header when it names a feature (a text
    category may start with a letter).
    """
    blocks = whole_lines(text_chunks(stream), keep=keep)
    first, raw, rest = _first_line(blocks, feature_names)
    header = header_order(first, feature_names, reserved, typed=kinds is not None)
    if header is None:  # no header: the first line is a sample, read with the rest of its block
        rest = (first[0], raw + rest[1])
    order, extra = header or (list(range(len(feature_names))), {})
    columns = tuple(f"column {j + 1} ({name})" for j, name in zip(order, feature_names))
    layout = (len(order) + len(extra), sorted(order)) if extra else None  # pass-through columns among them
    file_kinds = None if kinds is None else [kinds[order.index(j)] for j in sorted(order)]  # in the file's order
    seen = False

    def is_row(text: str) -> bool:
        """A '#' line with as many fields as the header is a row (an ID such as '#1234' first), scored or refused
        as any row is: a bad one skipped as a comment would vanish with exit 0. Any other '#' line is a comment."""
        try:
            return len(split_fields(text)) == len(order) + len(extra)
        except InputError:  # an unclosed quote: a comment's text
            return False

    def parse(item: tuple[int, str]):
        if not pays(item[1], len(order) + len(extra)):  # a few lines, as a device writes them: line by line
            return None
        return parse_block(item[1], len(order), layout, json and not extra, file_kinds)  # with extra: JSON row by row

    for (start, text), block in itertools.chain([(rest, parse(rest))], ahead(blocks, parse)):
        if block is not None:
            seen = True
            texts = BlockTexts(text, order, block, list(extra))
            values = block.values if texts.columns == sorted(texts.columns) else block.values[:, texts.columns]
            lines = range(start, start + len(values))
            yield Batch(values, texts, lines, "line", columns, extra=tuple(extra.values()), block=texts)
            continue
        # anything unusual: line by line, as defined; a '#' line that reads as a whole row is data, not a comment,
        # and one naming every feature a header again
        content = content_lines(
            text.split("\n")[:-1],
            start,
            lambda line: names_every_feature(line, feature_names) or (extra and is_row(line)),
        )
        for chunk in iter(lambda: list(itertools.islice(content, chunk_rows)), []):
            seen = True
            try:
                batch = parse_rows(chunk, order, columns, keep, extra=extra, kinds=kinds)
            except InputError as exc:
                raise _header_again(chunk, [exc.line], feature_names) or exc from None
            again = _header_again(chunk, [batch.lines[i] for i in sorted(batch.errors)], feature_names)
            if again is not None:  # the rows before it are answered, then the run stops
                if batch.lines[0] != again.line:
                    yield batch.head(batch.lines.index(again.line))
                raise again
            if len(batch.lines):
                yield batch
    if not seen:
        raise InputError(f"line {first[0]}: a header but no samples after it", line=first[0])


def _header_again(chunk: list[tuple[int, str]], bad: Sequence[int], feature_names: Sequence[str]) -> InputError | None:
    """The error for the first of the `bad` lines (which did not parse) that names every feature: a header again, as
    in CSV files joined together. Skipped as a bad row (--keep-going), it left the rows after it read in the first
    header's column order."""
    texts = dict(chunk)
    for lineno in bad:
        if names_every_feature(texts[lineno], feature_names):
            return InputError(
                f"line {lineno} is a header again (it names every feature: {shown(', '.join(feature_names))}); were "
                "CSV files joined? The rows after it may hold the columns in another order: score each file on its "
                "own, or remove the repeated header lines",
                line=lineno,
            )
    return None


def names_every_feature(line: str, feature_names: Sequence[str]) -> bool:
    """True if the fields of `line` include every feature's name: a header, even one whose first name starts with '#'
    ('# rooms,area'), which would otherwise be skipped as a comment and the rows read in the model's column order."""
    try:
        fields = {field.strip(SPACE) for field in split_fields(line)}
    except InputError:  # an unclosed quote
        return False
    return all(name in fields for name in feature_names)


def _first_line(
    blocks: Iterator[tuple[int, str]], feature_names: Sequence[str]
) -> tuple[tuple[int, str], str, tuple[int, str]]:
    """The first line that is not blank or a comment as (number, stripped text), its raw text, and the rest
    of its block as (number of its first line, text). A '#' line naming every feature is a header, not a comment."""
    for start, text in blocks:
        pos = 0
        for number, line in enumerate(text.split("\n")[:-1], start=start):
            stripped = next(content_lines([line], number, lambda row: names_every_feature(row, feature_names)), None)
            pos += len(line) + 1
            if stripped is not None:
                return stripped, line + "\n", (number + 1, text[pos:])
    raise InputError("the input has no samples (it is empty or only blank/comment lines)")


def header_order(
    first: tuple[int, str], feature_names: Sequence[str], reserved: Sequence[str] = (), typed: bool = False
) -> tuple[list[int], dict[int, str]] | None:
    """If `first` is a header: the column index of each feature, and {index: name} of the other columns (passed
    through to the output); None if it is data. A line is a header when a field names a column (starts with a
    letter, not a number); for a `typed` model, whose rows may hold text, when a field is a feature's name."""
    lineno, line = first
    fields = [f.strip(SPACE) for f in split_fields(line, f"line {lineno}")]
    if typed and not set(fields) & set(feature_names):
        return None
    if not any(map(names_a_column, fields)):
        if set(feature_names) <= set(fields):  # a model exported before such names were refused: '450,400'
            raise InputError(
                f"line {lineno}: {shown(line.strip(SPACE))} names every feature of this model, whose names read as "
                f"numbers ({shown(', '.join(feature_names))}), so it may be a header or a row of data; re-export the "
                "model with feature names that start with a letter",
                line=lineno,
            )
        return None  # data; a bad number in it is reported as such
    if NOT_UTF8.search(line):
        raise InputError(str(not_utf8(f"line {lineno}: the header", line)), line=lineno)
    missing = [name for name in feature_names if name not in fields]
    extra = {j: name for j, name in enumerate(fields) if name not in feature_names}
    if missing:
        raise InputError(
            f"line {lineno}: the header has no column {', '.join(map(repr, missing))} (its other "
            f"columns: {shown(', '.join(extra.values())) if extra else 'none'}); the model reads its "
            f"features by name: {', '.join(feature_names)}",
            line=lineno,
        )
    twice = [name for name in fields if fields.count(name) > 1]
    clash = [name for name in extra.values() if name in reserved]
    if twice or clash:
        what = f"names column {twice[0]!r} twice" if twice else f"has a column {clash[0]!r}, which the output adds too"
        raise InputError(f"line {lineno}: the header {what}; rename or drop it", line=lineno)
    return [fields.index(name) for name in feature_names], extra


def content_lines(
    lines: Iterable[str], start: int = 1, is_row: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, str]]:
    """(line number, text without its line break) of every line that is not blank or a '#' comment (a line
    starting with '#' that is_row accepts is data: with pass-through columns, '#a,1' is a row)."""
    for n, line in enumerate(lines, start=start):
        if len(line) > MAX_LINE_CHARS and len(line.rstrip("\n")) > MAX_LINE_CHARS:  # whole_lines refuses these first
            raise line_too_long(n)
        text = line.rstrip("\r\n")  # fields are stripped one by one: a pass-through column keeps its spaces
        if n == 1:
            text = text.lstrip("\ufeff")  # a BOM the stream's decoder did not remove
        bare = text.strip(SPACE)
        if bare and (bare[0] != "#" or (is_row is not None and is_row(text))):
            yield n, text if "," in text else bare
