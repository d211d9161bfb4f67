"""The numpy engine's operators: (domain, op_type) -> a function of (attributes, inputs, opset) giving the outputs.

Float arithmetic beyond + - x / (which IEEE rounds correctly in float32 already) is done in float64 and rounded
once to the input's type: the result is the float32 nearest the exact one or next to it, whatever the batch, the
BLAS kernel or its threads (a row scored alone or among a million gets the same float32). Semantics are
onnxruntime's, opset by opset (tests/engines/test_ops.py runs each against it).
"""

from __future__ import annotations

import numpy as np

from edge_predict.engines.numpy import erf as _erf
from edge_predict.engines.numpy.reader import DTYPES

ONNX, ML = "ai.onnx", "ai.onnx.ml"
F64 = np.float64
TABLE: dict[tuple[str, str], object] = {}


def op(*names: str, domain: str = ONNX):
    def register(fn):
        for name in names:
            TABLE[(domain, name)] = fn
        return fn

    return register


def _in64(x: np.ndarray) -> np.ndarray:
    return x.astype(F64, copy=False)


def _back(y: np.ndarray, like: np.ndarray) -> np.ndarray:
    """y (float64) rounded to like's float type."""
    dtype = like.dtype if like.dtype.kind == "f" else np.dtype(np.float32)
    return np.asarray(y).astype(dtype, copy=False)


def _float(fn):
    """An elementwise float function computed in float64, rounded to the input's type."""
    return lambda a, x, opset: [_back(fn(a, _in64(x)), x)]


def _ints(values) -> list[int]:
    return [int(v) for v in np.asarray(values).reshape(-1).tolist()]


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


# -- matrix products ------------------------------------------------------------------------------------------


@op("Gemm")
def gemm(a, inputs, opset):
    x, w, c = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else None
    x64, w64 = _in64(x), _in64(w)
    if a.get("transA", 0):
        x64 = x64.T
    if a.get("transB", 0):
        w64 = w64.T
    y = np.matmul(x64, w64)
    alpha, beta = a.get("alpha", 1.0), a.get("beta", 1.0)
    if alpha != 1.0:
        y *= F64(np.float32(alpha))
    if c is not None:
        y += F64(np.float32(beta)) * _in64(c) if beta != 1.0 else _in64(c)
    return [_back(y, x)]


@op("MatMul")
def matmul(a, inputs, opset):
    x, w = inputs
    return [_back(np.matmul(_in64(x), _in64(w)), x)]


# -- elementwise arithmetic -----------------------------------------------------------------------------------


def _binary(fn):
    def run(a, inputs, opset):
        x, y = inputs
        return [fn(x, y).astype(x.dtype, copy=False)]

    return run


