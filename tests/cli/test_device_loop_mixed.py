"""The device loop (docs/device-loop.md) on a mixed model: lines with text fields and gaps written to a running
`edge-predict predict --input - --keep-going`, each answered before the next is written, as Predictor answers the
same values; an unseen category or a gap the feature refuses is that line's row error, and the loop goes on."""

import json
import os
import random
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.errors import InputError
from helpers import typed

EDGE_PREDICT = str(Path(sys.executable).parent / "edge-predict")  # the installed console script
TIMEOUT = 10.0  # seconds for one answer: far above any real wait, so only a deadlock reaches it
KINDS = ["number", "number", "text", "text", "code"]  # helpers.typed's features: hours, weight, island, sex, rating
GOOD = [
    "1,0.5,Biscoe,female,1",
    ",2,NA,other,3.0",  # hours missing (imputed); 'NA' is the island; sex unseen (its bucket); 3.0 is the code 3
    "nan,1,Dream,male,NA",  # 'nan' hours and 'NA' rating are missing (imputed)
    "N/A,1,,male,null",  # an empty island is missing (imputed)
    "7.5,-1,Torgersen,female,2",
    "0,3,null,female,",
]
BAD = [
    "1,0.5,Atlantis,female,1",  # an unseen island (refused: no policy)
    "1,,Dream,male,2",  # weight may not be missing
    "2,0.5,Dream,,1",  # sex may not be missing
    "1,0.5,Biscoe,female,7",  # an unseen rating code
    "1,0.5,Biscoe,female,1.5",  # not a whole code
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixed") / "mixed.onnx"
    path.write_bytes(typed.model_bytes())
    return path


def value(field: str, kind: str):
    """What a field stands for, as docs/input.md says (written here without the runtime's code)."""
    if kind == "text":
        return None if field == "" else field
    if field in ("", "nan", "NaN", "NA", "N/A", "null"):
        return None
    return float(field)


def answer(proc: subprocess.Popen, line: str) -> dict:
    """Write one line, return the JSON line that answers it (or fail instead of hanging)."""
    proc.stdin.write(line.encode() + b"\n")
    proc.stdin.flush()
    out, deadline = b"", time.monotonic() + TIMEOUT
    while not out.endswith(b"\n"):
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no answer to {line!r} within {TIMEOUT} s (answered so far: {out!r})"
        chunk = os.read(proc.stdout.fileno(), 4096)
        assert chunk, f"edge-predict ended: {proc.stderr.read().decode()}"
        out += chunk
    assert out.count(b"\n") == 1, out
    return json.loads(out)


def test_each_mixed_line_is_answered_as_predictor_answers_it_and_a_bad_one_is_its_row_error(model):
    predictor = Predictor.from_path(model)
    lines = random.Random(24).choices(GOOD + BAD, k=120)
    proc = subprocess.Popen(
        [EDGE_PREDICT, "predict", "-m", str(model), "--input", "-", "--format", "json", "--keep-going"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    try:
        answers = [answer(proc, line) for line in lines]
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 2  # rows were skipped (docs/errors.md)
        stderr = proc.stderr.read().decode().splitlines()
    finally:
        proc.kill()
        proc.wait()
    skipped = []
    for number, (line, got) in enumerate(zip(lines, answers), start=1):
        row = [value(f, k) for f, k in zip(line.split(","), KINDS)]
        try:
            expected = predictor.predict_proba([row])[0, 1]
        except InputError as exc:
            assert got["input"] is None and got.get("probability") is None
            assert got["error"].startswith(f"line {number}, column {exc.col + 1} ({typed.NAMES[exc.col]}): ")
            assert got["error"].endswith(f" {exc.problem}")
            skipped.append(f"edge-predict: skipped {got['error']}")
            continue
        assert got["error"] is None, (line, got)
        assert np.float32(got["probability"]) == expected, line  # bit for bit: float32 printed shortest
        assert got["label"] == predictor.predict([row])[0]
    assert {line in BAD for line in lines} == {True, False}
    assert len(skipped) == sum(line in BAD for line in lines)
    assert stderr[:-1] == skipped  # each row error on stderr as it happens, then the one-line summary
    assert stderr[-1].startswith(f"edge-predict: error: skipped {len(skipped)} bad rows")
