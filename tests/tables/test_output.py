"""Printed probabilities: every one reads back as exactly the float32 the model computed, shortest if possible."""

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from helpers import examples

from edge_predict.tables.reader import Batch
from edge_predict.tables._fast import numformat
from edge_predict.tables._fast.rowtext import csv_rows
from edge_predict.tables.writer import Writer, format_probabilities


def read_back(texts):
    """What a CSV or JSON reader gets: a float64, then the float32 the user compares."""
    return np.array([float(t) for t in texts], dtype=np.float64).astype(np.float32)


def all_float32_in(lo: float, hi: float, n: int, seed: int) -> np.ndarray:
    """n float32 bit patterns drawn uniformly between lo and hi (so every exponent is covered)."""
    bits = np.array([lo, hi], np.float32).view(np.uint32).astype(np.int64)
    return np.random.default_rng(seed).integers(bits[0], bits[1] + 1, n).astype(np.uint32).view(np.float32)


SPECIALS = np.array(
    [
        0.0,
        1.0,
        0.5,
        0.1,
        1e-4,
        9.99999e-5,
        1e-5,
        1e-30,
        1.4e-45,
        1.1754944e-38,
        np.nextafter(np.float32(1), np.float32(0)),
        np.nextafter(np.float32(1e-4), np.float32(1)),
    ],
    dtype=np.float32,
)


@pytest.mark.parametrize(
    "p",
    [
        SPECIALS,
        all_float32_in(0, 1, 200_000, 0),
        all_float32_in(1e-4, 1, 200_000, 1),
        (1 / (1 + np.exp(-np.linspace(-30, 30, 100_001)))).astype(np.float32),
    ],
    ids=["specials", "every exponent in [0, 1]", "[1e-4, 1)", "sigmoid outputs"],
)
def test_probabilities_read_back_exactly(p):
    np.testing.assert_array_equal(read_back(format_probabilities(p)), p)


def test_probabilities_are_the_shortest_that_read_back():
    p = all_float32_in(1e-4, 1, 100_000, 2)
    shortest = [np.format_float_positional(v, unique=True, trim="-") for v in p]  # numpy's Dragon4
    mismatched = [(a, b) for a, b in zip(format_probabilities(p), shortest) if len(a) > len(b)]
    assert mismatched == []


def vectorized(p: np.ndarray) -> list[str]:
    """format_probabilities through the arrays whatever the size (a few values are otherwise formatted one by one)."""
    saved, numformat.MIN_VALUES = numformat.MIN_VALUES, 0
    try:
        return format_probabilities(p)
    finally:
        numformat.MIN_VALUES = saved


@pytest.mark.parametrize(
    "p",
    [
        SPECIALS,
        -SPECIALS,
        all_float32_in(0, 1, 50_000, 3),
        all_float32_in(1e-4, 1, 50_000, 4),
        all_float32_in(1, 3e38, 20_000, 5),  # a regression's values
        np.float32([np.nan, np.inf, -np.inf, 3.4028235e38, -1.4e-45, 1e-4, 0.0001, 0.1, 0.3, 0.7, 0.9999999]),
    ],
    ids=["specials", "negated", "[0, 1]", "[1e-4, 1)", "[1, 3e38]", "edges"],
)
def test_a_few_values_are_printed_as_the_arrays_print_them(p):
    """The oracle: one value at a time (fewer than MIN_VALUES) gives the texts the vectorized path gives."""
    expected = vectorized(p)
    assert [format_probabilities(p[i : i + 1])[0] for i in range(len(p))] == expected
    for size in (1, 3, numformat.MIN_VALUES - 1):  # through the public calls, below the threshold
        assert format_probabilities(p[:size]) == expected[:size]
        got = numformat.probability_chars(p[:size]).view(f"S{numformat._WIDTH}").reshape(-1).astype(str).tolist()
        assert got == expected[:size]


@given(st.floats(width=32, allow_nan=False))
def test_any_float32_is_printed_alike_one_at_a_time(v):
    assert format_probabilities(np.float32([v])) == vectorized(np.float32([v]))


@pytest.mark.parametrize("p, text", [(0.0, "0"), (1.0, "1"), (0.5, "0.5"), (1e-5, "1e-05"), (0.4229534, "0.4229534")])
def test_probability_text(p, text):
    assert format_probabilities(np.float32([p])) == [text]


