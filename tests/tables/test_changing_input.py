"""Input that changes underneath: a regular file that shrinks or is replaced while it is read is an input error
(exit 2) naming it, never a fragment scored; --keep-going skips an over-long line as one bad row and goes on."""

import os

import pytest

from edge_predict import InputError
from edge_predict.tables.source import open_input
from edge_predict.cli import cli

LONG = (1 << 20) + 1


def test_a_file_truncated_behind_the_reader_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("123.25\n" * 100_000)
    read = b""
    with open_input(str(path)) as stream:
        read += stream.read(3500)
        os.truncate(path, 350_001)  # behind the reader, inside a line: '1' of '123.25' is all that is left of it
        with pytest.raises(InputError, match=f"^{path}: the input file shrank while it was read"):
            while True:
                read += stream.read1(65536)
    assert len(read) == 350_001 and read.endswith(b"\n1")  # the error comes before the fragment is scored


def test_a_file_replaced_while_read_is_an_input_error(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("1\n2\n")
    with open_input(str(path)) as stream:
        stream.read(2)
        (tmp_path / "new.csv").write_text("9\n")
        os.replace(tmp_path / "new.csv", path)
        stream.read(10)
        with pytest.raises(InputError, match="was replaced or removed while it was read"):
            stream.read(10)


@pytest.mark.parametrize("kind", ["file", "stdin"])
def test_keep_going_skips_an_over_long_line_and_goes_on(cli_runner, tmp_path, kind):
    text = "1\n" + "7" * LONG + "\n3\n" + "x" * (3 * LONG) + "\n4"
    args = ["predict", "--keep-going", "--format", "csv"]
    if kind == "file":
        (tmp_path / "rows.csv").write_text(text)
        result = cli_runner.invoke(cli, [*args, "--input", str(tmp_path / "rows.csv")])
    else:
        result = cli_runner.invoke(cli, [*args, "--input", "-"], input=text)
    assert result.exit_code == 2
    rows = result.stdout.splitlines()
    assert [row.split(",")[0] for row in rows] == ["hours", "1", "", "3", "", "4"]
    assert (
        rows[2] == ',,,"line 2 is longer than 1,048,576 characters; expected one sample per line (is this a text '
        'file with line breaks?)"'
    )
    assert "line 4 is longer than" in rows[4]
