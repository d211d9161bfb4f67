"""Scoring a labelled table: the truth column passes through, and an output named like an input column is
predicted_<name>, the same in the CLI (block and line paths, csv and text) and in Predictor.predict_table."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import examples

from edge_predict import InputError, Predictor
from edge_predict.cli import cli

LABELS = ("fail", "pass")


def predict_csv(cli_runner, model_path, text: str, *options: str) -> list[list[str]]:
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-", "-f", "csv", *options], input=text)
    assert result.exit_code == 0, result.stderr
    return list(csv.reader(io.StringIO(result.stdout)))


def table_text(header: list[str], rows: list[list[str]], padded: bool) -> str:
    """CSV text; `padded` puts a space before each hours value, which sends every block down the line path."""
    at = header.index("hours")
    lines = [",".join(header)] + [",".join(f" {v}" if padded and j == at else v for j, v in enumerate(r)) for r in rows]
    return "\n".join(lines) + "\n"


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hours=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    label_at=st.integers(0, 2),
    extra=st.booleans(),
    padded=st.booleans(),
    keep_going=st.booleans(),
)
def test_truth_column_passes_through_beside_predicted_label(
    cli_runner, model_path, hours, label_at, extra, padded, keep_going
):
    """Any column order, the label column anywhere: it comes back unchanged, the output is predicted_label."""
    columns = ["hours", "id"] if extra else ["hours"]
    header = columns[:label_at] + ["label"] + columns[label_at:]
    truth = [LABELS[h % 2] for h in hours]
    rows = [
        [{"hours": str(h), "id": f"r{i}", "label": t}[c] for c in header] for i, (h, t) in enumerate(zip(hours, truth))
    ]
    out = predict_csv(cli_runner, model_path, table_text(header, rows, padded), *(["-k"] if keep_going else []))
    passed = [c for c in header if c != "hours"]
    assert out[0] == ["hours", *passed, "probability", "predicted_label"] + (["error"] if keep_going else [])
    got = [dict(zip(out[0], row)) for row in out[1:]]
    assert [row["label"] for row in got] == truth
    predictor = Predictor.from_path(model_path)
    x = np.array(hours, np.float64).reshape(-1, 1)
    assert [row["predicted_label"] for row in got] == predictor.predict(x).tolist()
    np.testing.assert_array_equal(
        np.array([row["probability"] for row in got], np.float32), predictor.predict_proba(x)[:, 1]
    )


def test_without_a_clash_the_names_are_todays(cli_runner, model_path):
    assert predict_csv(cli_runner, model_path, "hours,truth\n1,fail\n")[0] == ["hours", "truth", "probability", "label"]


def test_text_format_names_the_outputs_as_csv(cli_runner, model_path):
    result = cli_runner.invoke(cli, ["predict", "-m", str(model_path), "-i", "-"], input="hours,label\n1,fail\n")
    assert result.exit_code == 0
    assert result.stdout.split("\n")[0].split() == ["hours", "label", "probability", "predicted_label"]


def test_json_keeps_the_input_apart_and_the_output_names(cli_runner, model_path):
    result = cli_runner.invoke(
        cli, ["predict", "-m", str(model_path), "-i", "-", "-f", "json"], input="hours,label\n1,pass\n"
    )
    assert result.stdout == (
        '{"input":{"hours":1.0},"extra":{"label":"pass"},"probability":0.42295337,"label":"fail"}\n'
    )


@pytest.mark.parametrize("keep_going", [False, True])
def test_an_error_column_is_refused_only_with_keep_going(cli_runner, model_path, keep_going):
    result = cli_runner.invoke(
        cli,
        ["predict", "-m", str(model_path), "-i", "-", "-f", "csv", *(["-k"] * keep_going)],
        input="hours,error\n1,x\n",
    )
    if keep_going:
        assert result.exit_code == 2
        assert "line 1: the header has a column 'error', which the output adds too; rename or drop it" in result.stderr
    else:
        assert result.exit_code == 0 and result.stdout.split("\n")[0] == "hours,error,probability,label"


@pytest.mark.parametrize(
    "columns, outputs",
    [
        (["hours"], ("probability", "label")),
        (["hours", "label"], ("probability", "predicted_label")),
        (["probability", "hours", "label"], ("predicted_probability", "predicted_label")),
    ],
)
def test_predict_table_names_outputs_by_the_dataframes_columns(model_path, columns, outputs):
    pd = pytest.importorskip("pandas")
    predictor = Predictor.from_path(model_path)
    frame = pd.DataFrame({name: [1.0, 7.0] if name == "hours" else ["x", "y"] for name in columns})
    table = predictor.predict_table(frame)
    assert tuple(table) == outputs == predictor.output_names_for(columns)
    assert table[outputs[1]].tolist() == ["fail", "pass"]
    assert tuple(predictor.predict_table(np.array([[1.0]]))) == predictor.output_names  # an array: no columns
    assert tuple(predictor.predict_table(np.array([[1.0]]), input_columns=columns)) == outputs


def test_a_taken_prefixed_name_is_refused(model_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"hours": [1.0], "label": ["x"], "predicted_label": ["y"]})
    with pytest.raises(InputError, match=r"^the input has a column 'label', so the output 'label' is named"):
        Predictor.from_path(model_path).predict_table(frame)


@pytest.mark.parametrize(
    "task, manifest, columns, expected",
    [
        ("regression", {"targets": ["y"]}, ["a", "b", "c", "y"], ("predicted_y",)),
        ("regression", {"targets": ["y", "z"]}, ["y", "a", "b", "c"], ("predicted_y", "z")),
        ("multiclass", {"labels": ["u", "v", "w"]}, ["a", "label", "b", "c"], ("predicted_label", "p_u", "p_v", "p_w")),
        ("multiclass", {"labels": ["u", "v", "w"]}, ["a", "b", "c", "p_u"], ("label", "predicted_p_u", "p_v", "p_w")),
    ],
)
def test_every_task_renames_only_the_clashing_output(cli_runner, tmp_path, task, manifest, columns, expected):
    from test_tasks import model_bytes

    path = tmp_path / "m.onnx"
    path.write_bytes(model_bytes(task, len(manifest.get("targets", manifest.get("labels"))), **manifest))
    predictor = Predictor.from_path(path)
    assert predictor.output_names_for(columns) == expected
    rows = [[str(0.5 * i) if c in "abc" else "t" for c in columns] for i in range(3)]
    out = predict_csv(cli_runner, path, "\n".join(map(",".join, [columns, *rows])) + "\n")
    assert out[0] == ["a", "b", "c", *(c for c in columns if c not in "abc"), *expected]
    assert all(row[3] == "t" for row in out[1:])  # the truth column, unchanged
    table = predictor.predict_table(np.array([[float(v) for v in row[:3]] for row in out[1:]]), input_columns=columns)
    for j, name in enumerate(expected):
        got = [row[4 + j] for row in out[1:]]
        if table[name].dtype.kind == "f":
            np.testing.assert_array_equal(np.array(got, np.float32), table[name])
        else:
            assert got == table[name].tolist()