for _name, _fn in {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.items():
    TABLE[(ONNX, _name)] = _binary(_fn)


@op("Div")
def div(a, inputs, opset):
    x, y = inputs
    if x.dtype.kind in "iu":  # integer division truncates toward zero, as C does
        return [(np.trunc(_in64(x) / _in64(y))).astype(x.dtype)]
    return [np.divide(x, y).astype(x.dtype, copy=False)]


@op("Pow")
def power(a, inputs, opset):
    x, y = inputs
    if x.dtype.kind in "iu":
        return [np.power(x, y.astype(x.dtype)).astype(x.dtype)]
    return [_back(np.power(_in64(x), _in64(y)), x)]


def _variadic(reduce, mean=False):
    def run(a, inputs, opset):
        out = inputs[0]
        for x in inputs[1:]:
            out = reduce(out, x)
        if mean:
            out = _back(_in64(out) / len(inputs), inputs[0])
        return [out.astype(inputs[0].dtype, copy=False)]

    return run


TABLE[(ONNX, "Max")] = _variadic(np.maximum)
TABLE[(ONNX, "Min")] = _variadic(np.minimum)
TABLE[(ONNX, "Sum")] = _variadic(np.add)
TABLE[(ONNX, "Mean")] = _variadic(np.add, mean=True)


def _same(fn):
    return lambda a, inputs, opset: [fn(a, inputs[0]).astype(inputs[0].dtype, copy=False)]


TABLE[(ONNX, "Neg")] = _same(lambda a, x: np.negative(x))
TABLE[(ONNX, "Abs")] = _same(lambda a, x: np.abs(x))
TABLE[(ONNX, "Relu")] = _same(lambda a, x: np.maximum(x, x.dtype.type(0)))
TABLE[(ONNX, "Floor")] = _same(lambda a, x: np.floor(x))
TABLE[(ONNX, "Ceil")] = _same(lambda a, x: np.ceil(x))
TABLE[(ONNX, "Round")] = _same(lambda a, x: np.round(x))  # half to even, as onnxruntime
TABLE[(ONNX, "Sign")] = _same(lambda a, x: np.sign(x))
TABLE[(ONNX, "Identity")] = lambda a, inputs, opset: [inputs[0]]


def _unary(fn):
    return lambda a, inputs, opset: _float(fn)(a, inputs[0], opset)


_UNARY = {
    "Reciprocal": lambda a, x: 1.0 / x,
    "Sqrt": lambda a, x: np.sqrt(x),
    "Exp": lambda a, x: np.exp(x),
    "Log": lambda a, x: np.log(x),
    "Tanh": lambda a, x: np.tanh(x),
    "Erf": lambda a, x: _erf.erf(x),
    "Sigmoid": lambda a, x: _sigmoid(x),
    "LeakyRelu": lambda a, x: np.where(x < 0, x * F64(np.float32(a.get("alpha", 0.01))), x),
    "Elu": lambda a, x: np.where(x < 0, F64(np.float32(a.get("alpha", 1.0))) * np.expm1(x), x),
    "Selu": lambda a, x: (
        F64(np.float32(a.get("gamma", 1.05070102214813232421875)))
        * np.where(x <= 0, F64(np.float32(a.get("alpha", 1.67326319217681884765625))) * np.expm1(x), x)
    ),
    "Softplus": lambda a, x: np.logaddexp(0.0, x),
    "Softsign": lambda a, x: x / (1.0 + np.abs(x)),
    "HardSigmoid": lambda a, x: np.clip(
        F64(np.float32(a.get("alpha", 0.2))) * x + F64(np.float32(a.get("beta", 0.5))), 0.0, 1.0
    ),
    "HardSwish": lambda a, x: x * np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "Mish": lambda a, x: x * np.tanh(np.logaddexp(0.0, x)),
    "Gelu": lambda a, x: _gelu(x, a.get("approximate", b"none")),
}
for _name, _fn in _UNARY.items():
    TABLE[(ONNX, _name)] = _unary(_fn)


def _sigmoid(x):
    # exp of a negative number only: no overflow for large |x|
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _gelu(x, approximate: bytes):
    if approximate == b"tanh":
        return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf.erf(x / np.sqrt(2.0)))


@op("PRelu")
def prelu(a, inputs, opset):
    x, slope = inputs
    return [_back(np.where(x < 0, _in64(x) * _in64(slope), _in64(x)), x)]


@op("Clip")
def clip(a, inputs, opset):
    x = inputs[0]
    if opset < 11:
        low, high = a.get("min", -3.4028234663852886e38), a.get("max", 3.4028234663852886e38)
    else:
        low = inputs[1] if len(inputs) > 1 and inputs[1] is not None else None
        high = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    out = x
    if low is not None:
        out = np.maximum(out, np.asarray(low, x.dtype))
    if high is not None:
        out = np.minimum(out, np.asarray(high, x.dtype))
    return [np.asarray(out, x.dtype)]


# -- comparisons and logic ------------------------------------------------------------------------------------

for _name, _fn in {
    "Equal": np.equal,
    "Less": np.less,
    "LessOrEqual": np.less_equal,
    "Greater": np.greater,
    "GreaterOrEqual": np.greater_equal,
    "And": np.logical_and,
    "Or": np.logical_or,
    "Xor": np.logical_xor,
}.items():
    TABLE[(ONNX, _name)] = (lambda fn: lambda a, inputs, opset: [fn(inputs[0], inputs[1])])(_fn)
TABLE[(ONNX, "Not")] = lambda a, inputs, opset: [np.logical_not(inputs[0])]
TABLE[(ONNX, "IsNaN")] = lambda a, inputs, opset: [np.isnan(inputs[0])]
TABLE[(ONNX, "IsInf")] = lambda a, inputs, opset: [
    (np.isposinf(inputs[0]) & bool(a.get("detect_positive", 1)))
    | (np.isneginf(inputs[0]) & bool(a.get("detect_negative", 1)))
]


@op("Where")
def where(a, inputs, opset):
    cond, x, y = inputs
    return [np.where(cond, x, y).astype(x.dtype, copy=False)]


