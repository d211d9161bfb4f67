"""The block reader (numpy over whole blocks) reads exactly what the line-by-line reader reads, errors included."""

import io
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import examples

from edge_predict import InputError

from edge_predict.tables._fast import blockparse, fastread
from edge_predict.tables._fast.blockparse import parse_block
from edge_predict.tables.reader import content_lines, header_order, parse_rows, read_batches, split_fields
from edge_predict.tables.writer import Writer
from helpers.paths import small_blocks

NAMES = ["a", "b", "c"]
NUMBERS = [
    "7",
    "0",
    "-0",
    "12.5",
    "+.5",
    "5.",
    "-.25",
    "007.50",
    "1e3",
    "2E-2",
    "-1.5e+2",
    "1e22",
    "1e23",
    "1e-400",
    "123456789012345",
    "1234567890123456",
    "0.1234567890123456789",
    "9007199254740993",
    "4.35e-21",
    "99999999.99999999",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "0.00001",
]
BAD = [
    "",
    "  ",
    " 3 ",
    "1e400",
    "-1e400",
    "1.2.3",
    "nan",
    "-inf",
    "e5",
    "1e",
    "1e+",
    "+",
    "-",
    ".",
    "+-1",
    "1-",
    "5e5.5",
    "1e5e5",
    "1_0",
    "٣",
    "\t4",
    "0x1",
    "a",
    "1,5",
]
GRAMMAR = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def line_by_line(text: str, names, keep=False):
    """The reference: every line through the line reader's parse_rows."""
    content = content_lines(io.StringIO(text))
    first = next(content, None)
    if first is None:
        raise InputError("the input has no samples (it is empty or only blank/comment lines)")
    header = header_order(first, names)
    rows = list(content) if header is not None else [first, *content]
    if not rows:
        raise InputError(f"line {first[0]}: a header but no samples after it", line=first[0])
    order, extra = header or (list(range(len(names))), {})
    columns = tuple(f"column {j + 1} ({name})" for j, name in zip(order, names))
    try:
        batch = parse_rows(rows, order, columns, keep, extra=extra)
    except InputError as exc:
        header_again(dict(rows)[exc.line], exc.line, names)
        raise
    for row in sorted(batch.errors):
        header_again(rows[row][1], rows[row][0], names)
    return [batch]


def header_again(line: str, lineno: int, names) -> None:
    """A line that did not parse and names every feature stops the reader (CSV files joined: docs/input.md)."""
    try:
        fields = {f.strip(" \t") for f in split_fields(line)}
    except InputError:  # an unclosed quote: a bad row
        return
    if set(names) <= fields:
        raise InputError(
            f"line {lineno} is a header again (it names every feature: {', '.join(names)!r}); were CSV files joined? "
            "The rows after it may hold the columns in another order: score each file on its own, or remove the "
            "repeated header lines",
            line=lineno,
        )


def by_blocks(text: str, names, keep=False, binary=False, json=False):
    stream = io.BytesIO(text.encode("utf-8", "surrogateescape")) if binary else io.StringIO(text)
    return list(read_batches(stream, names, keep=keep, json=json))


def outcome(read, text, names, keep, **options):
    """What a reader makes of `text`: values, texts, places and (with keep) each bad row's error, or the error."""
    try:
        batches = read(text, names, keep, **options)
    except InputError as exc:
        return str(exc), exc.line
    values = [repr(v) for b in batches for v in b.values.ravel().tolist()]  # repr: -0.0 and nan kept apart
    texts = [tuple(t) for b in batches for t in b.texts]
    errors = [(b.where(row), str(e), e.line) for b in batches for row, e in sorted(b.errors.items())]
    return values, texts, [b.where(i) for b in batches for i in range(len(b.lines))], errors


def row_of(tokens, k, shape):
    if shape == "short":
        return ",".join(tokens[: k - 1])
    if shape == "long":
        return ",".join(tokens[:k] + ["1"])
    return ",".join(tokens[:k])


rows = st.tuples(
    st.lists(st.sampled_from(NUMBERS + BAD[:2]) | st.sampled_from(BAD), min_size=3, max_size=3),
    st.sampled_from(["ok"] * 8 + ["short", "long", "blank", "comment"]),
)


