"""Property: whatever argv and stdin the CLI gets, no traceback, exit 0/1/2, and stdout valid for its kind.

`make test` runs a few hundred examples; `make fuzz` runs FUZZ_EXAMPLES (10,000) and prints the count.
"""

import csv
import io
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_predict.cli import cli

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
RUNS = {0: 0, 1: 0, 2: 0}

WORDS = [
    "predict",
    "info",
    "verify",
    "-i",
    "--input",
    "-",
    "-f",
    "--format",
    "json",
    "csv",
    "text",
    "xml",
    "--threshold",
    "0.5",
    "-k",
    "--keep-going",
    "-m",
    "--model",
    "MODEL",
    "/nonexistent.onnx",
    ".",
    "--sha256",
    "--max-model-bytes",
    "1K",
    "64M",
    "--threads",
    "1",
    "2",
    "-h",
    "--help",
    "--version",
    "--",
    "7",
    "0",
    "-1",
    "2.5e-1",
    "nan",
    "-inf",
    "1e39",
    "1e400",
    "1,5",
    "0x1A",
    "1_000",
    "",
    " ",
    "\u0661",
    "hours",
    "hours,extra",
    "#",
    "\x00",
    "\udcff",
    "-fjson",
    "--format=csv",
]
token = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
line = st.lists(st.sampled_from(WORDS[30:]) | st.text(max_size=6), max_size=3).map(",".join)
value = st.sampled_from(WORDS[32:]) | st.text(max_size=6)
# Commands that mostly parse, so the scoring and output paths get fuzzed too, not only click's usage errors.
predict = st.tuples(
    st.sampled_from([[], ["-f", "json"], ["-f", "csv"], ["--format=text"]]),
    st.sampled_from([[], ["-k"]]),
    st.sampled_from([[], ["--model", "MODEL"]]),
    st.one_of(st.just(["-i", "-"]), st.lists(value, min_size=1, max_size=5)),
).map(lambda parts: ["predict", *parts[0], *parts[1], *parts[2], *parts[3]])
argvs = st.one_of(
    st.lists(token, max_size=8),
    predict,
    st.tuples(st.sampled_from(["info", "verify"]), st.lists(token, max_size=3)).map(
        lambda parts: [parts[0], *parts[1]]
    ),
)
stdin = st.one_of(
    st.binary(max_size=200),
    st.lists(line, max_size=12).map(lambda rows: "\n".join(rows).encode("utf-8", "surrogateescape")),
)


def check_stdout(out: str) -> None:
    """stdout is one of the CLI's outputs, whole: a predict table, CSV, JSON Lines, info, verify, help."""
    if not out:
        return
    lines = out.rstrip("\n").split("\n")  # not splitlines(): a pass-through name may hold \x0b or \x1c
    head = lines[0]
    if head.split()[-3:] in (["hours", "probability", "label"], ["probability", "label", "error"]):  # text
        for row in lines[1:]:
            fields = row.split()
            if "  -  -  " not in row:  # not a skipped row (-k): ... probability label
                assert 0 <= float(fields[-2]) <= 1 and fields[-1] in ("fail", "pass"), row
    elif head.endswith(("probability,label", "probability,label,error")):  # CSV, maybe with pass-through columns
        rows = list(csv.reader(io.StringIO(out)))
        errors = rows[0][-1] == "error"
        for row in rows[1:]:
            assert len(row) == len(rows[0])
            if not (errors and row[-1]):
                p, label = row[-3:-1] if errors else row[-2:]
                assert 0 <= float(p) <= 1 and label in ("fail", "pass")
    elif head.startswith('{"input"'):
        for row in lines:
            record = json.loads(row)
            if record.get("error"):
                assert record == {"input": None, "error": record["error"]}
            else:
                assert set(record) - {"error", "extra"} == {"input", "probability", "label"}
                assert 0 <= record["probability"] <= 1
    elif head == "{":
        assert set(json.loads(out)) == {"path", "sha256", "manifest", "signature"}
    elif head.startswith("model:"):
        assert all(":" in row for row in lines)
    else:
        assert head.startswith(("ok: ", "Usage: ", "edge-predict, version ")), head


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 1000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@pytest.mark.slow
@given(argv=argvs, data=stdin)
def test_cli_never_crashes(cli_runner, model_path, argv, data):
    argv = [str(model_path) if a == "MODEL" else a for a in argv]
    if "--threads" in argv[:-1] and argv[argv.index("--threads") + 1].strip().isdigit():
        argv[argv.index("--threads") + 1] = "2"  # thousands of onnxruntime threads would only test the machine
    with tempfile.TemporaryDirectory() as empty:  # relative paths in argv resolve to nothing of ours
        cwd = os.getcwd()
        os.chdir(empty)
        try:
            result = cli_runner.invoke(cli, argv, input=data, prog_name="edge-predict")
        finally:
            os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2), (argv, result.exit_code, result.stderr)
    RUNS[result.exit_code] += 1
    assert "Traceback" not in result.stderr and "a bug in edge-predict" not in result.stderr, result.stderr
    if argv == []:  # bare `edge-predict`: click's usual usage text on stderr, exit 2
        assert (result.exit_code, result.stderr.splitlines()[0]) == (
            2,
            "Usage: edge-predict [OPTIONS] COMMAND [ARGS]...",
        )
        return
    assert all(row.startswith("edge-predict: ") for row in result.stderr.splitlines()), result.stderr
    if result.exit_code:
        assert result.stderr.splitlines()[-1].startswith("edge-predict: error: "), result.stderr
    check_stdout(result.stdout)


@pytest.fixture(scope="module", autouse=True)
def report_count():
    yield
    print(
        f"\nfuzz: {sum(RUNS.values())} CLI runs with arbitrary argv and stdin, no traceback "
        f"(exit 0: {RUNS[0]}, exit 1: {RUNS[1]}, exit 2: {RUNS[2]})"
    )
