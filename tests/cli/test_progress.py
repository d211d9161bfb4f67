"""The progress line of `predict --input FILE > out`: on a terminal's stderr only, erased at the end."""

from __future__ import annotations

import os
import re
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CLEAN_ENV

CLI = Path(sys.executable).with_name("edge-predict")


@pytest.fixture
def table(tmp_path) -> Path:
    path = tmp_path / "hours.csv"
    path.write_text("id,hours\n" + "".join(f"r{i},{i % 10}\n" for i in range(3000)) + "r-bad,x\n")
    return path


def run(args, stdout, stderr, stdin=subprocess.DEVNULL) -> int:
    return subprocess.run(
        [str(CLI), *map(str, args)], stdin=stdin, stdout=stdout, stderr=stderr, env=CLEAN_ENV, timeout=120
    ).returncode


def with_terminal_stderr(args, stdout, stdin=subprocess.DEVNULL) -> tuple[int, str]:
    """Run with stderr a pseudo-terminal; its exit code and everything it wrote there."""
    master, slave = pty.openpty()
    try:
        code = run(args, stdout, slave, stdin)
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return code, b"".join(chunks).decode()


def test_progress_appears_and_is_erased(table, tmp_path):
    with open(tmp_path / "out.csv", "w") as out:
        code, shown = with_terminal_stderr(["predict", "-i", table, "-f", "csv", "-k"], out)
    assert code == 2  # the bad last row
    with open(tmp_path / "plain.csv", "w") as out, open(tmp_path / "err", "w") as err:
        assert run(["predict", "-i", table, "-f", "csv", "-k"], out, err) == 2
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "plain.csv").read_text()  # the answers, untouched
    drawn = [part for part in shown.split("\r") if part.strip() and "rows/s" in part]
    assert drawn and all(re.fullmatch(r"[\d,]+ rows, [\d,]+ rows/s, \d+% of the file read *", p) for p in drawn)
    # every message starts on an erased line; what is left, once the line is erased, is what a plain stderr holds
    messages = [part for part in shown.replace("\r\n", "\n").split("\r") if part.strip() and "rows/s" not in part]
    assert "".join(messages).strip().splitlines() == (tmp_path / "err").read_text().strip().splitlines()
    last = shown.replace("\r\n", "\n").split("\n")[-2].split("\r")  # the line erased, then the summary on it
    assert last[-2].strip() == "" and last[-1].startswith("edge-predict: error: skipped 1 bad row")


def test_nothing_without_a_terminal(table, tmp_path):
    with open(tmp_path / "out.csv", "w") as out:
        done = subprocess.run(
            [str(CLI), "predict", "-i", str(table)],
            stdout=out,
            stderr=subprocess.PIPE,
            env=CLEAN_ENV,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    assert done.returncode == 2  # stops at the bad row: its one error line, nothing else
    assert done.stderr.decode().startswith("edge-predict: error: line 3002") and done.stderr.count(b"\n") == 1


def test_nothing_for_stdin_or_a_terminal_stdout(table, tmp_path):
    text = table.read_text().replace("r-bad,x\n", "")
    (tmp_path / "good.csv").write_text(text)
    with open(tmp_path / "good.csv") as stdin, open(tmp_path / "out.csv", "w") as out:
        code, shown = with_terminal_stderr(["predict", "-i", "-"], out, stdin)
    assert (code, shown) == (0, "")
    (tmp_path / "few.csv").write_text("hours\n1\n7\n")
    master, slave = pty.openpty()  # stdout a terminal too: the answers are on screen, no line beside them
    try:
        code, shown = with_terminal_stderr(["predict", "-i", tmp_path / "few.csv"], slave)
    finally:
        os.close(slave)
        os.close(master)
    assert (code, shown) == (0, "")


def test_a_clean_run_leaves_the_terminal_as_it_found_it(table, tmp_path):
    (tmp_path / "good.csv").write_text(table.read_text().replace("r-bad,x\n", ""))
    with open(tmp_path / "out.csv", "w") as out:
        code, shown = with_terminal_stderr(["predict", "-i", tmp_path / "good.csv", "-f", "csv"], out)
    assert code == 0 and "rows/s" in shown
    assert shown.endswith("\r") and shown.split("\r")[-2].strip() == ""  # the last draw erased, nothing after it
