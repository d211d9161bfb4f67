"""edge-train on three tasks: it picks the task from the label column, trains, reports and exports what torch computes."""

import json
from decimal import Decimal

import numpy as np
import onnx
import pytest

from helpers import DATA, examples
import torch

from hypothesis import given, settings, strategies as st

from edge_predict import Predictor
from edge_predict.trainer.cli import cli
from edge_predict.trainer.run import export_fitted, fit
from edge_predict.trainer.tasks import encode
from edge_predict.trainer.table import read_table
from edge_predict.trainer.train import TrainConfig

DATA = DATA
IRIS, PROGRESSION = DATA / "iris.csv", DATA / "progression.csv.gz"  # see tests/data/README.md
ATOL = 1e-6  # probabilities, as parity.py
IRIS_MLP = [
    "--model",
    "mlp",
    "--hidden",
    "8",
    "--activation",
    "relu",
    "--standardize",
    "--lr",
    "0.1",
    "--epochs",
    "500",
    "--val-fraction",
    "0.2",
]
PROGRESSION_LINEAR = ["--standardize", "--lr", "0.1", "--epochs", "300", "--val-fraction", "0.2"]


def run(runner, *args):
    return runner.invoke(cli, [str(a) for a in args])


def test_iris_is_multiclass_with_string_labels_and_reports_three_metrics(cli_runner, tmp_path):
    out, report = tmp_path / "iris.onnx", tmp_path / "report"
    result = run(cli_runner, "--data", IRIS, *IRIS_MLP, "--out", out, "--report", report, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "task:       multiclass (3 classes: setosa, versicolor, virginica), "
        "chosen from the label column 'species' (--task to change)"
    )
    doc = json.loads((report / "report.json").read_text())
    assert sorted(p.name for p in report.iterdir()) == ["confusion.png", "loss.png", "report.json"]
    assert set(doc["metrics"]) == set(doc["baseline"]) == {"train", "validation"}
    assert set(doc["metrics"]["validation"]) == {"accuracy", "log_loss", "macro_f1"}
    assert doc["metrics"]["validation"]["accuracy"] >= 0.9 and doc["baseline"]["validation"]["accuracy"] < 0.5
    predictor = Predictor.from_path(out)
    assert (predictor.task, list(predictor.classes_)) == ("multiclass", ["setosa", "versicolor", "virginica"])
    assert "Relu" in [node.op_type for node in onnx.load(out).graph.node]


