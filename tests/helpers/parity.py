"""The parity policy, written once: how far onnxruntime may be from torch, and the references used."""

from __future__ import annotations

import numpy as np

# Probabilities from the same float32 logit: torch and onnxruntime use different float32 sigmoid
# kernels that disagree in the last bits (measured over 320 million logits in [-100, 100]: at most
# 1.79e-7, three ulps of a probability near 1). 1e-6 leaves margin; a wrong weight moves far more.
ATOL = 1e-6

# onnxruntime's Sigmoid is exactly 0.0 / 1.0 for every |logit| >= TAIL_END and never below
# TAIL_START (measured over every float32 in between); torch is still ~1e-7 from 0 or 1 there.
TAIL_START = 15.72
TAIL_END = 18.0

EPS32 = float(np.finfo(np.float32).eps)


def sigmoid64(z: np.ndarray) -> np.ndarray:
    """The plain numpy reference 1 / (1 + exp(-z)), in float64."""
    with np.errstate(over="ignore"):  # exp overflows to inf far out, and 1 / inf is the right 0
        return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))


def tolerance(X: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Per-sample bound on |p_onnxruntime - p_torch| for a logistic model sigmoid(X @ w + b).

    ATOL covers the sigmoid kernels. Each side also rounds the logit in float32, summing the k + 1
    terms in its own order, so each is within (k + 1) * eps/2 * (|X| @ |w| + |b|) of the exact
    logit; that moves p by at most the sigmoid's largest slope over the interval times the width.
    For the one-feature lecture model this term is below 1e-7; for 16 large weights it dominates.
    """
    X = np.asarray(X, np.float64).reshape(len(X), -1)
    w = np.asarray(w, np.float64).reshape(-1)
    spread = (len(w) + 1) * EPS32 * (np.abs(X) @ np.abs(w) + abs(float(b)))
    nearest = np.maximum(np.abs(X @ w + float(b)) - spread, 0.0)
    p = sigmoid64(nearest)
    return ATOL + p * (1.0 - p) * spread


def gemm_weights(model_bytes: bytes) -> tuple[np.ndarray, float]:
    """w (k,) and b of the one Gemm node, read back out of the ONNX file (the test process may use onnx)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load_from_string(model_bytes).graph
    (gemm,) = [node for node in graph.node if node.op_type == "Gemm"]
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gemm.attribute}
    W = init[gemm.input[1]]
    W = W.T if attrs.get("transB", 0) else W  # W is (k, 1) once oriented as X @ W
    assert attrs.get("alpha", 1.0) == 1.0 and attrs.get("beta", 1.0) == 1.0 and not attrs.get("transA", 0)
    return W.reshape(-1), float(init[gemm.input[2]].reshape(-1)[0])


def logistic(w: np.ndarray, b: float):
    """sigmoid(w . x + b) as torch computes it: exactly these float32 weights and bias, probabilities out."""
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(len(w), 1), torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(np.asarray(w, np.float32).reshape(1, -1)))
        model[0].bias.copy_(torch.tensor([b], dtype=torch.float32))
    return model.eval()


def export_plain(model, path, n_features: int, golden_x, **kwargs) -> bytes:
    """Export the binary `model` (probabilities out) with no feature domain: any finite input is scored."""
    from edge_predict.trainer import export

    names = ["hours"] if n_features == 1 else [f"x{i}" for i in range(n_features)]
    return export(
        model,
        path,
        feature_names=names,
        training={"model": "logistic", "source": "test"},
        golden_inputs=np.asarray(golden_x, np.float32).reshape(-1, n_features),
        **kwargs,
    )


def labels_differ_only_near(threshold: float, p_torch: np.ndarray, labels: np.ndarray, near) -> np.ndarray:
    """Torch probabilities whose label differs from `labels` though they are farther than `near` from threshold."""
    expected = (np.asarray(p_torch, np.float64) >= threshold).astype(np.int64)
    wrong = (expected != labels) & (np.abs(np.asarray(p_torch, np.float64) - threshold) > near)
    return np.asarray(p_torch)[wrong]