# -- normalizations -------------------------------------------------------------------------------------------


def _softmax_axes(a, x, opset):
    """(array shaped for the reduction, axis): opset < 13 flattens to 2-D at `axis` (default 1)."""
    if opset < 13:
        axis = _axis(a.get("axis", 1), x.ndim)
        rows = int(np.prod(x.shape[:axis], dtype=np.int64))
        return _in64(x).reshape(rows, -1), 1
    return _in64(x), _axis(a.get("axis", -1), x.ndim)


def _softmax(log: bool):
    def run(a, inputs, opset):
        x = inputs[0]
        y, axis = _softmax_axes(a, x, opset)
        shifted = y - y.max(axis=axis, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=axis, keepdims=True)
        out = shifted - np.log(total) if log else e / total
        return [_back(out.reshape(x.shape), x)]

    return run


TABLE[(ONNX, "Softmax")] = _softmax(False)
TABLE[(ONNX, "LogSoftmax")] = _softmax(True)


@op("BatchNormalization")
def batch_norm(a, inputs, opset):
    x, scale, bias, mean, var = inputs[:5]
    if a.get("training_mode", 0):
        raise ValueError("BatchNormalization in training mode; export the model in eval mode")
    shape = (1, -1) + (1,) * (x.ndim - 2)
    eps = F64(np.float32(a.get("epsilon", 1e-5)))
    y = (_in64(x) - _in64(mean).reshape(shape)) / np.sqrt(_in64(var).reshape(shape) + eps)
    return [_back(y * _in64(scale).reshape(shape) + _in64(bias).reshape(shape), x)]


@op("LayerNormalization")
def layer_norm(a, inputs, opset):
    x, scale = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 and inputs[2] is not None else None
    axis = _axis(a.get("axis", -1), x.ndim)
    axes = tuple(range(axis, x.ndim))
    x64 = _in64(x)
    mean = x64.mean(axis=axes, keepdims=True)
    var = ((x64 - mean) ** 2).mean(axis=axes, keepdims=True)
    inv = 1.0 / np.sqrt(var + F64(np.float32(a.get("epsilon", 1e-5))))
    y = (x64 - mean) * inv * _in64(scale)
    if bias is not None:
        y = y + _in64(bias)
    return [_back(y, x), _back(mean, x), _back(inv, x)]


# -- reductions -----------------------------------------------------------------------------------------------

_AXES_INPUT = {"ReduceSum": 13}  # the others take axes as an input from opset 18


def _reduce(fn, name: str):
    def run(a, inputs, opset):
        x = inputs[0]
        if opset >= _AXES_INPUT.get(name, 18):
            given = inputs[1] if len(inputs) > 1 and inputs[1] is not None else None
            axes = _ints(given) if given is not None else []
        else:
            axes = list(a.get("axes", []))
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                return [x]
            axes = list(range(x.ndim))
        axes = tuple(sorted({_axis(v, x.ndim) for v in axes}))
        keep = bool(a.get("keepdims", 1))
        y = fn(_in64(x) if x.dtype.kind == "f" else x, axes, keep)
        return [np.asarray(y).astype(x.dtype, copy=False)]

    return run


_REDUCTIONS = {
    "ReduceSum": lambda x, ax, k: x.sum(axis=ax, keepdims=k),
    "ReduceMean": lambda x, ax, k: x.mean(axis=ax, keepdims=k),
    "ReduceMax": lambda x, ax, k: x.max(axis=ax, keepdims=k),
    "ReduceMin": lambda x, ax, k: x.min(axis=ax, keepdims=k),
    "ReduceProd": lambda x, ax, k: x.prod(axis=ax, keepdims=k),
    "ReduceSumSquare": lambda x, ax, k: (x * x).sum(axis=ax, keepdims=k),
    "ReduceL2": lambda x, ax, k: np.sqrt((x * x).sum(axis=ax, keepdims=k)),
    "ReduceLogSumExp": lambda x, ax, k: _logsumexp(x, ax, k),
}
for _name, _fn in _REDUCTIONS.items():
    TABLE[(ONNX, _name)] = _reduce(_fn, _name)


def _logsumexp(x, axes, keep):
    top = x.max(axis=axes, keepdims=True)
    out = np.log(np.exp(x - top).sum(axis=axes, keepdims=True)) + top
    return out if keep else np.squeeze(out, axis=axes)


