"""What torch computes from a model file's own weights, on the host, with the tolerance policy's bound."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from helpers import parity

GRID_ROWS = 256


@dataclass(frozen=True)
class Expected:
    """Torch's outputs for a grid: the graph's raw output rows and, per value, how far the device may be."""

    outputs: np.ndarray  # (n, w) float64
    tol: np.ndarray  # (n, w)
    labels: list[str | None] | None  # what predict should say; None where torch is within tol of the threshold


def manifest(model_bytes: bytes) -> dict:
    """The edge-predict manifest stored in the file's metadata."""
    import onnx

    props = {p.key: p.value for p in onnx.load_from_string(model_bytes).metadata_props}
    return json.loads(props["edge_predict"])


def grid(meta: dict) -> np.ndarray:
    """GRID_ROWS float32 samples inside the model's domain: past the training range on both sides, far out to one."""
    rng = np.random.default_rng(0)
    columns = []
    for feature in meta["features"]:
        lo, hi = feature.get("observed") or (-1.0, 1.0)
        span = max(hi - lo, 1.0)
        a, b = lo - 3 * span, hi + 10 * span  # far enough that a logistic model reaches its float32 tails
        if feature.get("min") is not None:
            a = max(a, feature["min"])
        if feature.get("max") is not None:
            b = min(b, feature["max"])
        columns.append(np.linspace(a, b, GRID_ROWS) if len(meta["features"]) == 1 else rng.uniform(a, b, GRID_ROWS))
    return np.stack(columns, axis=1).astype(np.float32)


def typed(meta: dict) -> bool:
    """A file whose features have types (manifest format 3 with a category or a gap the graph imputes)."""
    return any(f.get("type") == "category" or f.get("missing") == "impute" for f in meta["features"])


def typed_grid(meta: dict) -> list[list]:
    """GRID_ROWS raw rows (feature order) of a typed model: numbers drawn past the training range, every category in
    turn, and a gap (None) in every feature that may be missing in one row of five, all of them in one row of eleven."""
    rng = np.random.default_rng(0)
    columns = []
    for j, feature in enumerate(meta["features"]):
        if feature["type"] == "category":
            column = [feature["categories"][(i + j) % len(feature["categories"])] for i in range(GRID_ROWS)]
        else:
            lo, hi = feature.get("observed") or (-1.0, 1.0)
            span = max(hi - lo, 1.0)
            a, b = max(lo - span, feature.get("min") or -np.inf), min(hi + span, feature.get("max") or np.inf)
            column = [float(v) for v in rng.uniform(a, b, GRID_ROWS).astype(np.float32)]
        if feature.get("missing") == "impute":
            column = [None if (i + j) % 5 == 0 or i % 11 == 0 else v for i, v in enumerate(column)]
        columns.append(column)
    return [list(row) for row in zip(*columns)]


def encoded(meta: dict, rows: list[list]) -> np.ndarray:
    """The module's input for raw rows as the encoding spec says (trainer/encoding.py, docs/artifact.md), from the
    manifest alone: the numbers (a gap is its `impute`) in feature order, then each category's one-hot columns in
    feature order and vocabulary order (a gap is the one-hot of its `impute`)."""
    features = meta["features"]
    numbers = [j for j, f in enumerate(features) if f["type"] == "number"]
    categories = [j for j, f in enumerate(features) if f["type"] == "category"]
    out = []
    for row in rows:
        values = [features[j]["impute"] if row[j] is None else row[j] for j in numbers]
        for j in categories:
            value = features[j]["impute"] if row[j] is None else row[j]
            values += [float(value == c) for c in features[j]["categories"]]
        out.append(values)
    return np.asarray(out, np.float32)


def mixed(model_bytes: bytes, meta: dict, rows: list[list]) -> Expected:
    """A typed model: the encoding computed from the manifest (not the graph's), then the graph's own module, after
    the node that joins the encoded parts, node by node in torch as `graph` does."""
    return graph(model_bytes, meta, encoded(meta, rows), front="encoding.")


