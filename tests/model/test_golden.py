"""What the golden vectors mean: the outputs are what torch computes for the golden inputs, with the file's weights.

The weights are read out of the .onnx file with onnx.numpy_helper and the graph is evaluated op by op with
torch (the same kernels torch.nn.Linear and torch.sigmoid use), so neither the trainer's modules nor the
runtime takes part. A golden output computed from other weights, by onnxruntime, or rounded, fails here.
"""

import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from helpers import DEFAULT_MODEL
from helpers.parity import export_plain

F32 = np.float32


def attributes(node) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def gemm(a, b, c, alpha=1.0, beta=1.0, transA=0, transB=0):
    assert (alpha, beta) == (1.0, 1.0), "only the plain Gemm torch.nn.Linear exports to"
    a = a.T if transA else a
    b = b.T if transB else b
    return torch.addmm(c, a, b)  # torch.nn.Linear's kernel: bias + x @ W.T


OPS = {
    "Gemm": gemm,
    "MatMul": torch.matmul,
    "Add": torch.add,
    "Sub": torch.sub,
    "Mul": torch.mul,
    "Div": torch.div,
    "Sigmoid": torch.sigmoid,
    "Relu": torch.relu,
    "Identity": lambda x: x,
    "Concat": lambda *xs, axis: torch.cat(xs, dim=axis),  # format 3's binary [1 - p, p]
}


def torch_outputs(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    """The graph's output for `x`, evaluated node by node with torch on the file's own initializers."""
    graph = model.graph
    values = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    values[graph.input[0].name] = torch.from_numpy(np.asarray(x, F32))
    with torch.no_grad():
        for node in graph.node:
            if node.op_type == "Constant":
                (out,) = node.output
                values[out] = torch.from_numpy(numpy_helper.to_array(attributes(node)["value"]).copy())
                continue
            assert node.op_type in OPS, f"{node.op_type} has no torch counterpart here: add it to OPS"
            (out,) = node.output
            values[out] = OPS[node.op_type](*(values[name] for name in node.input), **attributes(node))
    return values[graph.output[0].name].numpy()


def golden(model: onnx.ModelProto) -> tuple[np.ndarray, np.ndarray]:
    (entry,) = [e for e in model.metadata_props if e.key == "edge_predict"]
    doc = json.loads(entry.value)["golden"]
    return F32(doc["inputs"]), F32(doc["outputs"])


def mlp(n_features: int, seed: int) -> torch.nn.Module:
    """An MLP with standardization inside, the largest graph edge-train exports (random weights; logits out)."""
    from edge_predict.trainer.models import MLP, Standardized

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    return Standardized(
        MLP(n_features), rng.normal(size=n_features).astype(F32), rng.uniform(0.5, 2, size=n_features).astype(F32)
    ).eval()


@pytest.fixture(scope="module", params=["default model", "lecture export", "mlp, 8 features"])
def exported(request, tmp_path_factory):
    if request.param == "default model":
        return onnx.load(str(DEFAULT_MODEL))
    if request.param == "lecture export":
        return onnx.load(str(request.getfixturevalue("model_path")))
    path = tmp_path_factory.mktemp("golden") / "mlp.onnx"
    x = np.random.default_rng(1).uniform(-1, 1, size=(12, 8)).astype(F32)
    # as edge-train exports it: the module returns logits, the exporter appends the Sigmoid to the graph
    return onnx.load_from_string(export_plain(mlp(8, seed=1), path, 8, x, outputs="logits"))


def test_golden_outputs_are_torchs_outputs_for_the_golden_inputs(exported):
    x, stored = golden(exported)
    # Stored as the shortest decimal of the float32 torch computed: they read back as exactly that float32.
    np.testing.assert_array_equal(stored, torch_outputs(exported, x).reshape(stored.shape))


def test_golden_inputs_cover_every_feature_of_the_graph(exported):
    x, stored = golden(exported)
    assert x.shape[1] == exported.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    assert len(x) == len(stored) >= 2