def test_progression_is_regression_in_real_units(cli_runner, tmp_path):
    out, report = tmp_path / "p.onnx", tmp_path / "report"
    result = run(cli_runner, "--data", PROGRESSION, *PROGRESSION_LINEAR, "--out", out, "--report", report, "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("task:       regression of 'progression', chosen from the label column")
    doc = json.loads((report / "report.json").read_text())
    assert sorted(p.name for p in report.iterdir()) == ["loss.png", "predicted_vs_actual.png", "report.json"]
    assert set(doc["metrics"]["validation"]) == {"rmse", "mae", "r2"}
    assert doc["metrics"]["validation"]["r2"] > 0.4 and doc["baseline"]["train"]["r2"] == 0.0
    predictor = Predictor.from_path(out)
    assert (predictor.task, predictor.targets) == ("regression", ("progression",))
    golden = predictor.manifest["golden"]  # the tolerance scales with the values (docs/training.md)
    assert golden["rtol"] == 1e-5
    assert golden["atol"] == pytest.approx(1e-6 + 1e-5 * np.abs(golden["outputs"]).max(), rel=1e-6)
    table = read_table(PROGRESSION)
    # The target's scaling is inside the graph: the device prints disease progression, not z-scores.
    predicted = predictor.predict(table.x).reshape(-1)
    assert abs(predicted.mean() - table.y.mean()) < 5 and predicted.std() > 30
    assert [node.op_type for node in onnx.load(out).graph.node][-2:] == ["Mul", "Add"]


@pytest.fixture(scope="module")
def fitted_tasks(tmp_path_factory):
    """A multiclass, a regression and a binary run through the library, with their exported predictors."""
    runs = {
        "multiclass": (
            read_table(IRIS),
            TrainConfig(model="mlp", hidden=(8,), activation="tanh", standardize=True, lr=0.1, epochs=300),
        ),
        "regression": (
            read_table(PROGRESSION),
            TrainConfig(model="mlp", hidden=(8,), activation="relu", standardize=True, lr=0.05, epochs=300),
        ),
        "binary": (read_table(DATA / "diabetes.csv.gz"), TrainConfig(standardize=True, lr=0.5, epochs=200)),
    }
    out, directory = {}, tmp_path_factory.mktemp("tasks")
    for task, (table, config) in runs.items():
        fitted = fit(table, config, val_fraction=0.2)
        out[task] = fitted, Predictor.from_bytes(export_fitted(fitted, directory / f"{task}.onnx"))
    return out


@pytest.mark.parametrize("task", ["multiclass", "regression", "binary"])
@pytest.mark.parametrize("rows", ["train", "validation", "grid"])
def test_runtime_matches_torch(fitted_tasks, task, rows):
    fitted, predictor = fitted_tasks[task]
    lo, hi = fitted.table.x.min(axis=0), fitted.table.x.max(axis=0)
    grid = np.random.default_rng(0).uniform(lo - (hi - lo) / 2, hi + (hi - lo) / 2, (1000, len(lo))).astype(np.float32)
    x = {"train": fitted.fit.x, "validation": fitted.val.x, "grid": grid}[rows]
    with torch.no_grad():
        expected = fitted.result.model(torch.from_numpy(x)).numpy()
    if task == "regression":
        golden = predictor.manifest["golden"]
        got = predictor.predict(x).reshape(-1, 1)
        assert (np.abs(got - expected) <= golden["atol"] + golden["rtol"] * np.abs(expected)).all()
    elif task == "binary":
        np.testing.assert_allclose(predictor.predict_proba(x)[:, 1], expected[:, 0], rtol=0, atol=ATOL)
    else:
        np.testing.assert_allclose(predictor.predict_proba(x), expected, rtol=0, atol=ATOL)


def test_every_task_beats_its_baseline_on_validation(fitted_tasks):
    for task, (fitted, _) in fitted_tasks.items():
        model, bar = fitted.metrics["validation"], fitted.baseline["validation"]
        better = model["rmse"] < bar["rmse"] if task == "regression" else model["accuracy"] > bar["accuracy"]
        assert better, task


@pytest.mark.parametrize(
    "text, args, task",
    [
        ("x,y\n1,no\n2,yes\n3,no\n4,yes\n", [], "binary (2 classes: no, yes)"),
        ("x,y\n1,1\n2,2\n3,3\n4,1\n", [], "multiclass (3 classes: 1, 2, 3)"),
        ("x,y\n1,1\n2,2\n3,3\n4,1\n", ["--task", "regression"], "regression of 'y'"),
        ("x,y\n1,0.5\n2,1.5\n3,2.5\n4,0.25\n", [], "regression of 'y'"),
    ],
)
def test_the_task_comes_from_the_label_column(tmp_path, text, args, task):
    table = tmp_path / "t.csv"
    table.write_text(text)
    chosen = read_table(table, task=args[1] if args else "auto")
    assert f"{chosen.task} " in task + " "


BIG = "1234567890123456789"


@pytest.mark.parametrize(
    "labels, task, named",
    [
        # as float64 the first two are one number: they were one class, named 12345678901234567168 (exit 0)
        ([BIG + "0", BIG + "1", "7"], "multiclass", [BIG + "0", BIG + "1", "7"]),
        (["1", "1.0", "01", "2"], "binary", ["1", "1", "1", "2"]),
        (["1e20", "100000000000000000000", "5"], "binary", ["100000000000000000000"] * 2 + ["5"]),
        (["0.1", "0.10000000000000001", "0.2"], "multiclass", ["0.1", "0.10000000000000001", "0.2"]),
    ],
)
def test_a_numeric_class_is_its_exact_value(tmp_path, labels, task, named):
    """Each row's class, by the name the model gives it, is the number in its label column."""
    table = tmp_path / "t.csv"
    table.write_text("x,y\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels)))
    read = read_table(table, task=task)
    assert read.task == task
    assert [read.labels[int(i)] for i in read.y[:, 0]] == named


DIGITS = st.text("0123456789", min_size=1, max_size=22)
NUMBER = st.builds(
    lambda sign, whole, frac, exp: sign + whole + frac + exp,
    st.sampled_from(["", "-", "+"]),
    DIGITS,
    st.sampled_from(["", "."]) | DIGITS.map(lambda d: "." + d),
    st.sampled_from(["", "e0", "e3", "E-2", "e+20"]),
)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(NUMBER, min_size=3, max_size=12).filter(lambda v: len({Decimal(x) for x in v}) in range(3, 101)))
def test_each_row_is_named_by_its_own_number(values):
    """Classes are the distinct numbers of the label column, exactly, each named by a text of its own value."""
    target = encode(values, [f"line {i}" for i in range(len(values))], "multiclass")
    assert len(target.labels) == len({Decimal(v) for v in values})
    assert [Decimal(target.labels[int(i)]) for i in target.y[:, 0]] == [Decimal(v) for v in values]


@pytest.mark.parametrize(
    "text, args, message",
    [
        (
            "x,y\n1,a\n2,a\n",
            [],
            "{t}: the label column 2 (y) is 'a' in every row; a classifier needs at least two classes",
        ),
        (
            "x,y\n" + "".join(f"{i},c{i}\n" for i in range(101)),
            [],
            "{t}: the label column 2 (y) has 101 distinct values, more than 100 classes",
        ),
        ("x,y\n1,0\n2,nan\n", [], "{t} line 3: the label column 2 (y) 'nan' is not a finite number"),
        (  # was: 'training diverged ... lower --lr' (float32 made it inf)
            "x,y\n1,0.5\n2,1e39\n3,2.5\n",
            [],
            "{t} line 3: the label column 2 (y) '1e39' is beyond float32 (largest 3.403e+38); the model cannot be trained",
        ),
        ("x,y\n1,0\n2,\n", [], "{t} line 3: the label column 2 (y) is empty; every row needs one"),
        (
            "x,y\n1,0.5\n2,1.5\n3,2.5\n",
            ["--task", "binary"],
            "{t}: the label column 2 (y) has 3 distinct values (e.g. "
            "'2.5' on {t} line 4), but --task binary needs 2 classes; to predict a number use --task regression",
        ),
        ("x,y\n1,a\n2,b\n", ["--task", "multiclass"], "{t}: the label column 2 (y) has 2 classes; use --task binary"),
        ("x,y\n1,a\n2,b\n", ["--task", "regression"], "{t} line 2: the label column 2 (y) 'a' is not a number"),
        (
            "x,y\n1,a\n2,b\n3,c\n",
            ["--labels", "x,y"],
            "--labels gives 2 names, but the label column has 3 classes (a,b,c)",
        ),
        (  # refused before training: the manifest would be, after it
            "p_a,y\n1,0\n2,1\n3,2\n",
            ["--labels", "a,b,c"],
            "--labels a,b,c names the output column 'p_a', which is a feature's name; choose other --labels or rename "
            "the feature",
        ),
        (
            "x,y\n1,a\n2,b\n3,c\n",
            ["--threshold", "0.3"],
            "--threshold applies to binary models; this one is multiclass",
        ),
        (
            "x,y\n1,0.5\n2,1.5\n3,2.5\n",
            ["--model", "logistic"],
            "--model logistic is for classifiers; for a regression",
        ),
        ("x,y\n1,0\n2,1\n", ["--model", "linear"], "--model linear is for regression; for a binary model use"),
    ],
)
def test_bad_label_columns_are_one_line_exit_2_and_write_nothing(cli_runner, tmp_path, text, args, message):
    table = tmp_path / "t.csv"
    table.write_text(text)
    result = run(cli_runner, "--data", table, *args, "--out", tmp_path / "m.onnx", "--report", tmp_path / "r", "-q")
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith(f"edge-train: error: {message.format(t=table)}")
    assert len(result.stderr.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
