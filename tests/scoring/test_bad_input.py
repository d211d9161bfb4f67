"""Bad data, from arguments, files and stdin: one line naming where and what was expected, exit 2."""

import csv
import io
import json
import os
import signal
import subprocess
import sys

import pytest

from edge_predict import InputError
from edge_predict.cli import cli
from edge_predict.tables import source as tabular
from edge_predict.tables._fast.fastread import MAX_LINE_CHARS
from edge_predict.tables.grammar import parse_number
from edge_predict.tables.reader import read_batches

EM_SPACE_7 = "\u20037"
EXPECTED = "(expected a decimal number such as 7, -0.5 or 2.5e3"
TOO_LONG = f"is longer than {MAX_LINE_CHARS:,} characters; expected one sample per line"
LONG = MAX_LINE_CHARS + 1


def invoke(runner, model_path, *args, input=None):
    result = runner.invoke(cli, ["predict", "--model", str(model_path), *args], input=input)
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize(
    "arg, message",
    [
        ("abc", f"argument 1, hours: 'abc' is not a number {EXPECTED})"),
        ("", f"argument 1, hours: an empty value is not a number {EXPECTED})"),
        ("nan", "argument 1, hours: 'nan' is NaN; expected a finite number"),
        ("NaN", "argument 1, hours: 'NaN' is NaN; expected a finite number"),
        ("inf", "argument 1, hours: 'inf' is infinite; expected a finite number"),
        ("+Infinity", "argument 1, hours: '+Infinity' is infinite; expected a finite number"),
        ("3.5e38", "argument 1, hours: '3.5e38' overflows float32 (largest 3.403e+38)"),
        ("1e400", "argument 1, hours: '1e400' overflows float32 (largest 3.403e+38)"),
        ("0x1A", f"argument 1, hours: '0x1A' is not a number {EXPECTED}; hexadecimal is not accepted)"),
        ("-0x1A", f"argument 1, hours: '-0x1A' is not a number {EXPECTED}; hexadecimal is not accepted)"),
        ("+0X1a", f"argument 1, hours: '+0X1a' is not a number {EXPECTED}; hexadecimal is not accepted)"),
        ("1,5", f"argument 1, hours: '1,5' is not a number {EXPECTED}; use '.' as the decimal point)"),
        ("1_000", f"argument 1, hours: '1_000' is not a number {EXPECTED}; write digits without '_')"),
        ("\u0661\u0662", f"argument 1, hours: '\u0661\u0662' is not a number {EXPECTED}; use the ASCII digits 0-9)"),
        ("\uff17", f"argument 1, hours: '\uff17' is not a number {EXPECTED}; use the ASCII digits 0-9)"),
        ("\u20037", f"argument 1, hours: {EM_SPACE_7!r} is not a number {EXPECTED})"),
        ("-1", "argument 1, hours: '-1' is outside the model's domain (expected >= 0)"),
        ("-0.001", "argument 1, hours: '-0.001' is outside the model's domain (expected >= 0)"),
    ],
)
def test_bad_argument_is_named(cli_runner, model_path, arg, message):
    result = invoke(cli_runner, model_path, "1", arg)
    assert result.exit_code == 2
    assert result.stderr == f"edge-predict: error: {message.replace('argument 1', 'argument 2')}\n"
    assert result.stdout == ""


@pytest.mark.parametrize("arg", ["7", "7.", ".5", "+7", "-0", "1e3", "2.5E-1", " 7 ", "0007"])
def test_accepted_number_grammar(cli_runner, model_path, arg):
    result = invoke(cli_runner, model_path, arg, "-f", "csv")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("hours\n1\nx\n", f"line 3, column 1 (hours): 'x' is not a number {EXPECTED})"),
        ("1\n\n2\n-3\n", "line 4, column 1 (hours): '-3' is outside the model's domain (expected >= 0)"),
        ("1\nnan\n", "line 2, column 1 (hours): 'nan' is NaN; expected a finite number"),
        ("1\n-inf\n", "line 2, column 1 (hours): '-inf' is infinite; expected a finite number"),
        ("1\n1e39\n", "line 2, column 1 (hours): '1e39' overflows float32 (largest 3.403e+38)"),
        ("1\n1,5\n", "line 2: '1,5' is not a number; use '.' as the decimal point"),
        ("1\n1,2,3\n", "line 2: 3 columns, but the model expects 1 (column 1 (hours))"),
        ("hours\n1,\n", "line 2: 2 columns, but the model expects 1 (column 1 (hours))"),
        ("hours\n,\n", "line 2: 2 columns, but the model expects 1 (column 1 (hours))"),
        ("hours\n \t\n1 2\n", f"line 3, column 1 (hours): '1 2' is not a number {EXPECTED})"),
        (
            "minutes\n1\n",
            "line 1: the header has no column 'hours' (its other columns: 'minutes'); the model reads its "
            "features by name: hours",
        ),
        ("hours,hours\n1,2\n", "line 1: the header names column 'hours' twice; rename or drop it"),
        (
            "id,hours,label,predicted_label\n1,2,x,y\n",
            "the input has a column 'label', so the output 'label' is named 'predicted_label', but the input has a "
            "column 'predicted_label' too; rename or drop one of them",
        ),
        ("# only a comment\n\nhours\n", "line 3: a header but no samples after it"),
        ("", "the input has no samples (it is empty or only blank/comment lines)"),
        ("\n\n# x\n", "the input has no samples (it is empty or only blank/comment lines)"),
        ("0x10\n", f"line 1, column 1 (hours): '0x10' is not a number {EXPECTED}; hexadecimal is not accepted)"),
    ],
)
def test_bad_line_is_named(cli_runner, model_path, text, message):
    result = invoke(cli_runner, model_path, "-i", "-", input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"edge-predict: error: {message}")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"hours\r\n1\r\n7\r\n",
        b"\xef\xbb\xbfhours\n1\n7\n",
        b"\xef\xbb\xbf1\r\n7",
        b"# scores\n\n1\n   \n# more\n7\n",
        b"hours\r1\r7\r",
    ],
)
def test_crlf_bom_blank_and_comment_lines_are_accepted(cli_runner, model_path, data):
    result = invoke(cli_runner, model_path, "-i", "-", "-f", "csv", input=data)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["1,0.42295337,fail", "7,0.9558091,pass"]


