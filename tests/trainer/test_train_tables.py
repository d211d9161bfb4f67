"""Training on the diabetes table: reproducible, validated, and scored by the runtime as torch scores it."""

import csv
import functools
import io
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from helpers import DATA, examples, torch_proba
from edge_predict import Predictor
from edge_predict.cli import cli as predict_cli
from edge_predict.trainer.table import read_table
from edge_predict.trainer.run import export_fitted, fit
from edge_predict.trainer.train import TrainConfig

# Same reasoning as test_parity.py: torch's and onnxruntime's float32 sigmoid kernels differ in the
# last bits; the MLP stacks three sigmoids and a standardization, still a few ulps (measured ~1.2e-7).
ATOL = 1e-6
# Small runs keep `make test` quick (each well under a second): enough epochs and lr for every model
# to leave the 65% plateau of "always predict 1" (the raw-input MLP needs lr 2 to escape it in 400).
CONFIGS = {
    "logistic": TrainConfig(epochs=300, lr=0.5),
    "logistic-standardized": TrainConfig(epochs=300, lr=0.5, standardize=True),
    "mlp": TrainConfig(epochs=400, lr=2.0, model="mlp", hidden=(6, 4)),
    "mlp-standardized": TrainConfig(epochs=300, lr=1.0, model="mlp", hidden=(6, 4), standardize=True),
}
STANDARDIZED = [name for name, config in CONFIGS.items() if config.standardize]


@functools.lru_cache(maxsize=None)
def train_and_export(name: str, directory: Path):
    """(fitted, Predictor of its export) for CONFIGS[name], 20% of the rows held out."""
    fitted = fit(read_table(DATA / "diabetes.csv.gz"), CONFIGS[name], val_fraction=0.2)
    path = directory / f"{name}.onnx"
    export_fitted(fitted, path)
    return fitted, Predictor.from_path(path)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("diabetes")


@pytest.fixture(params=sorted(CONFIGS))
def trained(request, models_dir):
    return train_and_export(request.param, models_dir)


def test_training_is_reproducible(diabetes_path):
    table = read_table(diabetes_path)
    a, b = (fit(table, CONFIGS["mlp"], val_fraction=0.2) for _ in range(2))
    for p, q in zip(a.result.model.parameters(), b.result.model.parameters()):
        assert torch.equal(p, q)
    assert a.metrics == b.metrics


def test_validation_metrics_are_reported(trained):
    fitted, predictor = trained
    assert set(fitted.metrics) == {"train", "validation"}
    assert len(fitted.val.x) == 152 and len(fitted.fit.x) == 607
    # 65% of the rows are label 1: a model that learned nothing scores about that.
    assert fitted.metrics["validation"]["accuracy"] > 0.7
    training = predictor.manifest["training"]
    assert training["val_accuracy"] == fitted.metrics["validation"]["accuracy"]
    assert training["n_validation"] == 152


@pytest.mark.parametrize("rows", ["train", "validation", "wide"])
def test_runtime_matches_torch(trained, rows):
    fitted, predictor = trained
    x = {
        "train": fitted.fit.x,
        "validation": fitted.val.x,
        "wide": np.random.default_rng(0).uniform(-5, 5, (500, 8)).astype(np.float32),
    }[rows]
    np.testing.assert_allclose(predictor.predict_proba(x)[:, 1], torch_proba(fitted.result.model, x), rtol=0, atol=ATOL)


@pytest.mark.parametrize("name", STANDARDIZED)
def test_standardization_in_the_graph_equals_torch_on_standardized_inputs(name, models_dir):
    fitted, predictor = train_and_export(name, models_dir)
    model = fitted.result.network  # Standardized(net): trained on logits; the graph appends the sigmoid
    mean, std = fitted.fit.x.mean(axis=0), fitted.fit.x.std(axis=0)
    np.testing.assert_allclose(model.mean.numpy().reshape(-1), mean, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.std.numpy().reshape(-1), std, rtol=0, atol=1e-6)
    assert [node.op_type for node in onnx.load(predictor.source).graph.node][:2] == ["Sub", "Div"]
    scaled = (fitted.val.x - model.mean.numpy()) / model.std.numpy()
    with torch.no_grad():
        expected = torch.sigmoid(model.inner(torch.from_numpy(scaled))).numpy().reshape(-1)
    np.testing.assert_allclose(predictor.predict_proba(fitted.val.x)[:, 1], expected, rtol=0, atol=ATOL)


