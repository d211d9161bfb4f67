"""`edge-predict predict` on a typed model (helpers/typed.py): text fields in feature columns, missing fields, unseen
categories; the CSV, arguments and stdin paths; --keep-going row errors. The reference is Predictor on the values a
field stands for (docs/input.md), itself checked against onnxruntime in tests/scoring/test_typed.py."""

from __future__ import annotations

import csv
import io
import json
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_predict import Predictor
from edge_predict.cli import cli
from edge_predict.tables import reader
from edge_predict.tables.writer import Writer, format_probabilities
from helpers import examples, typed
from helpers.paths import small_blocks

HEADER = "hours,weight,island,sex,rating"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("typed") / "typed.onnx"
    path.write_bytes(typed.model_bytes())
    return path


@pytest.fixture(scope="module")
def predictor(model):
    return Predictor.from_path(model)


def run(runner, model, *args, input=None):
    return runner.invoke(cli, ["predict", "--model", str(model), *args], input=input)


def value(field: str, kind: str):
    """What a CSV field stands for, as docs/input.md says (written here without the runtime's code)."""
    if kind == "text":
        return field
    if field in ("", "nan", "NaN", "NA", "N/A", "null"):
        return None
    return float(field)


KINDS = ["number", "number", "text", "text", "code"]


def reference(predictor, lines: list[str]) -> list[str]:
    rows = [[value(f, k) for f, k in zip(next(csv.reader([line])), KINDS)] for line in lines]
    return format_probabilities(predictor.predict_table(rows)["probability"])


GOOD = [
    "1,0.5,Biscoe,female,1",
    ",2,NA,other,3.0",  # hours missing (imputed); 'NA' is the island; sex unseen (its bucket); 3.0 is the code 3
    "nan,1,Dream,male,NA",  # 'nan' hours and 'NA' rating are missing (imputed)
    "N/A,1,,male,null",
    '7.5,-1,"Torgersen",female,2',
    "0,3,null,female,",
]


def test_a_csv_with_text_fields_scores_as_predictor_scores_the_values(cli_runner, model, predictor):
    result = run(cli_runner, model, "--input", "-", "--format", "csv", input="\n".join([HEADER, *GOOD]) + "\n")
    assert result.exit_code == 0, result.output
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["probability"] for row in out] == reference(predictor, GOOD)
    assert [",".join(list(row.values())[:5]) for row in out] == [line.replace('"', "") for line in GOOD]


def test_columns_are_read_by_header_name_in_any_order_with_extra_columns(cli_runner, model, predictor):
    order = [4, 2, 0, 3, 1]
    names = HEADER.split(",")
    header = ",".join(["id", *(names[j] for j in order)])
    lines = [",".join([str(i), *(next(csv.reader([line]))[j] for j in order)]) for i, line in enumerate(GOOD)]
    result = run(cli_runner, model, "--input", "-", "--format", "csv", input="\n".join([header, *lines]) + "\n")
    assert result.exit_code == 0, result.output
    assert [row["probability"] for row in csv.DictReader(io.StringIO(result.stdout))] == reference(predictor, GOOD)


def test_a_headerless_csv_is_read_in_feature_order(cli_runner, model, predictor):
    result = run(cli_runner, model, "--input", "-", "--format", "csv", input="\n".join(GOOD) + "\n")
    assert result.exit_code == 0, result.output
    assert [row["probability"] for row in csv.DictReader(io.StringIO(result.stdout))] == reference(predictor, GOOD)


def test_arguments_hold_text_fields(cli_runner, model, predictor):
    result = run(cli_runner, model, "--format", "csv", *GOOD[:4])
    assert result.exit_code == 0, result.output
    assert [row["probability"] for row in csv.DictReader(io.StringIO(result.stdout))] == reference(predictor, GOOD[:4])


BAD = [
    (
        "1,1,Atlantis,male,1",
        "column 3 (island): 'Atlantis' is not a known category; expected one of 'Biscoe', 'Dream', 'Torgersen', 'NA'",
    ),
    ("1,,Dream,male,1", "column 2 (weight): '' is missing, and weight may not be missing; expected a finite number"),
    (
        "1,NA,Dream,male,1",
        "column 2 (weight): 'NA' is missing, and weight may not be missing; expected a finite number",
    ),
    ("1,1,Dream,NA,1", "column 4 (sex): 'NA' is missing, and sex may not be missing; expected one of 'female', 'male'"),
    ("1,1,Dream,,1", "column 4 (sex): '' is missing, and sex may not be missing; expected one of 'female', 'male'"),
    ("1,1,Dream,male,1.5", "column 5 (rating): '1.5' is not a whole number; expected an integer code, one of 1, 2, 3"),
    ("1,1,Dream,male,4", "column 5 (rating): '4' is not a known category; expected one of 1, 2, 3"),
    ("1,1,Dream,male,two", "column 5 (rating): 'two' is text, but rating takes integer codes; expected one of 1, 2, 3"),
    ("-1,1,Dream,male,1", "column 1 (hours): '-1' is outside the model's domain (expected >= 0)"),
    (
        "abc,1,Dream,male,1",
        "column 1 (hours): 'abc' is not a number (expected a decimal number such as 7, -0.5 or 2.5e3)",
    ),
    ("inf,1,Dream,male,1", "column 1 (hours): 'inf' is infinite; expected a finite number"),
]


@pytest.mark.parametrize("line, message", BAD)
def test_a_bad_field_stops_the_run_naming_its_line_and_column(cli_runner, model, line, message):
    result = run(cli_runner, model, "--input", "-", input="\n".join([HEADER, GOOD[0], line]) + "\n")
    assert result.exit_code == 2
    assert result.stderr == f"edge-predict: error: line 3, {message}\n"