@settings(max_examples=examples(400), deadline=None)
@given(
    st.integers(1, 3),
    st.lists(rows, min_size=1, max_size=25),
    st.sampled_from(["none", "same", "shuffled"]),
    st.booleans(),
    st.integers(4, 60),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_blocks_read_as_line_by_line(k, lines, header, keep_going, block_chars, newline, binary):
    names = NAMES[:k]
    head = {"none": [], "same": [",".join(names)], "shuffled": [",".join(reversed(names))]}[header]
    body = [{"blank": "", "comment": "# note"}.get(shape) or row_of(tokens, k, shape) for tokens, shape in lines]
    text = newline.join(head + body) + newline
    with small_blocks(block_chars):
        got = outcome(by_blocks, text, names, keep_going, binary=binary)
    assert got == outcome(line_by_line, text.replace("\r\n", "\n"), names, keep_going)


@settings(max_examples=examples(300), deadline=None)
@given(
    st.integers(1, 4),
    st.lists(
        st.lists(
            st.sampled_from(NUMBERS + BAD) | st.from_regex(r"[-+0-9.eE]{1,8}", fullmatch=True), min_size=1, max_size=5
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_parse_block_is_float_or_none(k, lines):
    """Values exactly float(text) where every field is in the grammar and finite, else None."""
    text = "\n".join(",".join(fields) for fields in lines) + "\n"
    lines = [line.split(",") for line in text.split("\n")[:-1]]  # a token may hold a comma: the text decides
    try:
        expected = [[float(t) for t in fields] for fields in lines]
        ok = all(len(f) == k and all(GRAMMAR.fullmatch(t) for t in f) for f in lines) and np.isfinite(expected).all()
    except ValueError:
        ok = False
    got = parse_block(text, k)
    got = None if got is None else got.values
    if not ok:
        assert got is None
    else:
        assert got is not None and [[repr(v) for v in row] for row in got.tolist()] == [
            [repr(v) for v in row] for row in expected
        ]


@pytest.mark.parametrize("text", ["1,2\n3,4\n", "-1.5,+2e3\n.5,5.\n", "0.1234,-0.0001\n"])
def test_plain_blocks_take_the_block_path(text):
    with small_blocks(fastread.BLOCK_CHARS):
        (batch,) = read_batches(io.StringIO(text), ["a", "b"])
    assert isinstance(batch.texts, fastread.BlockTexts)


@pytest.mark.parametrize("lines", [1, blockparse.MIN_FIELDS // 2 - 1, blockparse.MIN_FIELDS // 2])
def test_a_block_of_few_fields_is_read_line_by_line(lines):
    """A device's line at a time on a pipe: fewer than MIN_FIELDS fields are not worth the block's setup; the
    values are the same either way."""
    text = "".join(f"{i}.5,-{i}e-3\n" for i in range(lines))
    (batch,) = read_batches(io.StringIO(text), ["a", "b"])
    with small_blocks(fastread.BLOCK_CHARS):
        (block,) = read_batches(io.StringIO(text), ["a", "b"])
    assert isinstance(batch.texts, fastread.BlockTexts) == (2 * lines >= blockparse.MIN_FIELDS)
    assert isinstance(block.texts, fastread.BlockTexts)
    np.testing.assert_array_equal(batch.values, block.values)


@pytest.mark.parametrize("text", ["1, 2\n", "1,2\n\n3,4\n", "# c\n1,2\n3,nan\n", "1,2\r\n"])
def test_unusual_blocks_are_read_line_by_line(text):
    batches = list(read_batches(io.StringIO("a,b\n" + text), ["a", "b"]))
    assert batches and not any(isinstance(batch.texts, fastread.BlockTexts) for batch in batches)


PLAIN = [
    "7",
    "-0",
    "12.5",
    "+.5",
    "5.",
    "-.25",
    "007.50",
    "1e3",
    "-1.5e+2",
    "0.00001",
    "123456789012345",
    "0.1234567890123456789",
    "100",
    "0.0001",
    "3.0000",
]


@settings(max_examples=examples(200), deadline=None)
@given(
    st.integers(1, 3),
    st.lists(st.lists(st.sampled_from(PLAIN), min_size=3, max_size=3), min_size=1, max_size=20),
    st.booleans(),
    st.sampled_from(["csv", "json", "text"]),
    st.booleans(),
)
def test_blocks_are_written_as_line_by_line(k, rows, shuffled, fmt, keep_going):
    """The writer's whole-block CSV and JSON text equals what it writes for the same rows read line by line."""
    names = NAMES[:k]
    header = ",".join(reversed(names) if shuffled else names)
    text = header + "\n" + "".join(",".join(row[:k]) + "\n" for row in rows)
    outputs = {
        "probability": np.linspace(0.01, 0.99, len(rows)).astype(np.float32),
        "label": np.array(["no", "yes"])[np.arange(len(rows)) % 2],
    }
    with small_blocks(fastread.BLOCK_CHARS):  # however few the rows: the block path and the whole-batch writer
        (block,) = by_blocks(text, names, json=fmt == "json")  # as the CLI reads: the values' JSON texts for json
        assert isinstance(block.texts, fastread.BlockTexts)
        assert (block.texts.block.json_chars is not None) == (fmt == "json")
        expected = written(block, names, outputs, fmt, keep_going)
    (lines,) = line_by_line(text, names)
    assert not isinstance(lines.texts, fastread.BlockTexts)
    assert written(lines, names, outputs, fmt, keep_going) == expected


def written(batch, names, outputs, fmt, keep_going) -> str:
    out = io.StringIO()
    Writer(out, fmt, names, list(outputs), errors=keep_going).write(batch, outputs, {})
    return out.getvalue()


JSON_CASES = ["3.0000", "12.50", "-100.000", "5.", "+.5", "-.25", "-0", "0.0", "100", "0.0001", "0.00001", "007.50"]
JSON_CASES += ["05.25", "-01", "00", "99999999", "1234567.", "0.1", "-0.000", "1e3", "0.1234567890123456789"]


@pytest.mark.parametrize(
    "column",
    [[t] for t in JSON_CASES] + [JSON_CASES[:10], JSON_CASES[:12], JSON_CASES],
    ids=[*JSON_CASES, "short decimals", "with leading zeros and tiny ones", "with an exponent and many digits"],
)
def test_a_blocks_json_texts_are_the_repr_of_its_values(column):
    """What --format json prints of a block read whole: repr() of each value (3.0000 -> 3.0, -0 -> -0.0)."""
    block = parse_block("".join(f"{t},{t}\n" for t in column), 2, json=True)
    texts = [bytes(row).replace(b"\0", b"").decode() for row in block.json_chars]  # NULs pad
    assert texts == [repr(float(t)) for t in column for _ in range(2)]
