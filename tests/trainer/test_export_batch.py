"""export() refuses a module or graph whose answer for a sample depends on the other samples scored with it.

The golden vectors are scored as one batch, at export and on the device; such a model passed both, and the device
then answered each row by the rows it happened to read in the same block (exit 0).
"""

import re

import numpy as np
import pytest
import torch
from torch import nn

from edge_predict import Predictor
from edge_predict.trainer import ExportError, export
from edge_predict.trainer import exporter

NAMES = ["a", "b", "c"]
X = np.random.default_rng(5).normal(size=(12, 3)).astype(np.float32)


class Centered(nn.Module):
    """Centres each batch on its own mean: per batch, not per sample."""

    def __init__(self, outputs=1):
        super().__init__()
        self.linear = nn.Linear(3, outputs)

    def forward(self, x):
        return self.linear(x - x.mean(0, keepdim=True))


class NormalizedOverBatch(nn.Module):
    """F.normalize over dim 0 (the batch) where dim 1 was meant."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x):
        return self.linear(nn.functional.normalize(x, dim=0))


class SoftmaxOverBatch(nn.Module):
    """A one-column 'probability' from softmax over dim 0: in [0, 1], summing to 1 over the batch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x):
        return torch.softmax(self.linear(x), dim=0)


@pytest.mark.parametrize(
    "module, options",
    [
        (Centered(), dict(task="regression")),
        (Centered(3), dict(task="multiclass", labels=["p", "q", "r"], outputs="logits")),
        (NormalizedOverBatch(), dict(task="binary", outputs="logits")),
        (SoftmaxOverBatch(), dict(task="binary")),
    ],
)
def test_a_module_answering_by_the_batch_is_refused(tmp_path, module, options):
    torch.manual_seed(0)
    with pytest.raises(ExportError) as info:
        export(module.eval(), tmp_path / "m.onnx", feature_names=NAMES, x_train=X, **options)
    assert str(info.value).startswith("the module computes ")
    assert "scored alone, but" in str(info.value)
    assert re.search(r"within the batch of all 15 \(bound [0-9.e-]+( \+ 1e-05 x \|value\|)?\)", str(info.value))
    assert str(info.value).endswith(
        "): its output for a sample depends on the other samples scored with it (a statistic over dim 0 such as "
        "x.mean(0), softmax(dim=0), a batch size it keeps), so the device's answers would depend on which rows it reads "
        "together; compute each sample from its own features. If the difference is float32 rounding of large unscaled "
        "features, standardize them in the module or pass a larger atol= (at most 1% of the outputs' scale). Nothing was "
        "written"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_graph_answering_by_the_batch_is_refused(tmp_path, monkeypatch):
    """torch answers each sample alone; the graph (here: another module's, traced in its place) does not, though it
    gives the whole golden batch the same numbers."""
    torch.manual_seed(0)
    module = nn.Linear(3, 1).eval()

    class SameOnTheGoldenBatch(nn.Module):
        def __init__(self, mean):
            super().__init__()
            self.inner = module
            self.register_buffer("mean", torch.from_numpy(mean))

        def forward(self, x):
            return self.inner(x - x.mean(0, keepdim=True) + self.mean)

    trace = exporter.to_onnx
    monkeypatch.setattr(
        exporter,
        "to_onnx",
        lambda m, examples, *a: trace(SameOnTheGoldenBatch(examples[0].numpy().mean(0, keepdims=True)), examples, *a),
    )
    with pytest.raises(ExportError, match=r"^the exported graph computes \[.+\] for golden input 0 .+ scored alone"):
        export(module, tmp_path / "m.onnx", feature_names=NAMES, task="regression", x_train=X)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_per_sample_modules_export_and_answer_each_row_as_in_a_batch(tmp_path, task):
    torch.manual_seed(0)
    width = 3 if task == "multiclass" else 1
    module = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, width))
    options = dict(outputs="logits", labels=["p", "q", "r"]) if task == "multiclass" else {}
    options = dict(outputs="logits") if task == "binary" else options
    export(module.eval(), tmp_path / "m.onnx", feature_names=NAMES, task=task, x_train=X, **options)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    score = predictor.predict if task == "regression" else predictor.predict_proba
    together = score(X)
    alone = np.concatenate([score(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, together, rtol=1e-5, atol=1e-6)