def _arg(fn):
    def run(a, inputs, opset):
        x = inputs[0]
        axis = _axis(a.get("axis", 0), x.ndim)
        if a.get("select_last_index", 0):
            flipped = np.flip(x, axis=axis)
            index = x.shape[axis] - 1 - fn(flipped, axis=axis)
        else:
            index = fn(x, axis=axis)
        index = index.astype(np.int64)
        return [np.expand_dims(index, axis) if a.get("keepdims", 1) else index]

    return run


TABLE[(ONNX, "ArgMax")] = _arg(np.argmax)
TABLE[(ONNX, "ArgMin")] = _arg(np.argmin)


# -- shapes ---------------------------------------------------------------------------------------------------


@op("Shape")
def shape(a, inputs, opset):
    dims = np.array(inputs[0].shape, np.int64)
    rank = len(dims)
    start, end = a.get("start", 0), a.get("end", rank)
    return [dims[slice(max(min(start, rank), -rank) if start < 0 else min(start, rank), end)]]


@op("Size")
def size(a, inputs, opset):
    return [np.array(inputs[0].size, np.int64)]


@op("Reshape")
def reshape(a, inputs, opset):
    x, wanted = inputs
    dims = _ints(wanted)
    if not a.get("allowzero", 0):
        dims = [x.shape[i] if d == 0 else d for i, d in enumerate(dims)]
    return [x.reshape(dims)]


@op("Flatten")
def flatten(a, inputs, opset):
    x = inputs[0]
    axis = a.get("axis", 1)
    axis = axis + x.ndim if axis < 0 else axis
    rows = int(np.prod(x.shape[:axis], dtype=np.int64))
    return [x.reshape(rows, -1) if x.size or rows else x.reshape(rows, int(np.prod(x.shape[axis:])))]


def _axes_of(a, inputs, opset, first: int) -> list[int] | None:
    """Squeeze's and Unsqueeze's axes: an attribute before opset 13, the second input from 13."""
    if opset < first:
        return list(a["axes"]) if "axes" in a else None
    return _ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else None


@op("Squeeze")
def squeeze(a, inputs, opset):
    x = inputs[0]
    axes = _axes_of(a, inputs, opset, 13)
    if axes is None:
        return [np.squeeze(x)]
    axes = tuple(_axis(v, x.ndim) for v in axes)
    if any(x.shape[v] != 1 for v in axes):
        raise ValueError(f"Squeeze: axes {axes} of shape {x.shape} are not all 1")
    return [np.squeeze(x, axis=axes)]


@op("Unsqueeze")
def unsqueeze(a, inputs, opset):
    x = inputs[0]
    axes = _axes_of(a, inputs, opset, 13) or []
    rank = x.ndim + len(axes)
    out = x
    for v in sorted(_axis(v, rank) for v in axes):
        out = np.expand_dims(out, v)
    return [out]


@op("Transpose")
def transpose(a, inputs, opset):
    perm = a.get("perm")
    return [np.transpose(inputs[0], perm if perm else None)]


@op("Concat")
def concat(a, inputs, opset):
    parts = [x for x in inputs if x is not None]
    return [np.concatenate(parts, axis=_axis(a["axis"], parts[0].ndim))]


