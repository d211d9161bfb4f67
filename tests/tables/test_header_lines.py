"""Header lines the reader must not take for anything else: a header again mid-file (CSV files joined together)
stops the run, even with --keep-going, since the rows after it may hold the features in another column order
(skipped as one bad row, they were scored in the first order); a header whose first name starts with '#' is a
header, not a comment (skipped, the rows were read in the model's column order); a first line naming every feature
of a model whose names read as numbers is refused (it was scored as a row, and the rows after it in model order)."""

import csv
import io

import pytest

from edge_predict.cli import cli
from helpers.handmade import manifest, weighted_sum

AGAIN = "is a header again (it names every feature: 'a, b'); were CSV files joined?"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """value = a + 10 b: a swapped column shows."""
    doc = manifest("regression", features=(("a", None, None), ("b", None, None)), golden_inputs=((1.0, 2.0),))
    return _model(tmp_path_factory, doc)


@pytest.fixture(scope="module")
def rooms(tmp_path_factory):
    """value = area + 10 rooms, the second feature named '# rooms'."""
    doc = manifest("regression", features=(("area", None, None), ("# rooms", None, None)), golden_inputs=((1.0, 2.0),))
    return _model(tmp_path_factory, doc)


@pytest.fixture(scope="module")
def numbered(tmp_path_factory):
    """value = w400 + 10 w450: features named like numbers, as exporters wrote them before refusing such names."""
    doc = manifest("regression", features=(("400", None, None), ("450", None, None)), golden_inputs=((1.0, 2.0),))
    return _model(tmp_path_factory, doc)


def _model(tmp_path_factory, doc):
    doc["golden"]["outputs"] = [[21.0]]
    path = tmp_path_factory.mktemp("joined") / "ab.onnx"
    path.write_bytes(weighted_sum([1.0, 10.0], doc))
    return path


def predict(cli_runner, model, text, *options):
    return cli_runner.invoke(cli, ["predict", "-m", str(model), "-i", "-", "-f", "csv", *options], input=text)


@pytest.mark.parametrize("keep_going", [[], ["--keep-going"]])
@pytest.mark.parametrize(
    "text, line",
    [
        ("a,b\n1,2\n3,4\nb,a\n1,2\n", 4),  # before: with -k, '1,2' after it scored 21 instead of 12, exit 2 for 1 row
        ("a,b\n1,2\na,b\n1,2\n", 3),
        ("1,2\n3,4\nb,a\n1,2\n", 3),  # header-less rows, then a file with a header
        ("id,a,b\nx,1,2\nb,id,a\n2,y,1\n", 3),  # pass-through columns too
        ('a,b\n1,2\n# note\n\n"b", a ,note\n1,2,3\n', 5),
    ],
)
def test_a_header_again_stops_the_run(cli_runner, model, text, line, keep_going):
    result = predict(cli_runner, model, text, *keep_going)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(f"edge-predict: error: line {line} {AGAIN}")


def test_with_keep_going_the_rows_before_it_are_answered(cli_runner, model):
    result = predict(cli_runner, model, "a,b\n1,2\nx,4\nb,a\n1,2\n", "--keep-going")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[:2] == [["a", "b", "value", "error"], ["1", "2", "21", ""]]
    assert rows[2][:3] == ["", "", ""] and "'x' is not a number" in rows[2][3] and len(rows) == 3
    assert result.exit_code == 2 and AGAIN in result.stderr


def test_a_row_naming_the_features_in_pass_through_fields_is_a_row(cli_runner, model):
    result = predict(cli_runner, model, "id,a,b\na,1,2\nb,3,4\n", "--keep-going")
    assert result.exit_code == 0 and [row[:3] for row in csv.reader(io.StringIO(result.stdout))][1:] == [
        ["1", "2", "a"],
        ["3", "4", "b"],
    ]


@pytest.mark.parametrize(
    "text, value",
    [
        ("# rooms,area\n3,120\n", "150"),  # was skipped as a comment: area 3, rooms 120 scored 1203 (exit 0)
        ("# a comment\n# rooms,area\n3,120\n", "150"),
        ("area,# rooms\n120,3\n", "150"),
        ("# a comment\n120,3\n", "150"),  # a comment naming no feature: header-less rows in model order
    ],
)
def test_a_header_starting_with_a_hash_is_a_header(cli_runner, rooms, text, value):
    result = predict(cli_runner, rooms, text)
    assert result.exit_code == 0, result.stderr
    assert [row[-1] for row in csv.reader(io.StringIO(result.stdout))] == ["value", value]


def test_a_hash_header_again_stops_the_run(cli_runner, rooms):
    result = predict(cli_runner, rooms, "area,# rooms\n120,3\n# rooms,area\n3,120\n", "--keep-going")
    assert (
        result.exit_code == 2 and "line 3 is a header again (it names every feature: 'area, # rooms')" in result.stderr
    )
    assert result.stdout.splitlines()[1:] == ["120,3,150,"]


@pytest.mark.parametrize("first", ["450,400", "400,450", " 400 , 450 "])
def test_a_first_line_naming_numbered_features_is_refused(cli_runner, numbered, first):
    result = predict(cli_runner, numbered, f"{first}\n3,120\n")  # was: a row (4450), then 400=3, 450=120 (exit 0)
    assert result.exit_code == 2 and not result.stdout
    assert result.stderr == (
        f"edge-predict: error: line 1: {first.strip()!r} names every feature of this model, whose names read as "
        "numbers ('400, 450'), so it may be a header or a row of data; re-export the model with feature names that "
        "start with a letter\n"
    )


def test_rows_for_numbered_features_are_rows(cli_runner, numbered):
    result = predict(cli_runner, numbered, "3,120\n450,400\n")
    assert result.exit_code == 0 and result.stdout.splitlines()[1:] == ["3,120,1203", "450,400,4450"]
