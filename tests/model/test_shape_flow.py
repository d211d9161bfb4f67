"""The shape-flow check tells the batch dimension from the feature dimensions (runtime/model/graph.py, shapes.py).

Every graph of a class is built: a size taken from a tensor's shape (Shape then Gather, Slice or its start
attribute, or Size) of the input, of a MatMul of it or of its transpose, perhaps computed on, then used to shape data
(Reshape, ConstantOfShape, Expand, Tile) or to compute on it (Mul, Where, Range). Each graph is either refused at
load or scores every sample the same in batches of any size; a size derived from the batch never reaches arithmetic
on the data (refused statically), and one the file fixes (a feature dimension) always may.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from helpers.handmade import manifest
from edge_predict import ModelError, Predictor, VerificationError
from edge_predict.model.manifest import METADATA_KEY

K = 3  # features
BIG = 2**62
ROWS = np.random.default_rng(0).uniform(-1, 1, size=(13, K)).astype(np.float32)

# source -> (nodes making "src" from x, which axis of src is the batch's)
SOURCES = {
    "input": ([helper.make_node("Identity", ["x"], ["src"])], 0),
    "matmul": ([helper.make_node("MatMul", ["x", "w"], ["src"])], 0),
    "transposed": ([helper.make_node("Transpose", ["x"], ["src"], perm=[1, 0])], 1),
}
# pick -> (nodes making the 1-D int64 "d" from src, the axis of src it reads; None: every axis, as Size does)
_SHAPE = helper.make_node("Shape", ["src"], ["s"])
_UNSQUEEZE = helper.make_node("Unsqueeze", ["g", "z0"], ["d"])  # a scalar size as torch exports it: Gather, Unsqueeze
PICKS = {
    "gather0": ([_SHAPE, helper.make_node("Gather", ["s", "i0"], ["g"]), _UNSQUEEZE], 0),
    "gather1": ([_SHAPE, helper.make_node("Gather", ["s", "i1"], ["g"]), _UNSQUEEZE], 1),
    "gather-1": ([_SHAPE, helper.make_node("Gather", ["s", "im1"], ["g"]), _UNSQUEEZE], 1),
    "slice0": ([_SHAPE, helper.make_node("Slice", ["s", "z0", "z1"], ["d"])], 0),
    "slice1": ([_SHAPE, helper.make_node("Slice", ["s", "z1", "z2"], ["d"])], 1),
    "slice-1": ([_SHAPE, helper.make_node("Slice", ["s", "zm1", "big", "z0"], ["d"])], 1),
    "start1": ([helper.make_node("Shape", ["src"], ["d"], start=1)], 1),
    "size": ([helper.make_node("Size", ["src"], ["g"]), _UNSQUEEZE], None),
}
ARITHMETIC = {
    "as-is": [helper.make_node("Identity", ["d"], ["e"])],
    "plus-one": [helper.make_node("Add", ["d", "z1"], ["e"])],
    "times-two": [helper.make_node("Mul", ["d", "z2"], ["e"])],
}
# use -> (nodes making y (n, 1) from x, e and xs = the row sums (n, 1); True: it computes on the data with e)
USES = {
    "mul": (
        [helper.make_node("Cast", ["e"], ["f"], to=TensorProto.FLOAT), helper.make_node("Mul", ["xs", "f"], ["y"])],
        True,
    ),
    "where": (
        [
            helper.make_node("Equal", ["e", "z5"], ["is5"]),
            helper.make_node("Sub", ["one", "xs"], ["flipped"]),
            helper.make_node("Where", ["is5", "xs", "flipped"], ["y"]),
        ],
        True,
    ),
    "range": (
        [
            helper.make_node("Squeeze", ["e", "z0"], ["count"]),
            helper.make_node("Range", ["s0", "count", "s1"], ["r"]),
            helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
            helper.make_node("ReduceSum", ["rf"], ["total"], keepdims=0),
            helper.make_node("Mul", ["xs", "total"], ["y"]),
        ],
        True,
    ),
    "reshape": (
        [
            helper.make_node("Concat", ["zm1", "e"], ["target"], axis=0),
            helper.make_node("Reshape", ["xk", "target"], ["shaped"]),
            helper.make_node("ReduceMax", ["shaped"], ["top"], axes=[1], keepdims=1),
            helper.make_node("Add", ["xs", "top"], ["y"]),
        ],
        False,
    ),
    "constant-of-shape": (
        [
            helper.make_node("Concat", ["z1", "e"], ["target"], axis=0),
            helper.make_node("ConstantOfShape", ["target"], ["ones"], value=numpy_helper.from_array(np.float32([1]))),
            helper.make_node("Mul", ["xs", "ones"], ["wide"]),
            helper.make_node("ReduceSum", ["wide", "z1"], ["y"], keepdims=1),
        ],
        False,
    ),
    "expand": (
        [
            helper.make_node("Concat", ["z1", "e"], ["target"], axis=0),
            helper.make_node("Expand", ["xs", "target"], ["wide"]),
            helper.make_node("ReduceMean", ["wide"], ["y"], axes=[1], keepdims=1),
        ],
        False,
    ),
    "tile": (
        [
            helper.make_node("Concat", ["z1", "e"], ["repeats"], axis=0),
            helper.make_node("Tile", ["xs", "repeats"], ["wide"]),
            helper.make_node("ReduceMean", ["wide"], ["y"], axes=[1], keepdims=1),
        ],
        False,
    ),
}


def _constants():
    ints = {"i0": 0, "i1": 1, "im1": -1}
    vectors = {"z0": [0], "z1": [1], "z2": [2], "zm1": [-1], "z5": [5], "big": [BIG]}
    yield from (numpy_helper.from_array(np.int64(v), n) for n, v in ints.items())
    yield from (numpy_helper.from_array(np.int64(v), n) for n, v in vectors.items())
    yield numpy_helper.from_array(np.int64(0), "s0")
    yield numpy_helper.from_array(np.int64(1), "s1")
    yield numpy_helper.from_array(np.float32(1), "one")
    yield numpy_helper.from_array(np.arange(K * 4, dtype=np.float32).reshape(K, 4) / 10, "w")


def _graph(source: str, pick: str, arithmetic: str, use: str):
    nodes = [
        helper.make_node("ReduceSum", ["x", "z1"], ["xs"], keepdims=1),
        helper.make_node("Identity", ["x"], ["xk"]),
        *SOURCES[source][0],
        *PICKS[pick][0],
        *ARITHMETIC[arithmetic],
        *USES[use][0],
    ]
    return helper.make_graph(
        nodes,
        "shape-flow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        list(_constants()),
    )


def _model(graph, doc):
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    helper.set_model_props(proto, {METADATA_KEY: json.dumps(doc)})
    return proto


def build(source: str, pick: str, arithmetic: str, use: str) -> bytes | None:
    """The sealed model, its golden vectors scored by onnxruntime as one batch; None if onnxruntime cannot run it."""
    graph = _graph(source, pick, arithmetic, use)
    features = [(f"f{i}", None, None) for i in range(K)]
    inputs = ROWS[:5].tolist()
    draft = _model(graph, manifest("regression", features, inputs, [[0.0]] * 5, atol=1e-5))
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3  # the unused constants of a combination are no news
        session = ort.InferenceSession(draft.SerializeToString(), options, providers=["CPUExecutionProvider"])
        outputs = session.run(None, {"x": ROWS[:5]})[0]
    except Exception:  # the combination makes no graph (a Reshape to sizes that do not divide): not in the class
        return None
    if outputs.shape != (5, 1):
        return None
    return sealed(_model(graph, manifest("regression", features, inputs, outputs.tolist(), atol=1e-5)))


def from_batch(source: str, pick: str) -> bool:
    """Whether the size picked depends on the batch: it reads the batch's axis (Size reads them all)."""
    axis = PICKS[pick][1]
    return axis is None or axis == SOURCES[source][1]


