"""What the graph's structure proves (model/proofs.py): only exactly Concat([Sub(1.0, p), p], axis=1) proves that its
rows sum to 1, and the proof holds for every float32 p in [0, 1]; a graph short of it keeps the per-call sum check."""

from __future__ import annotations

import copy

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from helpers import DEFAULT_MODEL, sealed
from edge_predict import Predictor
from edge_predict.errors import ModelError
from edge_predict.model.file import scan
from edge_predict.model.proofs import rows_sum_to_one
from edge_predict.scoring.outputs import SUM_ATOL


def one(value=1.0, dtype=np.float32, dims=()) -> TensorProto:
    return numpy_helper.from_array(np.full(dims, value, dtype))


def pair_model(
    constant: helper.AttributeProto | None = None,
    sub: tuple[str, str] = ("c", "p"),
    concat: tuple[str, ...] = ("d", "p"),
    axis: int | None = 1,
    sub_op: str = "Sub",
    domain: str = "",
    extra_nodes=(),
    initializers=(),
) -> bytes:
    """x -> Sigmoid -> p; c = Constant(1.0); d = Sub(c, p); y = Concat([d, p], axis=1): the exporter's binary end."""
    attributes = [constant if constant is not None else helper.make_attribute("value", one())]
    c = helper.make_node("Constant", [], ["c"])
    c.attribute.extend(attributes)
    axis_kw = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("Sigmoid", ["x"], ["p"]),
        c,
        helper.make_node(sub_op, list(sub), ["d"], domain=domain),
        helper.make_node("Concat", list(concat), ["y"], **axis_kw),
        *extra_nodes,
    ]
    graph = helper.make_graph(
        nodes,
        "pair",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
        list(initializers),
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return proto.SerializeToString()


def proves(data: bytes) -> bool:
    return rows_sum_to_one(scan(data, "m.onnx"), "y")


def test_the_exporters_binary_graph_proves_it():
    data = DEFAULT_MODEL.read_bytes()
    assert rows_sum_to_one(scan(data, "default.onnx"), "probabilities")
    assert Predictor.from_bytes(data)._rows_sum_to_one
    assert proves(pair_model())


@pytest.mark.parametrize("dims", [(), (1,), (1, 1)])
def test_a_constant_one_of_any_broadcast_shape_proves_it(dims):
    assert proves(pair_model(helper.make_attribute("value", one(dims=dims))))


NOT_A_PROOF = {
    "constant 0.9999": dict(constant=helper.make_attribute("value", one(0.9999))),
    "constant one float32 step above 1": dict(
        constant=helper.make_attribute("value", one(np.nextafter(1, 2, dtype=np.float32)))
    ),
    "constant of two values": dict(constant=helper.make_attribute("value", one(dims=(2,)))),
    "constant of rank 3": dict(constant=helper.make_attribute("value", one(dims=(1, 1, 1)))),
    "constant float64": dict(constant=helper.make_attribute("value", one(dtype=np.float64))),
    "constant float16": dict(constant=helper.make_attribute("value", one(dtype=np.float16))),
    "constant in float_data": dict(
        constant=helper.make_attribute("value", helper.make_tensor("v", TensorProto.FLOAT, [], [1.0]))
    ),
    "constant as value_float": dict(constant=helper.make_attribute("value_float", 1.0)),
    "Sub(p, c)": dict(sub=("p", "c")),
    "Sub(c, x)": dict(sub=("c", "x")),
    "Add(c, p)": dict(sub_op="Add"),
    "Sub of another domain": dict(domain="com.example"),
    "Concat([p, d])": dict(concat=("p", "d")),
    "Concat([d, x])": dict(concat=("d", "x")),
    "Concat([d, p, p])": dict(concat=("d", "p", "p")),
    "Concat axis 0": dict(axis=0),
    "Concat axis -1": dict(axis=-1),
    "Concat without axis": dict(axis=None),
    "p written twice": dict(extra_nodes=[helper.make_node("Identity", ["x"], ["p"])]),
    "d written twice": dict(extra_nodes=[helper.make_node("Identity", ["p"], ["d"])]),
    "c written twice": dict(extra_nodes=[helper.make_node("Identity", ["x"], ["c"])]),
    "c also an initializer": dict(initializers=[numpy_helper.from_array(np.float32(0.5), "c")]),
}


@pytest.mark.parametrize("case", NOT_A_PROOF, ids=list(NOT_A_PROOF))
def test_anything_short_of_the_exact_structure_proves_nothing(case):
    assert not proves(pair_model(**NOT_A_PROOF[case]))


def test_a_constant_with_a_second_attribute_proves_nothing():
    second = helper.make_attribute("value", one(0.5))
    model = onnx.load_from_string(pair_model())
    model.graph.node[1].attribute.append(second)
    assert not proves(model.SerializeToString())


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (number, payload)."""
    size, out = len(payload), bytearray([number << 3 | 2])
    while True:
        out.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return bytes(out) + payload


def test_a_tensor_field_repeated_inside_the_attribute_proves_nothing():
    """protobuf merges a repeated message field: the value onnxruntime reads is not the scan's last tensor alone."""
    model = onnx.load_from_string(pair_model())
    constant = model.graph.node[1]
    attribute = constant.attribute[0].SerializeToString() + _field(5, one(0.5).SerializeToString())
    del constant.attribute[:]
    node = constant.SerializeToString() + _field(5, attribute)
    nodes = [n.SerializeToString() for n in model.graph.node]
    nodes[1] = node
    graph = copy.deepcopy(model.graph)
    del graph.node[:]
    graph_bytes = b"".join(_field(1, n) for n in nodes) + graph.SerializeToString()
    model.ClearField("graph")
    data = model.SerializeToString() + _field(7, graph_bytes)
    facts = scan(data, "m.onnx")
    assert [n.op_type for n in facts.graph.nodes] == ["Sigmoid", "Constant", "Sub", "Concat"]
    assert facts.graph.nodes[1].attributes[0].tensors == 2
    assert not rows_sum_to_one(facts, "y")


def test_a_local_function_named_like_an_operator_proves_nothing():
    model = onnx.load_from_string(pair_model())
    body = helper.make_node("Identity", ["a"], ["b"])
    model.functions.append(helper.make_function("", "Sub", ["a"], ["b"], [body], [helper.make_opsetid("", 17)]))
    assert not proves(model.SerializeToString())


def _rows(p: np.ndarray) -> np.ndarray:
    """How far each row [float32(1 - p), p] is from summing to 1, in float64 as the reference check sums it."""
    return np.abs((np.float32(1) - p).astype(np.float64) + p - 1.0)


@settings(max_examples=500, deadline=None)
@given(st.floats(0, 1, width=32))
def test_every_pair_row_sums_to_one_within_rounding(p):
    assert _rows(np.array([p], np.float32))[0] <= 2.0**-25 < SUM_ATOL


@pytest.mark.slow
def test_every_pair_row_sums_to_one_within_rounding_exhaustively():
    """All 1,065,353,217 float32 values in [0, 1], by their bit patterns, in chunks."""
    top, chunk, worst = int(np.float32(1).view(np.uint32)), 2**24, 0.0
    for start in range(0, top + 1, chunk):
        p = np.arange(start, min(start + chunk, top + 1), dtype=np.uint32).view(np.float32)
        worst = max(worst, float(_rows(p).max()))
    assert worst <= 2.0**-25


def test_a_graph_short_of_the_proof_keeps_the_sum_check():
    """The default model with its constant 1 made 0.5: not proven, so rows summing to 0.5 are refused, at any size."""
    model = onnx.load(DEFAULT_MODEL)
    constant = next(n for n in model.graph.node if n.op_type == "Constant")
    constant.attribute[0].t.CopyFrom(one(0.5))
    predictor = Predictor.from_bytes(sealed(model), verify=False)
    assert not predictor._rows_sum_to_one
    for n in (1, 3, 40):
        with pytest.raises(ModelError, match="sum to"):
            predictor.predict_proba(np.zeros((n, 1), np.float32))  # p = 0.29: rows [0.21, 0.29]
