"""What a graph's structure proves about its output for every input, read once at load from the scan's facts.

A check that the structure makes redundant need not be repeated on every call: format 3's binary graphs end in
Concat([Sub(1, p), p], axis=1), whose rows are [float32(1 - p), p]. Wherever both values are in [0, 1] (which the
output check still tests on every call), such a row sums to 1 within one float32 rounding of 1 - p (2**-25), far
inside the tolerance the sum check allows. Anything short of exactly that structure proves nothing.
"""

from __future__ import annotations

from edge_predict.model.file import FileFacts, Graph, Node

_STANDARD = ("", "ai.onnx")  # the operator set onnxruntime implements as the ONNX standard defines it
_FLOAT = 1  # TensorProto.DataType FLOAT


def rows_sum_to_one(facts: FileFacts, output: str) -> bool:
    """True if the main graph's `output` is Concat([Sub(c, p), p], axis=1) for one tensor p and a float32
    constant c = 1.0 holding one value: each row is then [1 - p, p] (module docstring)."""
    graph = facts.graph
    if any(function.name in ("Concat", "Sub", "Constant") for function in facts.functions):
        return False  # a model-local function could stand in for a standard operator
    concat = _sole_producer(graph, output)
    if not _is(concat, "Concat", 2) or _int(concat, "axis") != 1:
        return False
    difference, p = concat.inputs
    sub = _sole_producer(graph, difference)
    if not _is(sub, "Sub", 2) or sub.inputs[1] != p or sub.inputs[0] == p or _sole_producer(graph, p) is None:
        return False
    return _is_one(_sole_producer(graph, sub.inputs[0]))


def _sole_producer(graph: Graph, name: str) -> Node | None:
    """The one node of the main graph writing tensor `name`; None if none or several do, or if an initializer or
    a graph input has that name too (then which value the session takes is not the graph's to say)."""
    if any(tensor.name == name for tensor in graph.initializers) or any(arg.name == name for arg in graph.inputs):
        return None
    producers = [node for node in graph.nodes if name in node.outputs]
    if len(producers) != 1 or producers[0].outputs.count(name) != 1:
        return None
    return producers[0]


def _is(node: Node | None, op: str, inputs: int) -> bool:
    return node is not None and node.op_type == op and node.domain in _STANDARD and len(node.inputs) == inputs


def _int(node: Node, name: str) -> int | None:
    attributes = [a for a in node.attributes if a.name == name]
    return attributes[0].i if len(attributes) == 1 else None


def _is_one(node: Node | None) -> bool:
    """A Constant node whose only attribute is `value`: one plain float32 tensor of one value, 1.0, rank <= 2."""
    if not _is(node, "Constant", 0) or len(node.attributes) != 1 or len(node.outputs) != 1:
        return False
    attribute = node.attributes[0]
    tensor = attribute.tensor
    if attribute.name != "value" or attribute.tensors != 1 or tensor is None or not tensor.plain:
        return False
    if tensor.data_type != _FLOAT or len(tensor.dims) > 2 or any(d != 1 for d in tensor.dims):
        return False
    return tensor.floats == [1.0]
