"""The static shape of each value in a graph, as far as the file says: what lets the shape-flow check (graph.py)
tell a feature dimension, fixed in the file, from the batch dimension, known only at run time.

A dimension is an int when the file fixes it whatever the batch, and None when it may depend on the batch or this
module cannot tell: None is always the safe answer, and an operator not listed here gives its outputs no shape at
all. A graph input's declared sizes are facts at run time (onnxruntime refuses a feed that differs from them).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from edge_predict.model.file import Node

Shape = tuple  # of int | None, one per dimension
Values = Callable[[str], "list[int | None] | None"]  # the small int tensor a name holds, None entries unknown

_SAME = set(
    """
    Abs BatchNormalization Cast Ceil Clip CumSum Elu Erf Exp Floor Gelu HardSigmoid HardSwish Identity IsInf IsNaN
    LayerNormalization LeakyRelu Log LogSoftmax Mish Neg Not PRelu Reciprocal Relu Round Selu Sigmoid Sign Softmax
    Softplus Softsign Sqrt Tanh Trilu
    """.split()
)
_BROADCAST = set(
    "Add And Div Equal Greater GreaterOrEqual Less LessOrEqual Max Mean Min Mul Or Pow Sub Sum Where Xor".split()
)
_REDUCE = {"ReduceL2", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum"}
_REDUCE |= {"ReduceSumSquare", "ArgMax", "ArgMin"}


def infer(node: Node, op: str | None, shapes: dict[str, Shape], values: Values) -> list[Shape | None]:
    """The shapes of `node`'s outputs (None where unknown), from its inputs' shapes and the small int tensors the
    file fixes (`values`)."""
    ins = [shapes.get(name) if name else None for name in node.inputs]
    first = ins[0] if ins else None
    out: Shape | None = None
    if op in _SAME:
        out = first
    elif op in _BROADCAST:
        out = broadcast([s for name, s in zip(node.inputs, ins) if name])
    elif op == "MatMul" and len(ins) == 2:
        out = _matmul(ins[0], ins[1])
    elif op == "Gemm" and len(ins) >= 2 and _rank(ins[0]) == 2 and _rank(ins[1]) == 2:
        a, b = ins[0], ins[1]
        out = (a[1] if _int(node, "transA") else a[0], b[0] if _int(node, "transB") else b[1])
    elif op == "Transpose" and first is not None:
        perm = _ints(node, "perm") or list(reversed(range(len(first))))
        if sorted(perm) == list(range(len(first))):
            out = tuple(first[p] for p in perm)
    elif op in _REDUCE and first is not None:
        out = _reduce(node, op, first, values)
    elif op == "Reshape" and len(ins) == 2:
        out = _reshape(first, values(node.inputs[1]), _int(node, "allowzero"))
    elif op == "Flatten" and first is not None:
        axis = _axis(_int(node, "axis", 1), len(first) + 1)
        if axis is not None:
            out = (_product(first[:axis]), _product(first[axis:]))
    elif op == "Concat":
        out = _concat(ins, _int(node, "axis"))
    elif op == "Slice" and first is not None:
        out = _slice(first, *_slice_args(node, values))
    elif op == "Squeeze" and first is not None:
        out = _squeeze(first, _axes(node, values))
    elif op == "Unsqueeze" and first is not None:
        out = _unsqueeze(first, _axes(node, values))
    elif op == "Gather" and len(ins) == 2 and first is not None and ins[1] is not None:
        axis = _axis(_int(node, "axis"), len(first))
        if axis is not None:
            out = first[:axis] + ins[1] + first[axis + 1 :]
    elif op == "GatherElements" and len(ins) == 2:
        out = ins[1]
    elif op == "Expand" and len(ins) == 2:
        target = values(node.inputs[1])
        out = broadcast([first, tuple(target)]) if target is not None else None
    elif op == "ConstantOfShape":
        target = values(node.inputs[0]) if node.inputs else None
        out = tuple(target) if target is not None else None
    elif op == "Shape" and first is not None:
        out = (len(_shape_slice(node, first)),)
    elif op == "Size":
        out = ()
    elif op == "TopK" and len(ins) == 2 and first is not None:
        k, axis = values(node.inputs[1]), _axis(_int(node, "axis", -1), len(first))
        if axis is not None:
            size = k[0] if k is not None and len(k) == 1 else None
            out = first[:axis] + (size,) + first[axis + 1 :]
    elif op == "Tile" and len(ins) == 2 and first is not None:
        repeats = values(node.inputs[1])
        if repeats is not None and len(repeats) == len(first):
            out = tuple(_times(d, r) for d, r in zip(first, repeats))
    elif op == "Split" and first is not None:
        return _split(node, first, values)
    elif op == "Range":
        out = (None,)
    if op in ("TopK",):
        return [out, out]
    return [out] + [None] * (len(node.outputs) - 1)


def shape_value(node: Node, shape: Shape) -> list[int | None]:
    """What Shape(x) holds for x of this shape: a size per dimension (None: known at run time only)."""
    return list(_shape_slice(node, shape))


def broadcast(shapes: list[Shape | None]) -> Shape | None:
    """The numpy-style broadcast of the shapes; a dimension the file fixes at k > 1 stays k against an unknown one
    (the graph runs only where the other is k or 1)."""
    if not shapes or any(s is None for s in shapes):
        return None
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0]
        fixed = {d for d in dims if d is not None and d != 1}
        if len(fixed) > 1:
            return None  # the graph cannot run: no shape to trust
        if fixed:
            out.append(fixed.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def _rank(shape: Shape | None) -> int | None:
    return None if shape is None else len(shape)


def _int(node: Node, name: str, default: int = 0) -> int:
    attribute = node.attribute(name)
    return attribute.i if attribute is not None and attribute.i is not None else default


def _ints(node: Node, name: str) -> list[int] | None:
    attribute = node.attribute(name)
    return list(attribute.ints) if attribute is not None and attribute.ints else None


def _axis(axis: int, rank: int) -> int | None:
    if -rank <= axis < rank:
        return axis % rank
    return None


def _axes(node: Node, values: Values) -> list[int] | None:
    """The axes of a Squeeze, Unsqueeze or Reduce: its attribute (older opsets) or its second input; None if
    unknown, [] if none given."""
    given = _ints(node, "axes")
    if given is not None:
        return given
    if len(node.inputs) > 1 and node.inputs[1]:
        axes = values(node.inputs[1])
        return axes if axes is not None and all(a is not None for a in axes) else None
    return []


def _product(dims: Shape) -> int | None:
    return None if any(d is None for d in dims) else math.prod(dims)


def _times(d: int | None, r: int | None) -> int | None:
    return None if d is None or r is None else d * r


def _matmul(a: Shape | None, b: Shape | None) -> Shape | None:
    if a is None or b is None or not a or not b:
        return None
    a2, b2 = (a if len(a) > 1 else (1, *a)), (b if len(b) > 1 else (*b, 1))
    stack = broadcast([a2[:-2], b2[:-2]])
    if stack is None:
        return None
    out = (*stack, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _reduce(node: Node, op: str, shape: Shape, values: Values) -> Shape | None:
    keep = _int(node, "keepdims", 1)
    if op in ("ArgMax", "ArgMin"):
        axes: list[int] | None = [_int(node, "axis")]
    else:
        axes = _axes(node, values)
    if axes is None:
        return (None,) * len(shape) if keep else None
    if not axes:
        if _int(node, "noop_with_empty_axes"):
            return shape
        axes = list(range(len(shape)))
    picked = {_axis(a, len(shape)) for a in axes}
    if None in picked:
        return None
    if keep:
        return tuple(1 if i in picked else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in picked)


def _reshape(shape: Shape | None, target: list | None, allowzero: int) -> Shape | None:
    if target is None:
        return None
    out: list[int | None] = []
    for i, t in enumerate(target):
        if t == 0 and not allowzero:
            out.append(shape[i] if shape is not None and i < len(shape) else None)
        elif t is None or t < 0:
            out.append(None)  # -1: inferred from the element count, fixed only if every other size is
        else:
            out.append(t)
    if target.count(-1) == 1 and shape is not None:
        total, rest = _product(shape), _product(tuple(d for t, d in zip(target, out) if t != -1))
        if total is not None and rest:
            out[target.index(-1)] = total // rest
    return tuple(out)


def _concat(shapes: list[Shape | None], axis: int) -> Shape | None:
    if not shapes or any(s is None for s in shapes) or len({len(s) for s in shapes}) != 1:
        return None
    rank = len(shapes[0])
    at = _axis(axis, rank)
    if at is None:
        return None
    out = []
    for i in range(rank):
        dims = [s[i] for s in shapes]
        if i == at:
            out.append(None if None in dims else sum(dims))
        else:
            out.append(next((d for d in dims if d is not None), None))
    return tuple(out)


def _slice_args(node: Node, values: Values) -> tuple:
    """A Slice's starts, ends, axes and steps: its attributes (opset 1-9) or inputs, each None if not known, axes
    [] when not given (the first len(starts) axes), steps [] when not given (all 1)."""
    if node.attribute("starts") is not None:
        return _ints(node, "starts"), _ints(node, "ends"), _ints(node, "axes") or [], []
    given = [node.inputs[i] if i < len(node.inputs) else "" for i in range(1, 5)]
    starts, ends = (values(name) if name else None for name in given[:2])
    axes, steps = ((values(name) if name else []) for name in given[2:])
    return starts, ends, axes, steps


def _slice(shape: Shape, starts: list | None, ends: list | None, axes: list | None, steps: list | None) -> Shape | None:
    if starts is None or ends is None or axes is None or steps is None or None in axes:
        if axes and None not in axes:  # the sliced axes are known, their bounds are not
            picked = {_axis(a, len(shape)) for a in axes}
            return tuple(None if i in picked else d for i, d in enumerate(shape))
        return (None,) * len(shape)
    axes = axes or list(range(len(starts)))
    out = list(shape)
    for n, axis in enumerate(axes):
        at = _axis(axis, len(shape))
        if at is None or n >= len(starts) or n >= len(ends):
            return None
        step = steps[n] if n < len(steps) else 1
        if shape[at] is None or None in (starts[n], ends[n], step) or step == 0:
            out[at] = None
        else:
            out[at] = len(range(*slice(starts[n], ends[n], step).indices(shape[at])))
    return tuple(out)


def _squeeze(shape: Shape, axes: list[int] | None) -> Shape | None:
    if axes is None:
        return None
    if not axes:
        if any(d is None for d in shape):
            return None  # which dimensions are 1 is known at run time only
        return tuple(d for d in shape if d != 1)
    picked = {_axis(a, len(shape)) for a in axes}
    return None if None in picked else tuple(d for i, d in enumerate(shape) if i not in picked)


def _unsqueeze(shape: Shape, axes: list[int] | None) -> Shape | None:
    if not axes:
        return None
    rank = len(shape) + len(axes)
    picked = {_axis(a, rank) for a in axes}
    if None in picked or len(picked) != len(axes):
        return None
    rest = iter(shape)
    return tuple(1 if i in picked else next(rest) for i in range(rank))


def _split(node: Node, shape: Shape, values: Values) -> list[Shape | None]:
    axis = _axis(_int(node, "axis"), len(shape))
    count = len(node.outputs)
    if axis is None or not count:
        return [None] * count
    sizes = _ints(node, "split")
    if sizes is None and len(node.inputs) > 1 and node.inputs[1]:
        sizes = values(node.inputs[1])
    if sizes is None and shape[axis] is not None and shape[axis] % count == 0:
        sizes = [shape[axis] // count] * count
    if sizes is None or len(sizes) != count:
        sizes = [None] * count
    return [shape[:axis] + (size,) + shape[axis + 1 :] for size in sizes]


def _shape_slice(node: Node, shape: Shape) -> Shape:
    """The part of `shape` a Shape node returns (its start and end attributes, opset 15)."""
    start = node.attribute("start")
    end = node.attribute("end")
    lo = start.i if start is not None and start.i is not None else 0
    hi = end.i if end is not None and end.i is not None else len(shape)
    return shape[slice(lo, hi)]
