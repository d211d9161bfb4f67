"""What the model's graph may do, checked on the scan's facts before onnxruntime sees the bytes: the documented
operators, the graph limits, tensor sizes known from the file, and no arithmetic on a tensor's shape.

Batch independence, statically: a value derived from a tensor's shape (Shape, Size and what is computed from them)
may shape data (Reshape, Expand, Split, Squeeze, ...) but never meet the data in arithmetic, a comparison, a Where
or a selection (Slice bounds, Range): that is how a graph answers differently for a batch of 5 rows. What this
cannot see is listed in docs/security.md; the golden vectors are also scored at several batch sizes at load.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from edge_predict.errors import ModelError
from edge_predict.model import operators, shapes
from edge_predict.model.file import FileFacts, Graph, Node
from edge_predict.model.limits import GraphLimits, over_limit

# What a value is computed from: constants only (and sizes the file fixes, such as a feature dimension), a size known
# only at run time (the batch), the input's values.
CONST, SHAPE, DATA = 0, 1, 2

# Inputs that only say how large the output is or how it is laid out (the output's values come from the others):
# a shape may flow here; the input's values may not (a size computed from data is unbounded).
SIZE_ONLY = {
    "Reshape": {1},
    "Expand": {1},
    "ConstantOfShape": {0},
    "Tile": {1},
    "Squeeze": {1},
    "Unsqueeze": {1},
    "Split": {1},
    "Resize": {1, 2, 3},
    "Pad": {1, 3},
    "TopK": {1},  # k: how many values (TabNet's sparsemax takes the feature count)
    "CumSum": {1},  # the axis
    "Slice": {1, 2, 3, 4},  # the chunks of torch.chunk along a feature axis have bounds computed from its shape
    **{op: {1} for op in ("ReduceL2", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd")},
    **{op: {1} for op in ("ReduceSum", "ReduceSumSquare")},
}
# Inputs that choose which values the output holds: neither data nor a shape may flow here without the choice
# depending on the batch; a shape that does makes the output shape-derived.
SELECTING = {"Range": {0, 1, 2}, "Trilu": {1}}


def check(
    facts: FileFacts, source: str, limits: GraphLimits, allowed: frozenset[tuple[str, str]] = frozenset()
) -> None:
    """Refuse a graph beyond the limits, using operators outside the documented set (and `allowed`), defining
    model-local functions, or mixing a tensor's shape into arithmetic on its data."""
    if facts.nodes > limits.nodes:
        raise over_limit(source, "nodes", f"{facts.nodes:,} nodes", limits.nodes)
    if facts.constant_bytes > limits.constant_bytes:
        raise over_limit(
            source, "constant_bytes", f"{facts.constant_bytes:,} bytes of constants", limits.constant_bytes
        )
    name, count = facts.largest
    if count > limits.tensor_elements:
        raise over_limit(
            source, "tensor_elements", f"tensor {name!r} declaring {count:,} elements", limits.tensor_elements
        )
    _check_functions(facts, source, allowed)
    used = {(node.domain, node.op_type) for graph in _graphs(facts) for node in graph.nodes}
    unknown = operators.outside(used, allowed)
    if unknown:
        shown = ", ".join(unknown)
        raise ModelError(
            f"{source}: the model uses operators outside the set edge-predict runs ({shown}); a model from "
            f"edge-train or export() never does. If you trust this file, allow them: "
            f"{' '.join('--allow-op ' + op for op in unknown)} (or allow_ops=[...]); docs/security.md"
        )
    _check_flow(facts.graph, source, limits)


def _graphs(facts: FileFacts) -> Iterable[Graph]:
    yield facts.graph
    yield from facts.subgraphs
    yield from facts.functions


def _check_functions(facts: FileFacts, source: str, allowed: frozenset[tuple[str, str]]) -> None:
    """Model-local functions run whatever their bodies hold under a name of their own: refused unless allowed."""
    local = [(f.domain or operators.ONNX, f.name) for f in facts.functions]
    refused = sorted(operators.name(d, n) for d, n in local if (d, n) not in allowed)
    if refused:
        raise ModelError(
            f"{source}: the model defines local functions ({', '.join(refused)}), which edge-predict does not run; "
            "re-export it with its functions inlined (onnx.inliner.inline_local_functions), or allow them with "
            f"{' '.join('--allow-op ' + f for f in refused)}"
        )


class _Dim:
    """A dimension taken from a tensor's shape, times a known factor: its size is only known at run time."""

    def __init__(self, factor: int = 1):
        self.factor = factor


