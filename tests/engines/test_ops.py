"""Every operator of the numpy engine against onnxruntime: one-node graphs on random inputs, over the attributes and
opset-dependent forms that change the answer. onnxruntime is the reference; the tolerance is explicit per kind."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge_predict.engines.numpy import ops
from edge_predict.engines.numpy.session import make_session

RNG = np.random.default_rng(29)
F = np.float32
# onnxruntime's float32 kernels are off the exact answer in the last bits (relative), and by up to a few 1e-7 where
# values cancel (sums of products near 0, 1 + tanh(-z), x - max - log(sum)) or where MLAS approximates (Sigmoid far
# out); the numpy engine computes those in float64. 1e-6 is the golden tolerance of probabilities.
RTOL, ATOL = 4e-6, 1e-6
ML = "ai.onnx.ml"
_TYPES = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float64): TensorProto.DOUBLE,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.bool_): TensorProto.BOOL,
    np.dtype(object): TensorProto.STRING,
}


def r(*shape, low=-3.0, high=3.0):
    return RNG.uniform(low, high, shape).astype(F)


def strings(*shape, words=("a", "b", "c", "zz", "")):
    return np.array(RNG.choice(list(words), shape), dtype=object)


def graph_bytes(op, feeds, consts, attrs, opset, outputs, domain=""):
    """A model of one node: `feeds` as graph inputs, `consts` (name -> array or None for an absent input) as
    initializers; outputs declared with the types and ranks numpy computed."""
    names = []
    inits, inputs = [], []
    for name, value in list(feeds.items()) + list(consts.items()):
        if value is None:
            names.append("")
            continue
        names.append(name)
        if name in feeds:
            inputs.append(helper.make_tensor_value_info(name, _TYPES[value.dtype], list(value.shape)))
        elif value.dtype == object:
            inits.append(helper.make_tensor(name, TensorProto.STRING, value.shape, [v.encode() for v in value.flat]))
        else:
            inits.append(numpy_helper.from_array(value, name))
    out_names = [f"y{i}" for i in range(len(outputs))]
    node = helper.make_node(op, names, out_names, domain=domain, **attrs)
    outs = [helper.make_tensor_value_info(n, _TYPES[o.dtype], None) for n, o in zip(out_names, outputs)]
    imports = [helper.make_opsetid("", opset if not domain else 17)]
    if domain:
        imports.append(helper.make_opsetid(domain, opset))
    g = helper.make_graph([node], "g", inputs, outs, inits)
    model = helper.make_model(g, opset_imports=imports, ir_version=8)
    return model.SerializeToString()


def compare(op, feeds, consts=None, attrs=None, opset=17, domain="", exact=False, outputs=1, atol=ATOL):
    consts, attrs = consts or {}, attrs or {}
    # the numpy engine first: its outputs' types declare the graph's, which onnxruntime then checks
    probe = graph_bytes(op, feeds, consts, attrs, opset, [np.zeros(1, F)] * outputs, domain)
    engine = make_session(probe, "probe", None)
    got = engine.run([f"y{i}" for i in range(outputs)], feeds)
    data = graph_bytes(op, feeds, consts, attrs, opset, got, domain)
    options = ort.SessionOptions()
    options.log_severity_level = 4
    want = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"]).run(None, feeds)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        if exact or g.dtype.kind not in "f":
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=RTOL, atol=atol)
    return got


def ints(values):
    return np.array(values, np.int64)


# -- matrix products -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("trans_a", [0, 1])
@pytest.mark.parametrize("trans_b", [0, 1])
@pytest.mark.parametrize("alpha, beta", [(1.0, 1.0), (0.5, 2.0), (-1.25, 0.0)])
@pytest.mark.parametrize("c", ["none", "scalar", "row", "matrix"])
def test_gemm(trans_a, trans_b, alpha, beta, c):
    m, k, n = 5, 7, 4
    a = r(k, m) if trans_a else r(m, k)
    b = r(n, k) if trans_b else r(k, n)
    cs = {"none": None, "scalar": r(1), "row": r(n), "matrix": r(m, n)}[c]
    consts = {"b": b, **({"c": cs} if cs is not None else {})}
    compare(
        "Gemm",
        {"a": a},
        consts,
        {"transA": trans_a, "transB": trans_b, "alpha": alpha, "beta": beta},
        opset=13,
    )


@pytest.mark.parametrize("shapes", [((6, 3), (3, 5)), ((2, 6, 3), (3, 4)), ((4,), (4, 3)), ((6, 3), (3,))])
def test_matmul(shapes):
    compare("MatMul", {"a": r(*shapes[0])}, {"b": r(*shapes[1])})


# -- elementwise ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shape_b", [(6, 3), (3,), (1,), (6, 1)])
def test_arithmetic_broadcasts(op, shape_b):
    compare(op, {"a": r(6, 3)}, {"b": r(*shape_b, low=0.5, high=2.0)}, exact=True)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_integer_arithmetic(op):
    a, b = ints(RNG.integers(-50, 50, (4, 5))), ints(RNG.choice([-7, -3, -1, 1, 2, 5], (4, 5)))
    compare(op, {"a": a}, {"b": b})


@pytest.mark.parametrize("exponent", [r(6, 3, low=-2, high=2), np.array([2.0], F), np.array(3, np.int64)])
def test_pow(exponent):
    compare("Pow", {"a": r(6, 3, low=0.1, high=3)}, {"b": exponent})


UNARY = [
    ("Relu", {}, 17, (-3, 3)),
    ("LeakyRelu", {}, 17, (-3, 3)),
    ("LeakyRelu", {"alpha": 0.2}, 17, (-3, 3)),
    ("Sigmoid", {}, 17, (-30, 30)),
    ("Tanh", {}, 17, (-10, 10)),
    ("Exp", {}, 17, (-20, 20)),
    ("Log", {}, 17, (1e-3, 100)),
    ("Sqrt", {}, 17, (0, 100)),
    ("Erf", {}, 17, (-5, 5)),
    ("Neg", {}, 17, (-3, 3)),
    ("Abs", {}, 17, (-3, 3)),
    ("Reciprocal", {}, 17, (0.1, 3)),
    ("Elu", {"alpha": 0.7}, 17, (-3, 3)),
    ("Selu", {}, 17, (-3, 3)),
    ("Softplus", {}, 17, (-20, 20)),
    ("Softsign", {}, 17, (-3, 3)),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 17, (-5, 5)),
    ("HardSwish", {}, 17, (-5, 5)),
    ("Mish", {}, 18, (-5, 5)),
    ("Gelu", {}, 20, (-5, 5)),
    ("Gelu", {"approximate": "tanh"}, 20, (-5, 5)),
    ("Floor", {}, 17, (-3, 3)),
    ("Ceil", {}, 17, (-3, 3)),
    ("Round", {}, 17, (-3, 3)),
    ("Sign", {}, 17, (-3, 3)),
    ("Identity", {}, 17, (-3, 3)),
]


@pytest.mark.parametrize("op, attrs, opset, bounds", UNARY, ids=lambda v: v if isinstance(v, str) else None)
def test_unary(op, attrs, opset, bounds):
    x = r(50, 4, low=bounds[0], high=bounds[1])
    if op == "Round":
        x[0, :] = [0.5, 1.5, -2.5, 2.5]  # halves go to even
    compare(op, {"x": x}, attrs=attrs, opset=opset)


def test_prelu():
    compare("PRelu", {"x": r(6, 3)}, {"slope": r(3, low=0, high=1)})


@pytest.mark.parametrize(
    "opset, consts, attrs",
    [
        (6, {}, {"min": -1.0, "max": 0.5}),
        (6, {}, {}),
        (11, {"min": np.array(-1.0, F), "max": np.array(0.5, F)}, {}),
        (13, {"min": np.array(-0.25, F)}, {}),
        (13, {"min": None, "max": np.array(0.5, F)}, {}),
        (13, {}, {}),
    ],
)
def test_clip(opset, consts, attrs):
    compare("Clip", {"x": r(6, 3)}, consts, attrs, opset=opset)


# -- comparisons and logic -------------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"])
def test_comparisons(op):
    a = r(6, 3).round()
    compare(op, {"a": a}, {"b": r(3).round()})


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logic(op):
    compare(op, {"a": RNG.random((6, 3)) < 0.5}, {"b": RNG.random((6, 3)) < 0.5})


def test_not():
    compare("Not", {"a": RNG.random((6, 3)) < 0.5})


def test_where_and_isnan():
    x = r(6, 3)
    x[RNG.random((6, 3)) < 0.3] = np.nan
    compare("IsNaN", {"x": x})
    compare("Where", {"c": np.isnan(x)}, {"a": r(6, 3), "b": r(3)})


@pytest.mark.parametrize("attrs", [{}, {"detect_negative": 0}, {"detect_positive": 0}])
def test_isinf(attrs):
    compare("IsInf", {"x": np.array([1.0, np.inf, -np.inf, np.nan], F)}, attrs=attrs)


@pytest.mark.parametrize("op", ["Max", "Min", "Sum", "Mean"])
def test_variadic(op):
    compare(op, {"a": r(6, 3)}, {"b": r(3), "c": r(6, 1)})


# -- normalizations and reductions -----------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1])
def test_softmax(op, opset, axis):
    compare(op, {"x": r(3, 4, 5, low=-10, high=10)}, attrs={} if axis is None else {"axis": axis}, opset=opset)


@pytest.mark.parametrize("epsilon", [1e-5, 1e-3])
@pytest.mark.parametrize("shape", [(6, 4), (6, 4, 3)])
def test_batch_normalization(epsilon, shape):
    c = shape[1]
    consts = {"s": r(c), "b": r(c), "m": r(c), "v": r(c, low=0.1, high=2)}
    compare("BatchNormalization", {"x": r(*shape)}, consts, {"epsilon": epsilon}, opset=15)


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("bias", [True, False])
def test_layer_normalization(axis, bias):
    consts = {"s": r(4, 5) if axis == 1 else r(5), **({"b": r(4, 5) if axis == 1 else r(5)} if bias else {})}
    compare("LayerNormalization", {"x": r(6, 4, 5)}, consts, {"axis": axis, "epsilon": 1e-5}, opset=17)


REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL2",
          "ReduceLogSumExp"]  # fmt: skip


@pytest.mark.parametrize("op", REDUCE)
@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("axes", [None, [1], [0, -1]])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reductions(op, opset, axes, keepdims):
    as_input = opset >= (13 if op == "ReduceSum" else 18)
    consts = {"axes": ints(axes)} if as_input and axes is not None else {}
    attrs = {"keepdims": keepdims, **({"axes": axes} if not as_input and axes is not None else {})}
    compare(op, {"x": r(4, 3, 5, low=0.5, high=1.5)}, consts, attrs, opset=opset)


def test_reduce_noop_with_empty_axes():
    compare("ReduceSum", {"x": r(4, 3)}, {}, {"noop_with_empty_axes": 1}, opset=13)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("attrs", [{}, {"axis": 1, "keepdims": 0}, {"axis": -1, "select_last_index": 1}])
def test_arg(op, attrs):
    compare(op, {"x": r(6, 5).round()}, attrs=attrs)


# -- shapes -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis):
    compare("Concat", {"a": r(4, 3)}, {"b": r(4, 3), "c": r(4, 3)}, {"axis": axis})


@pytest.mark.parametrize("shape", [[0, -1], [-1], [3, 2, -1], [0, 0, 1]])
def test_reshape(shape):
    compare("Reshape", {"x": r(4, 6)}, {"s": ints(shape)})


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_flatten(axis):
    compare("Flatten", {"x": r(2, 3, 4)}, attrs={"axis": axis})


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [None, [1], [-1, 1]])
def test_squeeze(opset, axes):
    consts = {"axes": ints(axes)} if opset >= 13 and axes is not None else {}
    attrs = {"axes": axes} if opset < 13 and axes is not None else {}
    compare("Squeeze", {"x": r(3, 1, 4, 1)}, consts, attrs, opset=opset)


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[0], [1, -1], [-1]])
def test_unsqueeze(opset, axes):
    consts, attrs = ({"axes": ints(axes)}, {}) if opset >= 13 else ({}, {"axes": axes})
    compare("Unsqueeze", {"x": r(3, 4)}, consts, attrs, opset=opset)


@pytest.mark.parametrize("perm", [None, [1, 0, 2], [2, 0, 1]])
def test_transpose(perm):
    compare("Transpose", {"x": r(2, 3, 4)}, attrs={} if perm is None else {"perm": perm})


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_gather(axis):
    compare("Gather", {"x": r(4, 5)}, {"i": ints([[0, -1], [2, 1]])}, {"axis": axis})


@pytest.mark.parametrize(
    "starts, ends, axes, steps",
    [([0], [2], [1], None), ([1, 0], [-1, 100], [0, 1], [1, 2]), ([-1], [-100], [1], [-1]), ([2], [2**62], None, None)],
)
def test_slice(starts, ends, axes, steps):
    consts = {"s": ints(starts), "e": ints(ends)}
    if axes is not None or steps is not None:
        consts["a"] = ints(axes if axes is not None else range(len(starts)))
    if steps is not None:
        consts["t"] = ints(steps)
    compare("Slice", {"x": r(5, 6)}, consts, exact=True)


def test_slice_attributes_before_opset_10():
    compare("Slice", {"x": r(5, 6)}, attrs={"starts": [1], "ends": [4], "axes": [1]}, opset=9)


@pytest.mark.parametrize(
    "opset, consts, attrs, outputs",
    [
        (11, {}, {"axis": 1, "split": [2, 4]}, 2),
        (13, {"split": ints([1, 2, 3])}, {"axis": 1}, 3),
        (13, {}, {"axis": 1}, 2),
        (18, {}, {"axis": 1, "num_outputs": 4}, 4),
    ],
)
def test_split(opset, consts, attrs, outputs):
    compare("Split", {"x": r(3, 6)}, consts, attrs, opset=opset, outputs=outputs)


@pytest.mark.parametrize("to, x", [
    (TensorProto.INT64, r(6, 3, low=-5, high=5)),
    (TensorProto.FLOAT, ints(RNG.integers(-9, 9, (6, 3)))),
    (TensorProto.BOOL, r(6, 3).round()),
    (TensorProto.FLOAT, RNG.random((6, 3)) < 0.5),
    (TensorProto.DOUBLE, r(6, 3)),
    (TensorProto.INT32, r(6, 3, low=-5, high=5)),
])  # fmt: skip
def test_cast(to, x):
    compare("Cast", {"x": x}, attrs={"to": to})


@pytest.mark.parametrize("start, end", [(0, None), (1, None), (-1, None), (0, 1)])
def test_shape(start, end):
    attrs = {"start": start, **({"end": end} if end is not None else {})}
    compare("Shape", {"x": r(2, 3, 4)}, attrs=attrs, opset=15)


def test_size_expand_tile_constant_of_shape():
    compare("Size", {"x": r(2, 3)})
    compare("Expand", {"x": r(3, 1)}, {"s": ints([2, 3, 4])})
    compare("Tile", {"x": r(2, 3)}, {"s": ints([2, 1])})
    compare("ConstantOfShape", {"s": ints([2, 3])}, attrs={"value": numpy_helper.from_array(np.array([1.5], F))})


@pytest.mark.parametrize(
    "attrs",
    [
        {"value": numpy_helper.from_array(r(2, 3))},
        {"value_float": 0.25},
        {"value_floats": [0.25, 1.5]},
        {"value_int": 7},
        {"value_ints": [1, -2]},
    ],
)
def test_constant(attrs):
    data = graph_bytes("Constant", {}, {}, attrs, 17, [np.zeros(1, F)])
    got = make_session(data, "c", None).run(["y0"], {})[0]
    data = graph_bytes("Constant", {}, {}, attrs, 17, [got])
    want = ort.InferenceSession(data, providers=["CPUExecutionProvider"]).run(None, {})[0]
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# -- ai.onnx.ml -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, attrs",
    [
        (strings(20, 2), {"keys_strings": ["a", "b", "zz"], "values_int64s": [0, 1, 2], "default_int64": -1}),
        (
            ints(RNG.integers(0, 9, (20, 2))),
            {"keys_int64s": [8, 3, 5], "values_int64s": [0, 1, 2], "default_int64": -1},
        ),
        (strings(20, 1), {"keys_strings": ["a", "c"], "values_strings": ["A", "C"], "default_string": "?"}),
        (strings(20, 1), {"keys_strings": ["a", "c"], "values_floats": [0.5, -2.0], "default_float": 9.0}),
        (ints(RNG.integers(0, 5, (20, 1))), {"keys_int64s": [1, 2], "values_strings": ["x", "y"]}),
    ],
)
def test_label_encoder(x, attrs):
    compare("LabelEncoder", {"x": x}, attrs=attrs, opset=2, domain=ML)


@pytest.mark.parametrize(
    "x, attrs",
    [
        (strings(10, 1), {"cats_strings": ["a", "b", "zz"]}),
        (ints(RNG.integers(0, 6, (10, 2))), {"cats_int64s": [0, 2, 5]}),
        (strings(10, 2), {"cats_strings": ["a", "b"], "zeros": 1}),
    ],
)
def test_one_hot_encoder(x, attrs):
    compare("OneHotEncoder", {"x": x}, attrs=attrs, opset=1, domain=ML)


@pytest.mark.parametrize(
    "x, attrs",
    [
        (strings(12, 2), {"cats_strings": ["a", "b", "zz"], "cats_int64s": [10, 20, 30], "default_int64": -7}),
        (ints(RNG.integers(0, 4, (12, 1))), {"cats_strings": ["a", "b"], "cats_int64s": [1, 3], "default_string": "?"}),
    ],
)
def test_category_mapper(x, attrs):
    compare("CategoryMapper", {"x": x}, attrs=attrs, opset=1, domain=ML)


def _with_nan():
    x = r(10, 3)
    x[RNG.random((10, 3)) < 0.3] = np.nan
    return x


@pytest.mark.parametrize(
    "x, attrs",
    [
        (_with_nan(), {"imputed_value_floats": [1.0, 2.0, 3.0], "replaced_value_float": float("nan")}),
        (_with_nan(), {"imputed_value_floats": [0.5], "replaced_value_float": float("nan")}),
        (r(10, 3).round(), {"imputed_value_floats": [9.0, 8.0, 7.0], "replaced_value_float": 1.0}),
        (ints(RNG.integers(-1, 3, (10, 2))), {"imputed_value_int64s": [5, 6], "replaced_value_int64": -1}),
    ],
)
def test_imputer(x, attrs):
    compare("Imputer", {"x": x}, attrs=attrs, opset=1, domain=ML)


def test_scaler():
    compare("Scaler", {"x": r(10, 3)}, attrs={"offset": [0.5, -1.0, 2.0], "scale": [2.0, 0.5, 3.0]}, opset=1, domain=ML)


def test_every_operator_of_the_table_is_tested_here():
    source = open(__file__).read()
    untested = sorted(op for _, op in ops.TABLE if f'"{op}"' not in source)
    assert not untested, untested


@pytest.mark.parametrize(
    "x, index",
    [(r(6, 5), ints([0, 3])), (r(6, 5), ints([[4]])), (strings(6, 3), ints([2, 0])), (r(5), ints([1, 2]))],
)
def test_array_feature_extractor(x, index):
    compare("ArrayFeatureExtractor", {"x": x}, {"i": index}, opset=1, domain=ML)