def logistic(model_bytes: bytes, meta: dict, X: np.ndarray) -> Expected:
    """A binary model with one Gemm + Sigmoid: the trainer's torch LogisticRegression with the file's w and b."""
    import torch

    w, b = parity.gemm_weights(model_bytes)
    with torch.no_grad():
        p = parity.logistic(w, b)(torch.as_tensor(X)).numpy().astype(np.float64).reshape(-1, 1)
    tol = parity.tolerance(X, w, b).reshape(-1, 1)
    return Expected(p, tol, _labels(meta, p, tol))


def graph(model_bytes: bytes, meta: dict, X: np.ndarray, front: str | None = None) -> Expected:
    """Any graph of the ops below, node by node with torch's float32 kernels and the file's initializers.

    The bound is the artifact's own (golden atol + rtol * |expected|, what verify allows): layers of
    sigmoids and sums differ between torch and onnxruntime in their last bits only. With `front`, the nodes
    writing values named `front...` (an encoding in front of the module) are left out and X is the value the node
    that reads them writes: the module's input.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    g = onnx.load_from_string(model_bytes).graph
    values = {t.name: torch.as_tensor(numpy_helper.to_array(t).copy()) for t in g.initializer}
    values[g.input[0].name] = torch.as_tensor(X)
    with torch.no_grad():
        for node in g.node:
            if front is not None and all(name.startswith(front) for name in node.output):
                continue  # the encoding's own nodes: X stands for what they compute
            if front is not None and any(name.startswith(front) for name in node.input):
                values[node.output[0]] = torch.as_tensor(X)  # the node joining the encoded parts
                continue
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            if node.op_type not in _TORCH:
                raise NotImplementedError(f"references.graph: no torch op for ONNX {node.op_type}; add it to _TORCH")
            values[node.output[0]] = _TORCH[node.op_type](*(values[name] for name in node.input), **attrs)
    out = values[g.output[0].name].numpy().astype(np.float64).reshape(len(X), -1)
    golden = meta["golden"]
    tol = golden["atol"] + golden.get("rtol", 0.0) * np.abs(out)
    return Expected(out, tol, _labels(meta, out, tol))


def _gemm(a, b, c=None, alpha=1.0, beta=1.0, transA=0, transB=0):
    """alpha * A @ B + beta * C through addmm, as nn.Linear computes it."""
    import torch

    a, b = (a.T if transA else a), (b.T if transB else b)
    return torch.addmm(torch.zeros(()) if c is None else c, a, b, beta=beta, alpha=alpha)


_TORCH = {
    "Add": lambda a, b: a + b,
    "Sub": lambda a, b: a - b,
    "Mul": lambda a, b: a * b,
    "Div": lambda a, b: a / b,
    "MatMul": lambda a, b: a @ b,
    "Gemm": _gemm,
    "Identity": lambda x: x,
    "Sigmoid": lambda x: x.sigmoid(),
    "Tanh": lambda x: x.tanh(),
    "Relu": lambda x: x.relu(),
    "Softmax": lambda x, axis=-1: x.softmax(dim=axis),
}


def _labels(meta: dict, out: np.ndarray, tol: np.ndarray) -> list[str | None] | None:
    """What predict must say per row; None where torch is too close to a decision to call it."""
    labels = meta.get("labels")
    if not labels or meta.get("task") == "regression":
        return None
    if out.shape[1] == 1:  # binary: P(labels[1]) against the threshold
        t = meta["threshold"]
        return [None if abs(p - t) <= e else labels[int(p >= t)] for p, e in zip(out[:, 0], tol[:, 0])]
    top2 = np.sort(out, axis=1)[:, -2:]  # multiclass: the argmax, unless the runner-up is within the bounds
    return [None if b - a <= 2 * e.max() else labels[int(np.argmax(row))] for (a, b), row, e in zip(top2, out, tol)]
