"""The label rule, at its boundary: labels[1] when P(labels[1]) >= threshold, through the API and the CLI.

The model is p = x, so the probability the runtime compares is exactly the value the test passes in;
the expected label is plain Python's `p >= threshold`, sharing nothing with the runtime.
"""

import csv
import io
import json
import re

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.cli import cli
from helpers import handmade

F32 = np.float32


def around(t: float) -> list[float]:
    """The float32 nearest t, and its neighbours just below and above that stay within [0, 1]."""
    p = F32(t)
    near = [np.nextafter(p, F32(0)), p, np.nextafter(p, F32(1))]
    return sorted({float(v) for v in near if 0 <= v <= 1})


def expected_labels(ps, threshold):
    return ["yes" if p >= threshold else "no" for p in ps]


# 0.1 is not a float32: its float32 (0.10000000149...) is above the float64 threshold 0.1, its neighbour below.
THRESHOLDS = [0.0, 0.1, 0.25, 0.5, float(F32(0.7)), 1.0]


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """The p = x model with its manifest threshold `t` (cached per t)."""
    made = {}

    def get(t: float) -> str:
        if t not in made:
            made[t] = tmp_path_factory.mktemp("threshold") / f"identity-{t}.onnx"
            made[t].write_bytes(handmade.identity(threshold=t))
        return str(made[t])

    return get


def loaded(model_file, threshold, how):
    """The Predictor with `threshold` from its manifest, or given as the option on a 0.5 model."""
    if how == "manifest":
        return Predictor.from_path(model_file(threshold))
    return Predictor.from_path(model_file(0.5), threshold=threshold)


@pytest.mark.parametrize("how", ["manifest", "option"])
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_predict_is_positive_from_the_threshold_on(model_file, threshold, how):
    ps = around(threshold)
    predictor = loaded(model_file, threshold, how)
    assert predictor.predict(ps).tolist() == expected_labels(ps, threshold)
    assert "yes" in expected_labels(ps, threshold)  # the boundary value itself is included


@pytest.mark.parametrize("how", ["manifest", "option"])
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_predict_table_labels_follow_the_same_rule(model_file, threshold, how):
    ps = around(threshold)
    table = loaded(model_file, threshold, how).predict_table(ps)
    np.testing.assert_array_equal(table["probability"], F32(ps))
    assert table["label"].tolist() == expected_labels(ps, threshold)


def test_predict_proba_is_exactly_the_graphs_output(model_file):
    ps = around(0.5) + [0.0, 1.0]
    proba = Predictor.from_path(model_file(0.5)).predict_proba(ps)
    np.testing.assert_array_equal(proba[:, 1], F32(ps))
    np.testing.assert_array_equal(proba[:, 0], F32(1) - F32(ps))


TEXT_ROW = re.compile(r"^\s*(\S+)\s+(\d(?:\.\d+)?(?:e-\d+)?)\s+(yes|no)$")  # "  0.49999997   0.49999997  no"


def cli_rows(stdout: str, fmt: str) -> list[tuple[str, str]]:
    """(input text or value, label) per output row, read with csv, json or the regex above."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(stdout)))
        return [(float(r["p"]), r["label"]) for r in rows]
    if fmt == "json":
        rows = [json.loads(line) for line in stdout.splitlines()]
        return [(r["input"]["p"], r["label"]) for r in rows]
    matches = [TEXT_ROW.match(line) for line in stdout.splitlines()[1:]]
    assert all(matches), stdout
    assert [F32(m.group(2)) for m in matches] == [F32(m.group(1)) for m in matches]  # p = x, printed exactly
    return [(float(m.group(1)), m.group(3)) for m in matches]


@pytest.mark.parametrize("fmt", ["csv", "json", "text"])
@pytest.mark.parametrize("how", ["manifest", "option"])
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_cli_labels_follow_the_same_rule(cli_runner, model_file, threshold, how, fmt):
    ps = around(threshold)
    args = ["predict", "-f", fmt, *(str(F32(p)) for p in ps)]
    if how == "manifest":
        args += ["--model", model_file(threshold)]
    else:
        args += ["--model", model_file(0.5), "--threshold", repr(threshold)]
    result = cli_runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    rows = cli_rows(result.stdout, fmt)
    assert [F32(p) for p, _ in rows] == [F32(p) for p in ps]  # the inputs arrived as the same float32
    assert [label for _, label in rows] == expected_labels(ps, threshold)
