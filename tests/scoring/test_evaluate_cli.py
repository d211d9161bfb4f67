"""edge-predict evaluate: the CLI prints what Predictor.evaluate computes, and refuses what it cannot compare."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.cli import cli

TABLE = "hours,id,label\n1,a,fail\n7,b,pass\n2,c,pass\n3,d,fail\n"


def evaluate(cli_runner, model_path, text, *options):
    return cli_runner.invoke(cli, ["evaluate", "-m", str(model_path), "-i", "-", *options], input=text)


def test_json_is_predictor_evaluate(cli_runner, model_path):
    result = evaluate(cli_runner, model_path, TABLE, "--label", "label", "--json")
    assert result.exit_code == 0, result.stderr
    x = np.array([[1.0], [7.0], [2.0], [3.0]])
    expected = Predictor.from_path(model_path).evaluate(x, ["fail", "pass", "pass", "fail"])
    assert json.loads(result.stdout) == {**expected, "skipped": 0}


def test_text_report(cli_runner, model_path):
    result = evaluate(cli_runner, model_path, TABLE, "--label", "label")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rows: 4 evaluated"
    assert lines[1] == "accuracy   0.750000   (training record: train 0.750000)"
    assert lines[-3:] == [
        "            fail    pass",
        "    fail       1       1",
        "    pass       0       2",
    ]


def test_unknown_labels_are_named_exit_2(cli_runner, model_path):
    result = evaluate(cli_runner, model_path, "hours,label\n1,fail\n2,1\n3,maybe\n", "--label", "label")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == (
        "edge-predict: error: --label label: the truth holds values that are not the model's labels: '1', 'maybe'; "
        "the model's labels: fail, pass\n"
    )


@pytest.mark.parametrize("column", ["lab", "hours"])
def test_a_label_column_not_in_the_header_is_a_usage_error(cli_runner, model_path, column):
    result = evaluate(cli_runner, model_path, TABLE, "--label", column)
    assert result.exit_code == 2
    assert f"--label {column}: the input has no such column (its other columns: id, label;" in result.stderr


def test_keep_going_leaves_bad_rows_out_and_exits_2(cli_runner, model_path):
    text = TABLE + "x,e,fail\n-1,f,pass\n"
    assert evaluate(cli_runner, model_path, text, "--label", "label").exit_code == 2  # stops at line 6
    result = evaluate(cli_runner, model_path, text, "--label", "label", "--json", "-k")
    assert result.exit_code == 2
    good = evaluate(cli_runner, model_path, TABLE, "--label", "label", "--json")
    assert json.loads(result.stdout) == {**json.loads(good.stdout), "skipped": 2}
    assert result.stderr.splitlines()[0].startswith("edge-predict: skipped line 6, column 1 (hours): 'x'")
    assert result.stderr.splitlines()[1].startswith("edge-predict: skipped line 7, column 1 (hours): '-1'")
    assert result.stderr.splitlines()[-1] == "edge-predict: error: skipped 2 bad rows (each named above); evaluated 4"


def test_regression_target_named_as_the_output(cli_runner, tmp_path):
    from test_tasks import model_bytes

    path = tmp_path / "y.onnx"
    path.write_bytes(model_bytes("regression", 1, targets=["y"]))
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-2, 2, (50, 3)), rng.normal(size=50)
    text = "y,a,b,c\n" + "".join(",".join(map(repr, [t, *row])) + "\n" for t, row in zip(y.tolist(), x.tolist()))
    result = cli_runner.invoke(cli, ["evaluate", "-m", str(path), "-i", "-", "--label", "y", "--json"], input=text)
    assert result.exit_code == 0, result.stderr
    expected = Predictor.from_path(path).evaluate(x, y)
    assert json.loads(result.stdout)["metrics"] == pytest.approx(expected["metrics"], rel=0, abs=0)


def test_regression_truth_that_is_not_a_number(cli_runner, tmp_path):
    from test_tasks import model_bytes

    path = tmp_path / "y.onnx"
    path.write_bytes(model_bytes("regression", 1, targets=["y"]))
    text = "a,b,c,y\n1,2,3,x\n1,2,3,nope\n0,1,0,2.5\n1,1,1,-1\n"
    args = ["evaluate", "-m", str(path), "-i", "-", "--label", "y", "--json"]
    stopped = cli_runner.invoke(cli, args, input=text)
    assert stopped.exit_code == 2 and stopped.stdout == ""
    assert stopped.stderr.startswith("edge-predict: error: line 2, column 'y': 'x' is not a number")
    kept = cli_runner.invoke(cli, [*args, "-k"], input=text)
    assert kept.exit_code == 2 and json.loads(kept.stdout)["rows"] == 2 and json.loads(kept.stdout)["skipped"] == 2
    expected = Predictor.from_path(path).evaluate(np.array([[0.0, 1, 0], [1, 1, 1]]), [2.5, -1.0])
    assert json.loads(kept.stdout)["metrics"] == expected["metrics"]
