"""A device program keeps `edge-predict predict --input -` running and gets each line's answer at once."""

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

ROUND_TRIPS = 1000
EDGE_PREDICT = str(Path(sys.executable).parent / "edge-predict")  # the installed console script
TIMEOUT = 10.0  # seconds for one answer: far above any real wait, so only a deadlock reaches it


def coprocess(model_path, fmt: str) -> subprocess.Popen:
    """`edge-predict predict --input -` as a device program runs it: unbuffered pipes both ways."""
    return subprocess.Popen(
        [EDGE_PREDICT, "predict", "-m", str(model_path), "--input", "-", "--format", fmt],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )


def answer(proc: subprocess.Popen, line: bytes, lines: int = 1) -> bytes:
    """Write one sample, return the `lines` lines that answer it (or fail instead of hanging)."""
    proc.stdin.write(line)
    proc.stdin.flush()
    out, deadline = b"", time.monotonic() + TIMEOUT
    while out.count(b"\n") < lines:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no answer to {line!r} within {TIMEOUT} s (answered so far: {out!r})"
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, f"edge-predict ended: {proc.stderr.read().decode()}"
        out += chunk
    return out


def test_each_line_is_answered_before_the_next_is_written(model_path):
    proc = coprocess(model_path, "json")
    try:
        answers = [answer(proc, f"{i % 13}.5\n".encode()) for i in range(ROUND_TRIPS)]
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        proc.kill()
        proc.wait()
    rows = [json.loads(a) for a in answers]
    assert [row["input"]["hours"] for row in rows] == [i % 13 + 0.5 for i in range(ROUND_TRIPS)]


def test_a_header_first_then_samples(model_path):
    proc = coprocess(model_path, "csv")
    try:
        proc.stdin.write(b"hours\n")
        header, first = answer(proc, b"7\n", lines=2).splitlines()  # the CSV header comes with the first answer
        assert header.startswith(b"hours,") and first.startswith(b"7,")
        assert answer(proc, b"1\r\n").startswith(b"1,")
    finally:
        proc.kill()
        proc.wait()


def test_a_line_ending_in_cr_alone_is_answered_before_the_next_is_written(model_path, monkeypatch):
    # a device that ends its lines with a carriage return alone (old Macs, many serial devices) is answered at once
    monkeypatch.setattr(sys.modules[__name__], "TIMEOUT", 5.0)  # a hang shows in seconds
    proc = coprocess(model_path, "csv")
    try:
        assert answer(proc, b"7\r", lines=2).splitlines()[1].startswith(b"7,")  # the header, then the answer
        assert answer(proc, b"1\r").startswith(b"1,")
    finally:
        proc.kill()
        proc.wait()
