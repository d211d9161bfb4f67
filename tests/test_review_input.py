"""Review fixes in the reader: a line has a length cap, and an error echoes at most 40 characters of a token."""

import io

import pytest

from edge_predict.cli import cli
from edge_predict.errors import InputError
from edge_predict.fastread import MAX_LINE_CHARS
from edge_predict.reader import read_batches

TOO_LONG = f"is longer than {MAX_LINE_CHARS:,} characters; expected one sample per line"
LONG = MAX_LINE_CHARS + 1


@pytest.mark.parametrize("text, lineno", [
    ("1" * (3 * MAX_LINE_CHARS), 1),  # digits only: the fast block reader
    ("a" * LONG, 1),  # no line break at all: the first line, read before the header is known
    ("1\n2\n" + "7" * LONG + "\n3\n", 3),  # in the middle of a block of plain numbers
    ("1\n2\n" + "x" * LONG + "\n", 3),  # in a block the line-by-line reader takes
    ("hours\n1\n" + "\0" * LONG, 3),  # /dev/zero-like, after a header
])
def test_a_line_over_the_cap_is_refused(cli_runner, model_path, tmp_path, text, lineno):
    path = tmp_path / "long.txt"
    path.write_text(text)
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edge-predict: error: line {lineno} {TOO_LONG}"), result.stderr[:200]
    assert len(result.stderr) < 200


@pytest.mark.parametrize("text, lineno", [("a,b\n1,2\n" + "3," * LONG, 3), ("1," * LONG, 1)])
def test_a_long_line_is_refused_with_several_features(text, lineno):
    with pytest.raises(InputError, match=f"^line {lineno} {TOO_LONG}"):
        list(read_batches(io.StringIO(text), ["a", "b"]))


def test_a_line_at_the_cap_is_read(cli_runner, model_path, tmp_path):
    path = tmp_path / "at-cap.txt"
    path.write_text("1\n" + "7" * MAX_LINE_CHARS + "\n")
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("edge-predict: error: line 2, column 1 (hours): '" + "7" * 40 + "'… overflows")


@pytest.mark.parametrize("args, start", [
    (["predict", "9" * 400], "edge-predict: error: argument 1, hours: '" + "9" * 40 + "'… overflows float32"),
    (["predict", "x" * 400], "edge-predict: error: argument 1, hours: '" + "x" * 40 + "'… is not a number"),
    (["predict", "1" * 400 + ",5"], "edge-predict: error: argument 1, hours: '" + "1" * 40 + "'… is not a number"),
    (["predict", "-i", "-"], "edge-predict: error: line 1: the header has no column 'hours' (its other columns: '" + "h" * 40 + "'…)"),
])
def test_long_tokens_are_cut_in_errors(cli_runner, model_path, args, start):
    result = cli_runner.invoke(cli, args[:1] + ["-m", str(model_path)] + args[1:], input="h" * 400 + "\n")
    assert result.exit_code == 2
    assert result.stderr.startswith(start), result.stderr
    assert len(result.stderr) < 250
