"""Small models built by hand with onnx.helper, whose outputs are known without running anything.

p = x (the output is the input) makes the runtime's own rules testable with exact values: a probability
exactly at the threshold, one float32 step above 1, golden outputs off by a chosen amount.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from edge_predict.model.manifest import METADATA_KEY


def manifest(
    task: str = "binary",
    features: Sequence[tuple[str, float | None, float | None]] = (("p", 0, 1),),
    golden_inputs: Sequence[Sequence[float]] = ((0.0,), (0.5,), (1.0,)),
    golden_outputs: Sequence[Sequence[float]] | None = None,
    atol: float = 1e-6,
    rtol: float | None = None,
    **fields: Any,
) -> dict:
    """A format 2 manifest; golden outputs default to the inputs (right for p = x); `fields` replace keys."""
    doc = {
        "format": 2,
        "task": task,
        "features": [{"name": n, "min": lo, "max": hi} for n, lo, hi in features],
        "training": {},
        "versions": {},
        "golden": {
            "inputs": [list(row) for row in golden_inputs],
            "outputs": [list(row) for row in (golden_inputs if golden_outputs is None else golden_outputs)],
            "atol": atol,
        },
    }
    if rtol is not None:
        doc["golden"]["rtol"] = rtol
    if task == "binary":
        doc.update(labels=["no", "yes"], threshold=0.5)
    elif task == "regression":
        doc.update(targets=["value"])
    doc.update(fields)
    return doc


def model(
    doc: dict,
    nodes: Sequence | None = None,
    initializers: Sequence = (),
    width: int = 1,
    opset: int = 17,
    seal: bool = True,
) -> bytes:
    """A sealed model file carrying `doc`; the graph is `nodes` from input x to output y (default: y = x)."""
    k = len(doc["features"])
    graph = helper.make_graph(
        list(nodes or [helper.make_node("Identity", ["x"], ["y"])]),
        "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", width])],
        list(initializers),
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 8
    helper.set_model_props(proto, {METADATA_KEY: json.dumps(doc)})
    return sealed(proto) if seal else proto.SerializeToString()


def identity(**manifest_fields: Any) -> bytes:
    """A binary model whose probability is its one input: p = x, with the domain [0, 1]."""
    return model(manifest(**manifest_fields))


def weighted_sum(w: Sequence[float], doc: dict) -> bytes:
    """A regression model y = x @ w (w exact in float32, so numpy computes the same)."""
    weights = numpy_helper.from_array(np.asarray(w, np.float32).reshape(-1, 1), "w")
    return model(doc, [helper.make_node("MatMul", ["x", "w"], ["y"])], [weights])