@pytest.mark.parametrize("line, message", BAD)
def test_keep_going_writes_each_bad_row_in_its_place(cli_runner, model, predictor, line, message):
    lines = [GOOD[0], line, GOOD[1], line]
    result = run(cli_runner, model, "--input", "-", "-k", "--format", "csv", input="\n".join([HEADER, *lines]) + "\n")
    assert result.exit_code == 2
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["error"] for row in out] == ["", f"line 3, {message}", "", f"line 5, {message}"]
    assert [out[0]["probability"], out[2]["probability"]] == reference(predictor, [GOOD[0], GOOD[1]])
    assert result.stderr.splitlines()[:2] == [
        f"edge-predict: skipped line 3, {message}",
        f"edge-predict: skipped line 5, {message}",
    ]


def test_a_text_with_a_comma_stays_one_csv_field(cli_runner, model):
    result = run(cli_runner, model, "--input", "-", "--format", "csv", input=f'{HEADER}\n1,0.5,Biscoe,"fe, male",1\n')
    assert result.exit_code == 0, result.output
    assert next(csv.DictReader(io.StringIO(result.stdout)))["sex"] == "fe, male"


def test_json_carries_the_values_missing_ones_as_null(cli_runner, model):
    result = run(cli_runner, model, "--input", "-", "--format", "json", input=f"{HEADER}\n,1,NA,male,\n")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["input"] == {
        "hours": None,
        "weight": 1.0,
        "island": "NA",
        "sex": "male",
        "rating": None,
    }


FIELD = {
    "number": st.one_of(
        st.sampled_from(["", "nan", "NA", "N/A", "null", "-1", "abc", "inf"]), st.floats(0, 100).map(repr)
    ),
    "text": st.one_of(
        st.sampled_from([*typed.ISLANDS, *typed.SEXES, "", "NA", "null", "Atlantis"]), st.text("ab ,", max_size=4)
    ),
    "code": st.sampled_from(["1", "2", "3", "3.0", "1.5", "4", "", "NA", "x"]),
}


def _csv_line(fields):
    return ",".join(f'"{f}"' if "," in f or f != f.strip() else f for f in fields)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(*(FIELD[k] for k in KINDS)), min_size=1, max_size=8))
def test_any_rows_keep_going_give_predictors_answers_and_errors(cli_runner, model, predictor, rows):
    lines = [_csv_line(r) for r in rows]
    result = run(cli_runner, model, "--input", "-", "-k", "--format", "csv", input="\n".join([HEADER, *lines]) + "\n")
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(out) == len(lines)
    for line, row in zip(lines, out):
        fields = next(csv.reader([line]))
        try:
            values = [[value(f.strip(), k) for f, k in zip(fields, KINDS)]]
        except ValueError:  # not a number: the grammar's error
            assert row["error"] and row["probability"] == ""
            continue
        table, errors = predictor.score_rows(values)
        if errors:
            assert row["error"].endswith(errors[0].problem)
        else:
            assert row["probability"] == format_probabilities(table["probability"])[0]


@contextmanager
def line_path():
    """The reference: every block read line by line, every batch written row by row."""
    with (
        mock.patch.object(reader, "parse_block", lambda *args: None),
        mock.patch.object(Writer, "_whole_csv", lambda self, batch, outputs: None),
        mock.patch.object(Writer, "_whole_json", lambda self, batch, outputs: None),
    ):
        yield


def test_plain_typed_blocks_are_read_at_once_and_others_line_by_line(cli_runner, model):
    calls = []
    real = reader.parse_block
    plain = f"{HEADER}\n" + "".join(f"{i % 5}.5,-{i % 3},{typed.ISLANDS[i % 4]},male,{1 + i % 3}\n" for i in range(50))
    with mock.patch.object(reader, "parse_block", lambda *a: calls.append(real(*a)) or calls[-1]):
        assert run(cli_runner, model, "--input", "-", input=plain).exit_code == 0
        assert calls and all(block is not None for block in calls)
        calls.clear()
        assert run(cli_runner, model, "--input", "-", input=plain.replace("male", '"male"')).exit_code == 0
        assert calls and all(block is None for block in calls)


ODD = ["", "nan", "NA", "N/A", "null", "NaN", "inf", "-1", "1e3", "abc", "1.5", "3.0", "x y", "Atlantis", '"a,b"', "#1"]
CELL = {
    "number": st.one_of(st.sampled_from(ODD), st.floats(0, 100, width=32).map(repr)),
    "text": st.sampled_from([*typed.ISLANDS, *typed.SEXES, *ODD]),
    "code": st.sampled_from(["1", "2", "3", "3.0", "1.5", "4", *ODD]),
}


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.one_of(st.tuples(*(CELL[k] for k in KINDS)).map(",".join), st.sampled_from(["", "# note", "1,2"])),
        min_size=1,
        max_size=40,
    ),
    fmt=st.sampled_from(["csv", "json", "text"]),
    keep_going=st.booleans(),
    header=st.sampled_from([HEADER, "rating,sex,island,weight,hours", None]),
    block_chars=st.integers(16, 400),
)
def test_the_typed_block_path_answers_as_the_line_path(cli_runner, model, rows, fmt, keep_going, header, block_chars):
    text = "\n".join(([header] if header else []) + rows) + "\n"
    args = ["--input", "-", "--format", fmt] + (["-k"] if keep_going else [])
    with small_blocks(block_chars):
        got = run(cli_runner, model, *args, input=text)
        with line_path():
            expected = run(cli_runner, model, *args, input=text)
    assert (got.exit_code, got.stdout, got.stderr) == (expected.exit_code, expected.stdout, expected.stderr)