def _check_flow(graph: Graph, source: str, limits: GraphLimits) -> None:
    """Walk the main graph in order: each value's kind (CONST, SHAPE, DATA), its static shape (shapes.py), the
    small int tensors known from the file, and the sizes the size-making operators would allocate.

    A value computed from shapes is SHAPE only while it holds a size known at run time only: Shape of a (batch, 4)
    tensor is SHAPE, the 4 gathered from it is CONST (the same for every batch), the batch size is SHAPE."""
    kind: dict[str, int] = {}
    known: dict[str, list] = {}  # small int tensors: ints, or _Dim for what comes from a shape
    dims: dict[str, list[int]] = {}  # the dims of constants
    static: dict[str, shapes.Shape] = {}  # each value's shape, as far as the file says (shapes.py)
    for tensor in graph.initializers:
        kind[tensor.name] = CONST
        dims[tensor.name] = tensor.dims
        static[tensor.name] = tuple(tensor.dims)
        if tensor.ints is not None:
            known[tensor.name] = list(tensor.ints)
    for value in graph.inputs:  # after the initializers: a feed replaces an initializer of the same name
        kind[value.name] = DATA
        known.pop(value.name, None)
        dims.pop(value.name, None)
        static.pop(value.name, None)
        if value.shape is not None:
            static[value.name] = value.shape

    def fixed_ints(name: str) -> list[int | None] | None:
        found = known.get(name)
        return None if found is None else [v if isinstance(v, int) else None for v in found]

    for node in graph.nodes:
        inputs = [(i, name) for i, name in enumerate(node.inputs) if name]
        classes = {i: kind.get(name, DATA) for i, name in inputs}
        op = node.op_type if node.domain in ("", operators.ONNX) else None
        size_only, selecting = SIZE_ONLY.get(op, set()), SELECTING.get(op, set())
        for i, name in inputs:
            if (i in size_only or i in selecting) and classes[i] == DATA:
                raise ModelError(
                    f"{source}: node {_named(node)} takes a size or position from the input's values ({name!r}): "
                    "its work and memory would depend on the data; edge-predict runs graphs whose sizes come from "
                    "constants and the batch only; docs/security.md"
                )
        if op in ("Shape", "Size"):
            out = SHAPE
        elif op == "Constant":
            out = CONST
        else:
            values = {c for i, c in classes.items() if i not in size_only and i not in selecting}
            chosen = {c for i, c in classes.items() if i in selecting}
            if SHAPE in values | chosen and DATA in values:
                shaped = next(name for i, name in inputs if classes[i] == SHAPE)
                raise ModelError(
                    f"{source}: node {_named(node)} computes on the data with a value derived from a tensor's shape "
                    f"({shaped!r}): its answer for a sample could depend on the batch it is scored in; edge-predict "
                    "lets shapes only shape data (Reshape, Expand, Split, ...); docs/security.md"
                )
            out = max(values | chosen, default=CONST)
        _propagate(node, op, known, dims, static)
        for name, shape in zip(node.outputs, shapes.infer(node, op, static, fixed_ints)):
            if shape is not None:
                static[name] = shape
        for name in node.outputs:
            fixed = name in known and all(isinstance(v, int) for v in known[name])
            kind[name] = CONST if out == SHAPE and fixed else out  # sizes the file fixes, not the batch's
        _check_size(node, op, known, dims, source, limits)


def _named(node: Node) -> str:
    return f"{node.op_type!r} (output {node.outputs[0]!r})" if node.outputs else repr(node.op_type)


def _propagate(
    node: Node, op: str | None, known: dict[str, list], dims: dict[str, list[int]], static: dict[str, shapes.Shape]
) -> None:
    """The small int tensor each output holds, where the file says it (shape arithmetic); the shape of a Constant."""
    args = [known.get(name) for name in node.inputs]
    result = None
    if op == "Constant" and node.outputs:
        value = node.attribute("value")
        if value is not None and value.tensor is not None:
            dims[node.outputs[0]] = value.tensor.dims
            static[node.outputs[0]] = tuple(value.tensor.dims)
            result = value.tensor.ints
        for attr in ("value_ints", "value_int"):
            found = node.attribute(attr)
            if found is not None:
                result = found.ints or ([found.i] if found.i is not None else None)
                static[node.outputs[0]] = (len(found.ints),) if found.ints else ()
    elif op == "Shape":
        shape = static.get(node.inputs[0]) if node.inputs else None
        if shape is None:
            result = [_Dim()]  # of a rank the file does not say: each entry is a run-time size
        else:
            result = [_Dim() if d is None else d for d in shapes.shape_value(node, shape)]
    elif op == "Size":
        shape = static.get(node.inputs[0]) if node.inputs else None
        fixed = shape is not None and None not in shape
        result = [math.prod(shape)] if fixed else [_Dim()]
    elif op == "Slice" and args and args[0] is not None:
        result = _sliced(node, args)
    elif op in ("Identity", "Cast", "Unsqueeze", "Squeeze", "Reshape", "Concat") and all(
        a is not None for a in args[: 1 if op != "Concat" else None]
    ):
        result = [v for a in (args if op == "Concat" else args[:1]) for v in a]
    elif op == "Gather" and len(args) == 2 and args[0] is not None and args[1] is not None:
        table = args[0]
        if len(table) == 1 and isinstance(table[0], _Dim):  # Shape(x), of a rank the file does not say
            result = [_Dim(table[0].factor) for _ in args[1]]
        else:
            result = [table[i] if isinstance(i, int) and -len(table) <= i < len(table) else _Dim() for i in args[1]]
    elif op in ("Mul", "Add", "Sub", "Div", "Max", "Min") and len(args) == 2 and None not in args:
        result = _elementwise(op, args[0], args[1])
    if result is not None and node.outputs and len(result) <= 64:
        known[node.outputs[0]] = result