def test_manifest_names_features_and_records_training_ranges(trained):
    fitted, predictor = trained
    features = predictor.manifest["features"]
    assert [f["name"] for f in features] == [f"x{i}" for i in range(8)]
    observed = np.float32([f["observed"] for f in features])
    np.testing.assert_array_equal(observed[:, 0], fitted.fit.x.min(axis=0))
    np.testing.assert_array_equal(observed[:, 1], fitted.fit.x.max(axis=0))
    # The training range is recorded, not enforced: with --domain none the runtime scores any finite value.
    assert all(f["min"] is None and f["max"] is None for f in features)
    assert predictor.predict_proba(np.full((1, 8), 7.0))[:, 1].shape == (1,)


def test_csv_header_in_another_order_is_scored_by_name(trained, cli_runner, tmp_path):
    fitted, predictor = trained
    x = fitted.val.x[:20]
    order = [7, 2, 5, 0, 3, 6, 1, 4]
    lines = [",".join(f"x{j}" for j in order)] + [",".join(repr(float(row[j])) for j in order) for row in x]
    source = tmp_path / "shuffled.csv"
    source.write_text("\n".join(lines) + "\n")
    result = cli_runner.invoke(predict_cli, ["predict", "-i", str(source), "-f", "csv", "-m", predictor.source])
    assert result.exit_code == 0, result.stderr
    got = np.float32([line.split(",")[-2] for line in result.stdout.splitlines()[1:]])
    np.testing.assert_allclose(got, torch_proba(fitted.result.model, x), rtol=0, atol=ATOL)


def _reads_as_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


LABEL_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff#"), min_size=1, max_size=8
)
LABEL = LABEL_TEXT.filter(lambda t: t.strip() == t and t not in ("label", "probability", "error"))


@settings(max_examples=examples(60), deadline=None)
@given(LABEL, LABEL, LABEL_TEXT)
def test_quoted_fields_are_read_as_csv_writes_them(tmp_path_factory, label_a, label_b, ident):
    """Labels and dropped columns holding commas or quotes ("no, never", "Smith, John") read back as Python's csv
    module wrote them, as edge-predict reads its input: RFC 4180."""
    assume(label_a != label_b)
    assume(not any(_reads_as_float(t) for t in (label_a, label_b)))  # numbers are classes by value (0 == 00),
    # and a label reading as nan or inf is refused as a missing value: text labels are what this test is about
    rows = [["id", "hours", "verdict"]] + [[f"{ident}{i}", str(i), [label_a, label_b][i % 2]] for i in range(6)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path_factory.mktemp("q") / "table.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    table = read_table(path, label="verdict", drop=["id"], task="binary")
    assert table.feature_names == ("hours",)
    np.testing.assert_array_equal(table.x[:, 0], np.arange(6, dtype=np.float32))
    assert sorted(table.labels) == sorted([label_a, label_b])
    assert [table.labels[int(c)] for c in table.y.ravel()] == [r[2] for r in rows[1:]]


def test_a_training_row_whose_first_field_starts_with_hash_is_data(tmp_path):
    """As edge-predict reads it: '#1,1,0' (an ID first) is a row; '# a comment' is not."""
    path = tmp_path / "t.csv"
    path.write_text("# exported 2026-11-30\nid,hours,passed\n#1,1,0\n# a comment\n#2,2,0\n3,3,1\n#4,4,1\n")
    table = read_table(path, label="passed", drop=["id"])
    np.testing.assert_array_equal(table.x.ravel(), [1, 2, 3, 4])
    np.testing.assert_array_equal(table.y.ravel(), [0, 0, 1, 1])