@op("Split")
def split(a, inputs, opset):
    x = inputs[0]
    axis = _axis(a.get("axis", 0), x.ndim)
    if opset >= 13:
        sizes = _ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else None
    else:
        sizes = list(a["split"]) if "split" in a else None
    if sizes is None:
        length = x.shape[axis]
        count = a["num_outputs"]  # the session sets it to the node's number of outputs where the file does not
        step = -(-length // count)  # opset 18's num_outputs: equal parts, the last one smaller
        sizes = [min(step, length - i * step) for i in range(count)]
    bounds = np.cumsum(sizes)[:-1]
    return np.split(x, bounds, axis=axis)


@op("Slice")
def slice_(a, inputs, opset):
    x = inputs[0]
    if opset < 10:
        starts, ends = list(a["starts"]), list(a["ends"])
        axes = list(a.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = _ints(inputs[1]), _ints(inputs[2])
        axes = _ints(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else list(range(len(starts)))
        steps = _ints(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = _axis(axis, x.ndim)
        length = x.shape[axis]
        start, end = _clamp(start, length, step, True), _clamp(end, length, step, False)
        index[axis] = slice(start, end if end >= 0 else None, step)
    return [x[tuple(index)]]


def _clamp(value: int, length: int, step: int, is_start: bool) -> int:
    """A Slice bound clamped as onnxruntime does (INT64_MAX and negatives alike); -1 for 'before index 0'."""
    if value < 0:
        value += length
    if step > 0:
        return min(max(value, 0), length)
    return min(max(value, -1), length - 1)


@op("Gather")
def gather(a, inputs, opset):
    x, index = inputs
    axis = _axis(a.get("axis", 0), x.ndim)
    index = index.astype(np.int64)
    length = x.shape[axis]
    if ((index < -length) | (index >= length)).any():
        raise ValueError(f"Gather: an index is out of range for dimension {length}")
    return [np.take(x, np.where(index < 0, index + length, index), axis=axis)]


@op("Expand")
def expand(a, inputs, opset):
    x, wanted = inputs
    shape = np.broadcast_shapes(x.shape, tuple(_ints(wanted)))
    return [np.broadcast_to(x, shape).copy()]


@op("Tile")
def tile(a, inputs, opset):
    return [np.tile(inputs[0], _ints(inputs[1]))]


@op("ConstantOfShape")
def constant_of_shape(a, inputs, opset):
    value = a.get("value")
    value = np.zeros(1, np.float32) if value is None else value
    return [np.full(_ints(inputs[0]), value.reshape(-1)[0], value.dtype)]


@op("Constant")
def constant(a, inputs, opset):
    if "value" in a:
        return [a["value"]]
    if "value_float" in a:
        return [np.array(a["value_float"], np.float32)]
    if "value_floats" in a:
        return [np.array(a["value_floats"], np.float32)]
    if "value_int" in a:
        return [np.array(a["value_int"], np.int64)]
    if "value_ints" in a:
        return [np.array(a["value_ints"], np.int64)]
    if "value_string" in a:
        return [np.array(a["value_string"].decode(), object)]
    if "value_strings" in a:
        return [np.array([s.decode() for s in a["value_strings"]], object)]
    raise ValueError(f"Constant with attributes {sorted(a)}, which the numpy engine does not read")


@op("Cast")
def cast(a, inputs, opset):
    x, to = inputs[0], a["to"]
    if to not in DTYPES:
        raise ValueError(f"Cast to element type {to}, which the numpy engine does not run")
    dtype = DTYPES[to]
    if to == 8:
        return [np.array([_as_text(v) for v in x.reshape(-1).tolist()], object).reshape(x.shape)]
    if x.dtype == object:  # strings to numbers, as onnxruntime parses them
        return [np.array([float(v) for v in x.reshape(-1).tolist()]).astype(dtype).reshape(x.shape)]
    if np.dtype(dtype).kind in "iu" and x.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return [np.trunc(x).astype(dtype)]
    return [x.astype(dtype)]


def _as_text(value) -> str:
    if isinstance(value, float):
        return repr(value) if value == value else "NaN"
    return str(value)


# -- ai.onnx.ml encoders --------------------------------------------------------------------------------------


def _texts(values) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else v for v in values]


def _lookup(x: np.ndarray, keys: list, values: np.ndarray, default) -> np.ndarray:
    """values[i] where x == keys[i], else default, elementwise; keys of strings or numbers."""
    flat = x.reshape(-1)
    if x.dtype == object:
        table = dict(zip(keys, values.tolist()))
        out = np.array([table.get(v, default) for v in flat.tolist()], values.dtype)
        return out.reshape(x.shape)
    keys_array = np.asarray(keys, x.dtype if x.dtype.kind != "f" else np.float64)
    order = np.argsort(keys_array, kind="stable")
    sorted_keys = keys_array[order]
    position = np.searchsorted(sorted_keys, flat)
    position = np.minimum(position, len(sorted_keys) - 1)
    found = sorted_keys[position] == flat if len(sorted_keys) else np.zeros(flat.shape, bool)
    if x.dtype.kind == "f":  # a NaN key matches NaN (LabelEncoder 4)
        nan_keys = np.flatnonzero(np.isnan(keys_array))
        if nan_keys.size:
            found = found | np.isnan(flat)
            position = np.where(np.isnan(flat), np.searchsorted(order, nan_keys[0]), position)
    chosen = values[order][position] if len(sorted_keys) else np.empty(flat.shape, values.dtype)
    out = np.where(found, chosen, np.asarray(default, values.dtype))
    return out.astype(values.dtype).reshape(x.shape)


@op("LabelEncoder", domain=ML)
def label_encoder(a, inputs, opset):
    x = inputs[0]
    if "keys_tensor" in a or "values_tensor" in a:
        keys = a["keys_tensor"].reshape(-1).tolist()
        values = a["values_tensor"].reshape(-1)
        default = a["default_tensor"].reshape(-1)[0] if "default_tensor" in a else _default_of(values.dtype)
        return [_lookup(x, keys, values, default)]
    if "keys_strings" in a:
        keys = _texts(a["keys_strings"])
    elif "keys_int64s" in a:
        keys = list(a["keys_int64s"])
    else:
        keys = list(a.get("keys_floats", []))
    if "values_strings" in a:
        values, default = np.array(_texts(a["values_strings"]), object), a.get("default_string", b"_Unused").decode()
    elif "values_int64s" in a:
        values, default = np.array(a["values_int64s"], np.int64), a.get("default_int64", -1)
    else:
        values, default = np.array(a.get("values_floats", []), np.float32), a.get("default_float", -0.0)
    return [_lookup(x, keys, values, default)]


def _default_of(dtype):
    kind = np.dtype(dtype).kind
    return "_Unused" if kind == "O" else (-1 if kind in "iu" else -0.0)


@op("CategoryMapper", domain=ML)
def category_mapper(a, inputs, opset):
    x = inputs[0]
    strings, ints = _texts(a.get("cats_strings", [])), list(a.get("cats_int64s", []))
    if x.dtype == object:
        return [_lookup(x, strings, np.array(ints, np.int64), a.get("default_int64", -1))]
    default = a.get("default_string", b"_Unused").decode()
    return [_lookup(x.astype(np.int64), ints, np.array(strings, object), default)]


@op("OneHotEncoder", domain=ML)
def one_hot(a, inputs, opset):
    x = inputs[0]
    if "cats_strings" in a:
        cats = _texts(a["cats_strings"])
        if x.dtype != object:
            raise ValueError("OneHotEncoder: string categories for a numeric input")
    else:
        cats = list(a.get("cats_int64s", []))
        if x.dtype == object:
            raise ValueError("OneHotEncoder: integer categories for a string input")
        x = np.trunc(x).astype(np.int64) if x.dtype.kind == "f" else x.astype(np.int64)
    codes = _lookup(x, cats, np.arange(len(cats), dtype=np.int64), -1)
    if not a.get("zeros", 1) and (codes < 0).any():
        raise ValueError("OneHotEncoder: a value outside the categories (zeros=0)")
    out = (codes[..., None] == np.arange(len(cats), dtype=np.int64)).astype(np.float32)
    return [out]


@op("Imputer", domain=ML)
def imputer(a, inputs, opset):
    x = inputs[0]
    if x.dtype.kind == "f":
        fill = np.asarray(a.get("imputed_value_floats", []), np.float32)
        replaced = a.get("replaced_value_float", 0.0)
        hit = np.isnan(x) if np.isnan(replaced) else x == np.float32(replaced)
    else:
        fill = np.asarray(a.get("imputed_value_int64s", []), np.int64)
        hit = x == a.get("replaced_value_int64", 0)
    if fill.size not in (1, x.shape[-1] if x.ndim else 1):
        raise ValueError(f"Imputer: {fill.size} imputed values for {x.shape[-1]} columns")
    return [np.where(hit, np.broadcast_to(fill.astype(x.dtype), x.shape), x)]


@op("Scaler", domain=ML)
def scaler(a, inputs, opset):
    x = _in64(inputs[0].astype(np.float32))
    offset = np.asarray(a.get("offset", [0.0]), np.float32).astype(F64)
    scale = np.asarray(a.get("scale", [1.0]), np.float32).astype(F64)
    return [((x - offset) * scale).astype(np.float32)]


@op("ArrayFeatureExtractor", domain=ML)
def array_feature_extractor(a, inputs, opset):
    x, index = inputs
    index = index.astype(np.int64).reshape(-1)
    if ((index < 0) | (index >= x.shape[-1])).any():
        raise ValueError(f"ArrayFeatureExtractor: an index is out of range for {x.shape[-1]} columns")
    out = np.take(x, index, axis=-1)
    return [out.reshape(1, -1) if x.ndim == 1 else out]