def _sliced(node: Node, args: list) -> list | None:
    """Slice of a small 1-D int tensor (a part of a shape) with bounds the file fixes."""
    bounds = [args[i] if i < len(args) else None for i in range(1, 5)]
    starts, ends, axes, steps = bounds
    named = [i < len(node.inputs) and bool(node.inputs[i]) for i in range(1, 5)]
    if node.attribute("starts") is not None or starts is None or ends is None or len(starts) != 1 or len(ends) != 1:
        return None
    if (named[2] and axes not in ([0], [-1])) or (named[3] and (steps is None or len(steps) != 1)):
        return None
    start, end, step = starts[0], ends[0], steps[0] if named[3] else 1
    if not all(isinstance(v, int) for v in (start, end, step)) or step == 0:
        return None
    return args[0][start:end:step]


def _elementwise(op: str, a: list, b: list) -> list | None:
    if len(a) != len(b) and 1 not in (len(a), len(b)):
        return None
    n = max(len(a), len(b))
    a, b = (a * n if len(a) == 1 else a), (b * n if len(b) == 1 else b)
    out = []
    for x, y in zip(a, b):
        if isinstance(x, int) and isinstance(y, int):
            value = {
                "Mul": x * y,
                "Add": x + y,
                "Sub": x - y,
                "Div": x // y if y else 0,
                "Max": max(x, y),
                "Min": min(x, y),
            }[op]
            out.append(value)
        else:
            fx = x.factor if isinstance(x, _Dim) else x
            fy = y.factor if isinstance(y, _Dim) else y
            factor = {"Mul": fx * fy, "Add": max(fx, fy), "Sub": max(fx, fy), "Div": fx, "Max": max(fx, fy)}.get(op, 1)
            out.append(_Dim(max(abs(factor), 1)))
    return out


def _elements(values: list) -> int:
    """Elements of a tensor of this shape per unit of its run-time sizes (a _Dim counts as its factor)."""
    count = 1
    for v in values:
        count *= v.factor if isinstance(v, _Dim) else max(v, 0)
    return count


def _check_size(
    node: Node, op: str | None, known: dict[str, list], dims: dict[str, list[int]], source: str, limits: GraphLimits
) -> None:
    """Refuse a node whose output, as far as the file says, has more elements than the limit."""
    args = [known.get(name) for name in node.inputs]
    count = 0
    if op in ("ConstantOfShape", "Expand") and len(args) > (op == "Expand") and args[op == "Expand"] is not None:
        count = _elements(args[op == "Expand"])
    elif op == "Tile" and len(args) > 1 and args[1] is not None:
        base = dims.get(node.inputs[0])
        count = _elements(args[1]) * (math.prod(max(d, 0) for d in base) if base is not None else 1)
    elif op == "Range" and len(args) == 3 and all(a is not None and len(a) == 1 for a in args):
        start, limit, delta = (a[0] for a in args)
        if all(isinstance(v, int) for v in (start, limit, delta)) and delta:
            count = max(math.ceil((limit - start) / delta), 0)
    elif op == "Resize" and len(args) > 3 and args[3] is not None:
        count = _elements(args[3])
    elif op == "Pad" and len(args) > 1 and args[1] is not None:
        count = max((v for v in args[1] if isinstance(v, int)), default=0)
    if count > limits.tensor_elements:
        raise over_limit(
            source,
            "tensor_elements",
            f"node {_named(node)} making a tensor of {count:,} elements",
            limits.tensor_elements,
        )


def allowed_ops(names: Iterable[str] | None) -> frozenset[tuple[str, str]]:
    """The operators a caller allows beyond the documented set, from their names ('Loop', 'com.microsoft:Gelu')."""
    return operators.parse(names)


def limits_of(given: GraphLimits | Mapping[str, int] | None) -> GraphLimits:
    return GraphLimits.of(given)
