"""CSV files joined together: a header again mid-file stops the run, even with --keep-going, since the rows after
it may hold the features in another column order (skipped as one bad row, they were scored in the first order)."""

import csv
import io

import pytest

from edge_predict.cli import cli
from handmade import manifest, weighted_sum

AGAIN = "is a header again (it names every feature: 'a, b'); were CSV files joined?"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """value = a + 10 b: a swapped column shows."""
    doc = manifest("regression", features=(("a", None, None), ("b", None, None)), golden_inputs=((1.0, 2.0),))
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