def test_bytes_that_are_not_utf8_name_the_line(cli_runner, model_path):
    result = invoke(cli_runner, model_path, "-i", "-", input=b"hours\n1\n2\xe9\n")
    assert result.exit_code == 2
    assert (
        result.stderr == "edge-predict: error: line 3: bytes that are not UTF-8 (b'2\\xe9'); save the input as UTF-8\n"
    )


@pytest.mark.parametrize(
    "name, message",
    [
        ("nope.csv", "no such input file"),
        (".", "is a directory, not an input file"),
        ("locked.csv", "permission denied; check the file's permissions"),
    ],
)
def test_missing_directory_and_unreadable_input_files(cli_runner, model_path, tmp_path, monkeypatch, name, message):
    locked = tmp_path / "locked.csv"
    locked.write_text("1\n")
    locked.chmod(0)
    if name == "locked.csv" and os.access(
        locked, os.R_OK
    ):  # root reads anything: make open() refuse as it would for a user

        def refuse(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tabular, "open", refuse, raising=False)
    path = tmp_path / name
    result = invoke(cli_runner, model_path, "-i", str(path))
    assert result.exit_code == 2
    assert result.stderr == f"edge-predict: error: {path}: {message}\n"


def test_keep_going_reports_each_bad_row_and_scores_the_rest(cli_runner, model_path):
    result = invoke(
        cli_runner,
        model_path,
        "-i",
        "-",
        "-f",
        "csv",
        "--keep-going",
        input="hours\n1\nx\n-1\n\xff\n7\n".encode("latin-1"),
    )
    assert result.exit_code == 2
    rows = list(csv.reader(io.StringIO(result.stdout)))  # an independent reader: Python's csv module
    assert rows[0] == ["hours", "probability", "label", "error"]
    assert [row[:3] for row in rows[1:]] == [
        ["1", "0.42295337", "fail"],
        ["", "", ""],
        ["-1", "", ""],
        ["", "", ""],
        ["7", "0.9558091", "pass"],
    ]  # output row N is input row N
    assert [row[3].split(":")[0] for row in rows[1:]] == [
        "",
        "line 3, column 1 (hours)",
        "line 4, column 1 (hours)",
        "line 5",
        "",
    ]
    lines = result.stderr.splitlines()
    assert [line.split(":")[1] for line in lines[:3]] == [
        " skipped line 3, column 1 (hours)",
        " skipped line 4, column 1 (hours)",
        " skipped line 5",
    ]
    assert lines[3] == (
        "edge-predict: error: skipped 3 bad rows (each named above and in the output's error column); scored 2"
    )


@pytest.mark.parametrize("fmt", ["json", "csv", "text"])
def test_keep_going_keeps_rows_aligned_in_every_format(cli_runner, model_path, fmt):
    lines = ["1", "nan", "2", "-5", "x", "3", "1e39", "4"]
    result = invoke(cli_runner, model_path, "-i", "-", "-f", fmt, "-k", input="\n".join(lines) + "\n")
    assert result.exit_code == 2
    out = result.stdout.splitlines()
    if fmt == "json":
        rows = [json.loads(line) for line in out]
        assert [row["error"] is None for row in rows] == [v in "1234" for v in lines]
        assert [row["input"]["hours"] for row in rows if row["input"]] == [1.0, 2.0, 3.0, 4.0]
    else:
        body = list(csv.reader(io.StringIO(result.stdout)))[1:] if fmt == "csv" else [line.split() for line in out[1:]]
        assert len(body) == len(lines)
        assert [row[0] for row in body if row[1] not in ("", "-")] == ["1", "2", "3", "4"]


def test_keep_going_without_bad_rows_exits_0(cli_runner, model_path):
    result = invoke(cli_runner, model_path, "-k", "1", "7")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(
    "token, value", [("7", 7.0), (" -2.5e-1\t", -0.25), (".5", 0.5), ("5.", 5.0), ("-Inf", float("-inf"))]
)
def test_parse_number_grammar(token, value):
    assert parse_number(token, "here") == value


