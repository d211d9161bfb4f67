"""Property: on random MLPs (every hidden activation edge-train offers, every task) and random inputs, the numpy
engine is within the golden tolerance the exporter would write (1e-6 on probabilities; a regression's 1e-6 + 1e-5 x
its largest output) of the exact answer (float64 throughout), and agrees with onnxruntime within that tolerance
plus onnxruntime's own distance from the exact answer (its float32 sums drift past 1e-6 on large logits, measured:
1.0e-6 where the numpy engine is 2.4e-7 off)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples
from onnx import TensorProto, helper, numpy_helper

from edge_predict import Predictor
from edge_predict.engines.numpy.session import make_session
from edge_predict.trainer.models import ACTIVATIONS

PROBABILITY_ATOL, REGRESSION_ATOL, REGRESSION_RTOL = 1e-6, 1e-6, 1e-5
TASKS = ("binary", "multiclass", "regression")


def tolerance(task: str, outputs: np.ndarray) -> float:
    if task == "regression":
        return REGRESSION_ATOL + REGRESSION_RTOL * float(np.abs(outputs).max())
    return PROBABILITY_ATOL


def mlp_graph(rng, widths, activation: str, task: str, opset: int) -> bytes:
    """What the exporter writes for an MLP: Gemm (transB) and the activation per hidden layer, then the task's head
    (Sigmoid and [1 - p, p]; Softmax; the values as they are); and the exact answer, a float64 function of x."""
    nodes, inits, name, layers = [], [], "x", []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        w = rng.normal(0, 1.5 / np.sqrt(n_in), (n_out, n_in)).astype(np.float32)
        b = rng.normal(0, 0.5, n_out).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        layers.append((w.astype(np.float64), b.astype(np.float64)))
        nodes.append(helper.make_node("Gemm", [name, f"w{i}", f"b{i}"], [f"z{i}"], transB=1))
        name = f"z{i}"
        if i < len(widths) - 2:
            nodes.append(helper.make_node(activation.capitalize(), [name], [f"h{i}"]))
            name = f"h{i}"
    if task == "binary":
        inits.append(numpy_helper.from_array(np.array(1.0, np.float32), "one"))
        nodes += [
            helper.make_node("Sigmoid", [name], ["p"]),
            helper.make_node("Sub", ["one", "p"], ["q"]),
            helper.make_node("Concat", ["q", "p"], ["y"], axis=1),
        ]
    elif task == "multiclass":
        nodes.append(helper.make_node("Softmax", [name], ["y"], axis=1))
    else:
        nodes.append(helper.make_node("Identity", [name], ["y"]))
    width = 2 if task == "binary" else widths[-1]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", widths[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8).SerializeToString()
    return model, lambda x: exact(x, layers, activation, task)


def exact(x: np.ndarray, layers, activation: str, task: str) -> np.ndarray:
    h = x.astype(np.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        if i < len(layers) - 1:
            h = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh, "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[
                activation
            ](h)
    if task == "binary":
        p = 1 / (1 + np.exp(-h))
        return np.concatenate([1 - p, p], axis=1)
    if task == "multiclass":
        e = np.exp(h - h.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return h


@settings(max_examples=examples(100), deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    activation=st.sampled_from(sorted(ACTIVATIONS)),
    task=st.sampled_from(TASKS),
    features=st.integers(1, 12),
    hidden=st.lists(st.integers(1, 32), min_size=0, max_size=3),
    rows=st.integers(1, 300),
    scale=st.sampled_from([0.1, 1.0, 5.0]),
    opset=st.sampled_from([13, 17]),
)
def test_the_engines_agree_on_random_mlps(seed, activation, task, features, hidden, rows, scale, opset):
    rng = np.random.default_rng(seed)
    out = {"binary": 1, "multiclass": int(rng.integers(2, 6)), "regression": int(rng.integers(1, 4))}[task]
    data, reference = mlp_graph(rng, [features, *hidden, out], activation, task, opset)
    x = rng.normal(0, scale, (rows, features)).astype(np.float32)
    want = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0]
    got = make_session(data, "mlp", None).run(["y"], {"x": x})[0]
    assert got.dtype == np.float32 and got.shape == want.shape
    truth = reference(x)
    np.testing.assert_allclose(got, truth, rtol=0, atol=tolerance(task, truth))
    drift = float(np.abs(want - truth).max())  # onnxruntime's own distance from the exact answer
    np.testing.assert_allclose(got, want, rtol=0, atol=tolerance(task, want) + drift)


def _exported(activation: str, task: str, seed: int, tmp_path):
    from edge_predict.trainer.exporter import export
    from edge_predict.trainer.models import build_model

    torch.manual_seed(seed)
    x = np.random.default_rng(seed).normal(size=(40, 4)).astype(np.float32)
    n_out = {"binary": 1, "multiclass": 3, "regression": 2}[task]
    options = {"binary": {"outputs": "logits"}, "multiclass": {"task": "multiclass", "labels": list("xyz"),
               "outputs": "logits"}, "regression": {"task": "regression", "targets": ["u", "v"]}}[task]  # fmt: skip
    module = build_model("mlp", 4, hidden=(8, 4), n_outputs=n_out, activation=activation).eval()
    return export(module, tmp_path / "m.onnx", feature_names=list("abcd"), x_train=x, **options), x


@pytest.mark.slow
@settings(max_examples=examples(12), deadline=None)
@given(activation=st.sampled_from(sorted(ACTIVATIONS)), task=st.sampled_from(TASKS), seed=st.integers(0, 999))
def test_exported_models_are_proven_on_numpy_and_agree(tmp_path_factory, activation, task, seed):
    data, x = _exported(activation, task, seed, tmp_path_factory.mktemp("m"))
    numpy_, ort_ = (Predictor.from_bytes(data, engine=e) for e in ("numpy", "onnxruntime"))
    assert numpy_.manifest["golden"]["engines"] == ["onnxruntime", "numpy"]
    probe = np.random.default_rng(seed).normal(0, 2, (500, 4)).astype(np.float32)
    if task == "regression":
        a, b = numpy_.predict(probe), ort_.predict(probe)
    else:
        a, b = numpy_.predict_proba(probe), ort_.predict_proba(probe)
    np.testing.assert_allclose(a, b, rtol=0, atol=tolerance(task, b))
