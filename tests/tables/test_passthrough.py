"""Columns beyond the model's features are passed through to the output unchanged: an ID survives scoring."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import examples

from edge_predict.cli import cli

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff#"), max_size=10)


def run(cli_runner, model_path, text, fmt="csv"):
    return cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-", "-f", fmt], input=text)


def write_csv(rows) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(TEXT, st.integers(0, 100), TEXT), min_size=1, max_size=8), st.permutations([0, 1, 2]))
def test_extra_columns_come_back_unchanged_in_any_order(cli_runner, model_path, rows, order):
    header = ["id", "hours", "note"]
    table = [[header[j] for j in order]] + [[str([a, h, b][j]) for j in order] for a, h, b in rows]
    result = run(cli_runner, model_path, write_csv(table))
    assert result.exit_code == 0, result.stderr
    out = list(csv.reader(io.StringIO(result.stdout)))  # an independent reader: Python's csv module
    extra = [h for h in (header[j] for j in order) if h != "hours"]
    assert out[0] == ["hours", *extra, "probability", "label"]
    expected = [[str(h), *(dict(id=a, note=b)[name] for name in extra)] for a, h, b in rows]
    assert [row[:3] for row in out[1:]] == expected


def test_json_carries_extra_columns_apart_from_the_features(cli_runner, model_path):
    result = run(cli_runner, model_path, 'name,hours\n"Smith, John",7\n', "json")
    record = json.loads(result.stdout)
    assert record["input"] == {"hours": 7.0} and record["extra"] == {"name": "Smith, John"}


def test_quoted_feature_values_keep_the_number_grammar(cli_runner, model_path):
    assert run(cli_runner, model_path, 'id,hours\na,"7"\n').exit_code == 0
    result = run(cli_runner, model_path, 'id,hours\na,"1,5"\n')
    assert result.exit_code == 2 and "line 2, column 2 (hours): '1,5' is not a number" in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("id,hours\n1\n", "line 2: 1 columns, but the header has 2"),
        ("id,Hours\n1,2\n", "line 1: the header has no column 'hours' (its other columns: 'id, Hours')"),
    ],
)
def test_a_missing_feature_or_a_short_row_is_named(cli_runner, model_path, text, message):
    result = run(cli_runner, model_path, text)
    assert result.exit_code == 2 and message in result.stderr


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(min_size=1, max_size=6),
    st.sampled_from(["header", "field"]),
    st.sampled_from(["csv", "json", "text"]),
    st.booleans(),
)
@pytest.mark.slow
def test_bytes_that_are_not_utf8_in_a_passed_through_column_are_named(model_path, raw, where, fmt, keep_going):
    """Output stays UTF-8 text: a pass-through field or header name that is not UTF-8 is an input error (exit 2),
    never written back as something else and never an unexpected error."""
    import subprocess
    import sys

    name, field = (raw, b"x") if where == "header" else (b"id", raw)
    data = (
        b"hours,"
        + name.replace(b"\n", b"").replace(b"\r", b"")
        + b"\n1,"
        + field.replace(b"\n", b"").replace(b"\r", b"")
        + b"\n7,ok\n"
    )
    args = ["-k"] if keep_going else []
    run = subprocess.run(
        [sys.executable, "-m", "edge_predict.cli", "predict", "-m", str(model_path), "-i", "-", "-f", fmt, *args],
        input=data,
        capture_output=True,
    )
    stdout = run.stdout.decode("utf-8")  # always UTF-8, whatever came in
    stderr = run.stderr.decode("utf-8")
    assert "a bug in edge-predict" not in stderr and "Traceback" not in stderr
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    if not utf8:
        assert run.returncode == 2 and (
            "bytes that are not UTF-8" in stderr or "a quoted field is not closed" in stderr
        )
        if where == "header" or not keep_going:
            assert stdout == ""


@pytest.mark.parametrize(
    "text, line",
    [
        ('hours,note\n1,"a\nb"\n2,x\n', 2),
        ('hours,note\n1,"a" b\n', 2),
        ('hours,"note\n1,a\n', 1),
        ('hours,note\n3,ok\n1,"unclosed\n', 3),
    ],
)
def test_a_quoted_field_that_does_not_end_on_its_line_is_named(cli_runner, model_path, text, line):
    """Read leniently, '1,"a' is ['1', 'a']: a note spanning two lines would lose its rest with exit 0."""
    for keep in ([], ["-k"]):
        result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-", "-f", "csv", *keep], input=text)
        assert result.exit_code == 2
        assert (
            f"line {line}: a quoted field is not closed on its line, or text follows its closing quote" in result.stderr
        )
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert all(r[1] in ("ok", "x", "") for r in rows[1:])  # nothing cut short is ever written as a note


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.from_regex(r"#[a-z0-9 ]{0,6}", fullmatch=True), st.integers(0, 50)), min_size=1, max_size=6),
    st.booleans(),
)
def test_a_row_whose_first_field_starts_with_hash_is_data(cli_runner, model_path, rows, id_first):
    """'#' starts a comment line, but a line that reads as a whole row (a note '#a' then the hours) is a row:
    dropping it would lose a sample with exit 0. A real comment beside it is still skipped."""
    header = ["note", "hours"] if id_first else ["hours", "note"]
    table = [header] + [[n, str(h)] if id_first else [str(h), n] for n, h in rows]
    text = write_csv(table[:1]) + "# a comment line\n" + write_csv(table[1:])
    result = run(cli_runner, model_path, text)
    assert result.exit_code == 0, result.stderr
    out = list(csv.reader(io.StringIO(result.stdout)))
    assert [(r[1], int(r[0])) for r in out[1:]] == [(n, h) for n, h in rows]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.from_regex(r"#[a-z0-9]{0,6}", fullmatch=True), st.sampled_from(["3", "x", "", "nan", "1e999"])),
        min_size=1,
        max_size=6,
    )
)
def test_a_hash_row_of_the_header_width_is_scored_or_refused_never_skipped(cli_runner, model_path, rows):
    """With an ID column, '#1234,x' is a bad row: --keep-going writes it with its error, in place, and exits 2;
    skipped as a comment it would vanish with exit 0. A '#' line of another width is still a comment."""
    text = "id,hours\n# a comment, with, commas\n" + "".join(f"{i},{h}\n" for i, h in rows)
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-", "-f", "csv", "-k"], input=text)
    out = list(csv.reader(io.StringIO(result.stdout)))
    assert len(out) == 1 + len(rows)  # one output row per input row; a bad one is empty but for its error
    assert [r[1] for r in out[1:] if not r[-1]] == [i for i, h in rows if h == "3"]  # hours, id, ..., error
    bad = [h for _, h in rows if h != "3"]
    assert result.exit_code == (2 if bad else 0), result.stderr
    assert [r[-1] != "" for r in out[1:]] == [h != "3" for _, h in rows]  # the error column names the bad ones
    assert result.stderr.count("edge-predict: skipped") == len(bad)


@pytest.mark.parametrize("tail", [" ", "\t", "  \t "])
def test_spaces_after_a_last_closing_quote_are_dropped_as_edge_train_drops_them(cli_runner, model_path, tmp_path, tail):
    from edge_predict.trainer.table import read_table

    text = f'hours,note,passed\n1,"a, b"{tail}\n2,"c"{tail}\n'.replace(",passed", "")
    result = run(cli_runner, model_path, text)
    assert result.exit_code == 0, result.stderr
    assert [r[1] for r in csv.reader(io.StringIO(result.stdout))][1:] == ["a, b", "c"]
    table = tmp_path / "t.csv"
    table.write_text(f'hours,passed\n1,"no, never"{tail}\n2,"yes"{tail}\n')
    assert sorted(read_table(table, label="passed").labels) == ["no, never", "yes"]


@pytest.mark.parametrize("encoding", ["latin-1", "ascii"])
def test_output_is_utf8_as_the_input_is_whatever_the_locale(model_path, encoding):
    """Before: with a latin-1 stdout 'é' was written as the byte 0xE9 (a UTF-8 reader reads something else, exit 0);
    with an ASCII one the run failed halfway ('unexpected UnicodeEncodeError')."""
    done = subprocess.run(
        [Path(sys.executable).with_name("edge-predict"), "predict", "-m", model_path, "-i", "-", "-f", "csv"],
        input="id,hours\né😀,1\n".encode(),
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": encoding},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8").splitlines()[1].startswith("1,é😀,")