CASES = list(itertools.product(SOURCES, PICKS, ARITHMETIC, USES))
# A few of them for every run: each kind of size (batch, feature) into arithmetic and into shaping
FEW = list(itertools.product(["input", "transposed"], ["gather0", "slice-1"], ["as-is"], ["mul", "range", "expand"]))


@pytest.mark.parametrize("source, pick, arithmetic, use", FEW)
def test_a_few_shape_derived_sizes(source, pick, arithmetic, use):
    check_case(source, pick, arithmetic, use)


@pytest.mark.slow
@pytest.mark.parametrize("source, pick, arithmetic, use", CASES)
def test_a_shape_derived_size_is_refused_or_scores_alike_at_every_batch_size(source, pick, arithmetic, use):
    check_case(source, pick, arithmetic, use)


def check_case(source: str, pick: str, arithmetic: str, use: str) -> None:
    """Refused (statically, when it computes on the data with a size from the batch) or batch-independent."""
    data = build(source, pick, arithmetic, use)
    if data is None:
        pytest.skip("onnxruntime cannot run this combination")
    computes = USES[use][1]
    try:
        predictor = Predictor.from_bytes(data, source="flow.onnx")
    except ModelError as exc:
        assert not (computes and not from_batch(source, pick)), f"a fixed size was refused: {exc}"
        return
    except VerificationError:
        assert not computes, "arithmetic on the batch size passed the static check"
        return
    assert not (computes and from_batch(source, pick)), "arithmetic on the batch size loaded"
    alone = np.concatenate([predictor.predict(ROWS[i : i + 1]) for i in range(len(ROWS))])
    for size in (1, 2, 5, 7, 13):
        batched = np.concatenate([predictor.predict(ROWS[i : i + size]) for i in range(0, len(ROWS), size)])
        np.testing.assert_allclose(batched, alone, rtol=0, atol=1e-5, err_msg=f"batches of {size}")


def test_the_class_holds_both_kinds_of_size():
    """The class is not vacuous: sizes from the batch and fixed sizes, into arithmetic and into shaping alike."""
    kinds = {(from_batch(s, p), USES[u][1]) for s, p, _, u in CASES}
    assert kinds == {(True, True), (True, False), (False, True), (False, False)}
