"""The reader's fast path (whole blocks of plain numbers) reads exactly what the line-by-line path reads, and both
read what the input format says, by an oracle spelled out here that shares no code with the runtime."""

import io
import math
import re
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import examples

from edge_predict import InputError

from edge_predict.tables._fast import fastread
from edge_predict.tables.reader import (
    content_lines as _content_lines,
    header_order as _header_order,
    parse_rows,
    read_batches,
)
from helpers.paths import small_blocks

TOKENS = [
    "7",
    "0",
    "12.5",
    "+.5",
    "5.",
    "1e3",
    "2E-2",
    "-1",
    "1e400",
    "1e-400",
    "",
    "  ",
    "# note",
    " 3 ",
    "1.2.3",
    "nan",
    "inf",
    "e5",
    "1e",
    "+",
    "1,5",
    "1_0",
    "٣",
    "\t4\t",
    "0x1",
    "hours",
]


AGAIN = (
    "is a header again (it names every feature: 'hours'); were CSV files joined? The rows after it may hold the "
    "columns in another order: score each file on its own, or remove the repeated header lines"
)


def line_by_line(text: str):
    """The line path: the reader as it was before the fast path, every line through parse_rows (same messages)."""
    content = _content_lines(io.StringIO(text))
    first = next(content, None)
    if first is None:
        raise InputError("the input has no samples (it is empty or only blank/comment lines)")
    order = _header_order(first, ["hours"])
    rows = list(content) if order is not None else [first, *content]
    if not rows:
        raise InputError(f"line {first[0]}: a header but no samples after it")
    try:
        return parse_rows(rows, [0], ("column 1 (hours)",))
    except InputError as exc:
        if dict(rows)[exc.line].strip() == "hours":  # a header again (CSV files joined): the whole input's error
            raise InputError(f"line {exc.line} {AGAIN}") from None
        raise


def fast(text: str):
    batches = list(read_batches(io.StringIO(text), ["hours"]))
    values = np.concatenate([b.values for b in batches]) if batches else np.empty((0, 1))
    texts = [t for b in batches for t in b.texts]
    return values, texts, [w for b in batches for w in b.lines]


def outcome(read, text):
    try:
        batch = read(text)
    except InputError as exc:
        return str(exc)
    if isinstance(batch, tuple):
        values, texts, where = batch
    else:
        values, texts, where = batch.values, batch.texts, batch.lines
    return [repr(v) for v in values.ravel().tolist()], list(texts), list(where)  # repr: NaN equals NaN, -0.0 is kept


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30), st.booleans(), st.integers(2, 40))
def test_fast_path_reads_as_line_by_line(tokens, header, block_chars):
    text = ("hours\n" if header else "") + "\n".join(tokens) + "\n"
    with small_blocks(block_chars):
        got = outcome(fast, text)
    assert got == outcome(line_by_line, text)


@pytest.mark.parametrize(
    "text, where", [("hours\n1\n2\n", ["line 2", "line 3"]), ("1\n2", ["line 1", "line 2"]), ("# c\n\n7\n", ["line 3"])]
)
def test_plain_blocks_take_the_fast_path(text, where):
    with small_blocks(fastread.BLOCK_CHARS):  # a block of a few lines is otherwise read line by line
        batches = list(read_batches(io.StringIO(text), ["hours"]))  # a last line without a line break: its own batch
    assert all(isinstance(batch.texts, fastread.BlockTexts) for batch in batches)
    assert [batch.where(i) for batch in batches for i in range(len(batch.lines))] == where


# The documented grammar (docs/input.md), spelled out again: ASCII digits, an optional exponent, nan/inf in any case.
GRAMMAR = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(nan|inf|infinity)", re.IGNORECASE)


def spelled_out(text: str):
    """(values, line numbers) a one-feature reader must return for `text`, or the line of the first error (None
    for an input without samples): blank and '#' lines skipped, a first line starting with a letter that is not
    a number is the header and must be 'hours', every other line one number in GRAMMAR within float64."""
    content = [(n, line.strip(" \t\r\n")) for n, line in enumerate(text.split("\n"), start=1)]
    content = [(n, line) for n, line in content if line and not line.startswith("#")]
    if not content:
        return None
    if content[0][1][0].isalpha() and not GRAMMAR.fullmatch(content[0][1]):
        if content[0][1] != "hours" or len(content) == 1:
            return content[0][0]  # another column's name, or a header and no samples
        content = content[1:]
    for n, line in content:
        if not GRAMMAR.fullmatch(line) or (math.isinf(float(line)) and "n" not in line.lower()):
            return n
    return [repr(float(line)) for _, line in content], [n for n, _ in content]


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=30), st.booleans(), st.integers(2, 40))
def test_the_reader_reads_what_the_format_says(tokens, header, block_chars):
    text = ("hours\n" if header else "") + "\n".join(tokens) + "\n"
    expected = spelled_out(text)
    with small_blocks(block_chars):  # the line path is tested equal to this one above
        if isinstance(expected, tuple):
            got = outcome(fast, text)
            assert (got[0], got[2]) == expected
        else:
            with pytest.raises(InputError) as caught:
                fast(text)
            assert caught.value.line == expected
            again = rf"line {expected}([,:]| is a header again) "  # 'hours' after a row: CSV files joined
            assert re.match(again if expected else "the input has no samples", str(caught.value))


def test_an_error_stops_the_read_ahead_thread(cli_runner, model_path, monkeypatch):
    """A bad row stops the run: the thread reading ahead stops with it, at once, even while the error (and the
    frames under it) is still held, as CliRunner holds it. A thread left waiting went on reading and parsing
    blocks of the stream afterwards, in the same process."""
    from edge_predict.cli import cli

    monkeypatch.setattr(fastread, "BLOCK_CHARS", 64)  # many small blocks: the thread has more to read
    before = set(threading.enumerate())
    text = "hours\n" + "3.5\n" * 200 + "-1\n" + "3.5\n" * 20_000
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-"], input=text.encode())
    assert result.exit_code == 2 and "line 202" in result.stderr
    deadline = time.monotonic() + 2
    while set(threading.enumerate()) - before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) <= before


class Pieces(io.RawIOBase):
    """A stream whose reads return the given pieces, one each, as a pipe may."""

    def __init__(self, pieces):
        self.pieces = list(pieces)

    def readable(self):
        return True

    def read1(self, n=-1):
        return self.pieces.pop(0) if self.pieces else b""

    read = read1


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfa\r\nb\rc\nd\r\r\ne\xc3\xa9\r", b"\r\n\r\n\r\r\n\n", b"1\r2\r"])
def test_line_ends_read_as_universal_newlines_whatever_the_reads(data):
    """Every way of cutting the bytes into two or three reads gives the text open() would give."""
    expected = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    n = len(data)
    for i in range(n + 1):
        for j in range(i, n + 1):
            pieces = [p for p in (data[:i], data[i:j], data[j:]) if p]
            assert "".join(fastread.text_chunks(Pieces(pieces))) == expected, (i, j)