@given(st.floats(0, 1, width=32))
def test_any_probability_reads_back(p):
    assert read_back(format_probabilities(np.float32([p])))[0] == np.float32(p)


def test_csv_rows_echo_the_input_text():
    out = io.StringIO()
    batch = Batch(np.array([[1.0], [7.0]]), [("1",), ("7.00",)], [2, 3])
    Writer(out, "csv", ["hours"], ["probability", "label"]).write(
        batch, {"probability": np.float32([0.4229534, 0.9558091]), "label": np.array(["fail", "pass"])}
    )
    assert out.getvalue() == "hours,probability,label\n1,0.4229534,fail\n7.00,0.9558091,pass\n"


@pytest.mark.parametrize(
    "fields",
    [["1", "7.00", "1e-3"], ["1,2", "3.5,4", "-1e5,0"], ["é", "1", "2"]],
    ids=["one column", "two columns", "not ASCII: row by row"],
)
def test_csv_rows_match_row_by_row_formatting(fields):
    p = np.float32([0.4229534, 1.0, 1e-30])
    predicted = np.array([0, 1, 0])
    expected = "".join(
        f"{f},{t},{label}\n" for f, t, label in zip(fields, format_probabilities(p), ["no", "yes!", "no"])
    )
    out = io.StringIO()
    batch = Batch(np.zeros((3, 1)), [tuple(f.split(",")) for f in fields], [1, 2, 3])
    labels = np.array(["no", "yes!"])[predicted]
    Writer(out, "csv", ["a", "b"][: fields[0].count(",") + 1], ["probability", "label"]).write(
        batch, {"probability": p, "label": labels}
    )
    assert out.getvalue().split("\n", 1)[1] == expected


def test_csv_rows_on_many_random_rows_match_row_by_row():
    rng = np.random.default_rng(3)
    fields = ["".join(rng.choice(list("0123456789.e-"), n)) for n in rng.integers(1, 30, 10_000)]
    p = all_float32_in(0, 1, 10_000, 4)
    predicted = rng.integers(0, 2, 10_000)
    expected = "".join(
        f"{f},{t},{('fail', 'pass')[c]}\n" for f, t, c in zip(fields, format_probabilities(p), predicted)
    )
    assert (
        csv_rows("\n".join(fields) + "\n", {"probability": p, "label": np.array(["fail", "pass"])[predicted]})
        == expected
    )


def test_csv_rows_read_back_with_the_csv_module():
    """An oracle sharing no code with the writer: Python's csv module, float32 read-back, numpy's shortest text."""
    rng = np.random.default_rng(5)
    fields = ["".join(rng.choice(list("0123456789.e-"), n)) for n in rng.integers(1, 30, 10_000)]
    p = all_float32_in(0, 1, 10_000, 6)
    labels = np.array(["fail", "pass"])[rng.integers(0, 2, 10_000)]
    text = csv_rows("\n".join(fields) + "\n", {"probability": p, "label": labels})  # rows: the block's lines
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[0] for row in rows] == fields and [row[2] for row in rows] == labels.tolist()
    np.testing.assert_array_equal(read_back([row[1] for row in rows]), p)
    usual = p >= 1e-4  # there numpy's Dragon4 shortest positional text is the bound (tiny values print as 1e-05)
    shortest = [len(np.format_float_positional(v, unique=True, trim="-")) for v in p[usual]]
    assert all(len(row[1]) <= n for row, n in zip(np.asarray(rows, dtype=object)[usual], shortest))


LABEL_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(LABEL_TEXT, min_size=2, max_size=2, unique=True),
    st.lists(st.floats(0, 1, width=32), min_size=1, max_size=20),
)
def test_every_csv_we_write_reads_back_with_pythons_csv_module(labels, ps):
    """Labels with commas, quotes or line breaks stay one field each (RFC 4180 quoting)."""
    p = np.float32(ps)
    predicted = np.asarray(labels)[(p >= 0.5).astype(int)]
    texts = [(format_probabilities(np.float32([v]))[0],) for v in p]
    out = io.StringIO()
    Writer(out, "csv", ["x"], ["probability", "label"]).write(
        Batch(p.reshape(-1, 1), texts, list(range(len(p)))), {"probability": p, "label": predicted}
    )
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == ["x", "probability", "label"]
    assert [row[2] for row in rows[1:]] == predicted.tolist()
    assert np.array_equal(np.float32([float(row[1]) for row in rows[1:]]), p)
