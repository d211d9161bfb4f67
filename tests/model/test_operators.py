"""The documented operator set covers every model edge-train and export() make: each kind is exported with torch and
its operators checked against the set, and its graph passes the shape rules (graph.check)."""

import numpy as np
import pytest
import torch

from edge_predict.model import graph, operators
from edge_predict.model.file import scan
from edge_predict.model.limits import DEFAULT
from edge_predict.trainer.exporter import export
from edge_predict.trainer.models import Rescaled, Standardized, build_model

X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
NAMES = ["a", "b", "c"]


class Blocks(torch.nn.Module):
    """LayerNorm, BatchNorm1d, GELU, LeakyReLU, view by the batch, chunk and cat: what a custom module adds."""

    def __init__(self):
        super().__init__()
        self.inner, self.norm, self.batch = torch.nn.Linear(3, 8), torch.nn.LayerNorm(8), torch.nn.BatchNorm1d(8)
        self.out = torch.nn.Linear(8, 1)

    def forward(self, x):
        h = self.batch(torch.nn.functional.gelu(self.norm(self.inner(x)))).view(x.shape[0], -1)
        a, b = h.chunk(2, dim=1)
        return torch.sigmoid(self.out(torch.cat([a * torch.sigmoid(b), torch.nn.functional.leaky_relu(a)], 1)))


def _kinds():
    torch.manual_seed(0)
    yield "mlp-sigmoid", build_model("mlp", 3), {}
    yield "mlp-relu", build_model("mlp", 3, activation="relu"), {}
    yield "mlp-tanh", build_model("mlp", 3, activation="tanh"), {}
    yield "logistic", build_model("logistic", 3), {"outputs": "logits"}
    yield (
        "multiclass",
        build_model("mlp", 3, n_outputs=3),
        {"task": "multiclass", "labels": list("xyz"), "outputs": "logits"},
    )
    yield "regression", build_model("mlp", 3, n_outputs=2), {"task": "regression", "targets": ["u", "v"]}
    yield "standardized", Standardized(build_model("mlp", 3), X.mean(0), X.std(0)), {"outputs": "logits"}
    yield (
        "rescaled",
        Rescaled(build_model("mlp", 3), np.zeros(1, np.float32), np.ones(1, np.float32)),
        {"task": "regression"},
    )
    yield "blocks", Blocks(), {}


@pytest.mark.slow
@pytest.mark.parametrize("name, module, options", list(_kinds()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_exported_kind_uses_only_documented_operators(name, module, options, tmp_path):
    data = export(module.eval(), tmp_path / f"{name}.onnx", feature_names=NAMES, x_train=X, **options)
    facts = scan(data, name)
    used = {(node.domain or operators.ONNX, node.op_type) for node in facts.graph.nodes}
    assert used <= operators.DOCUMENTED, operators.outside(used)
    assert not facts.functions
    graph.check(facts, name, DEFAULT)