@pytest.mark.parametrize("token", ["1_0", "0x1", "\u0667", "1e", "e1", "--1", "1.2.3", "+", ".", "1 000", "\x00"])
def test_parse_number_refuses(token):
    with pytest.raises(InputError, match="^here: .* is not a number"):
        parse_number(token, "here")


def _cli(*args):
    return [sys.executable, "-c", "from edge_predict.cli import main; main()", *args]


def test_output_into_a_closed_pipe_is_quiet(model_path, tmp_path):
    """`edge-predict ... | head -1`: no BrokenPipe traceback, the exit a closed pipe gives (141)."""
    source = tmp_path / "long.csv"
    source.write_text("1\n" * 200_000)
    proc = subprocess.Popen(
        _cli("predict", "-i", str(source), "--model", str(model_path)), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.readline()
    proc.stdout.close()  # like head -1
    err = proc.stderr.read()
    assert (proc.wait(timeout=60), err) == (141, b"")


def _sigint_as_a_terminal_sends_it():
    """In the child, before exec: SIGINT's default action, whatever the test runner inherited.

    A runner started with SIGINT ignored (`nohup make test &`, a CI script in the background) passes
    SIG_IGN on to its children, and a Python started that way never turns Ctrl-C into KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(params=["runner handles SIGINT", "runner ignores SIGINT"])
def runner_sigint(request):
    """Run the test once as usual and once as under `nohup ... &`, where SIGINT is ignored."""
    if request.param == "runner ignores SIGINT":
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))


def test_ctrl_c_during_a_long_file_exits_130_quietly(model_path, tmp_path, runner_sigint):
    source = tmp_path / "long.csv"
    source.write_text("1\n" * 300_000)  # ~5 MB of output: far more than a pipe holds, so it cannot finish first
    proc = subprocess.Popen(
        _cli("predict", "-i", str(source), "-f", "csv", "--model", str(model_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_sigint_as_a_terminal_sends_it,
    )
    # Its first line means it is scoring; until this test reads more, it is blocked writing into the full pipe.
    assert proc.stdout.readline() == b"hours,probability,label\n"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.strip()) == (130, b"")  # click ends the ^C line with a line break, no more


@pytest.mark.parametrize(
    "args, code", [(["info"], 141), (["verify"], 141), (["predict", "1", "7", "-f", "json"], 141), (["--help"], 1)]
)  # help is click's own: it exits 1, also quietly
def test_any_output_into_an_already_closed_pipe_is_quiet(args, code):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte is written
    proc = subprocess.run(_cli(*args), stdout=write, stderr=subprocess.PIPE, timeout=60)
    os.close(write)
    assert (proc.returncode, proc.stderr) == (code, b"")


@pytest.mark.parametrize(
    "text, lineno",
    [
        ("1" * (3 * MAX_LINE_CHARS), 1),  # digits only: the fast block reader
        ("a" * LONG, 1),  # no line break at all: the first line, read before the header is known
        ("1\n2\n" + "7" * LONG + "\n3\n", 3),  # in the middle of a block of plain numbers
        ("1\n2\n" + "x" * LONG + "\n", 3),  # in a block the line-by-line reader takes
        ("hours\n1\n" + "\0" * LONG, 3),  # /dev/zero-like, after a header
    ],
)
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


@pytest.mark.parametrize(
    "args, start",
    [
        (["predict", "9" * 400], "edge-predict: error: argument 1, hours: '" + "9" * 40 + "'… overflows float32"),
        (["predict", "x" * 400], "edge-predict: error: argument 1, hours: '" + "x" * 40 + "'… is not a number"),
        (["predict", "1" * 400 + ",5"], "edge-predict: error: argument 1, hours: '" + "1" * 40 + "'… is not a number"),
        (["predict", "x" * 40], "edge-predict: error: argument 1, hours: '" + "x" * 40 + "' is not a number"),  # whole
        (["predict", "x" * 41], "edge-predict: error: argument 1, hours: '" + "x" * 40 + "'… is not a number"),
        (
            ["predict", "-i", "-"],
            "edge-predict: error: line 1: the header has no column 'hours' (its other columns: '" + "h" * 40 + "'…)",
        ),
    ],
)
def test_long_tokens_are_cut_in_errors(cli_runner, model_path, args, start):
    result = cli_runner.invoke(cli, args[:1] + ["-m", str(model_path)] + args[1:], input="h" * 400 + "\n")
    assert result.exit_code == 2
    assert result.stderr.startswith(start), result.stderr
    assert len(result.stderr) < 250


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_a_file_that_opens_but_cannot_be_read_is_an_input_error(fmt):
    """/proc/self/mem opens, then every read fails with EIO: one line, exit 2, never 'unexpected OSError'."""
    run = subprocess.run(
        [sys.executable, "-m", "edge_predict.cli", "predict", "-i", "/proc/self/mem", "-f", fmt],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and run.stdout == ""
    assert (
        run.stderr == "edge-predict: error: cannot read the input (Input/output error); pass a readable file or '-'\n"
    )
