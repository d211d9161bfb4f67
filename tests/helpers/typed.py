"""A typed model file (manifest format 3) built by hand: numbers, text and integer categories, missing values, with
the encoding and imputation in the graph (ai.onnx.ml LabelEncoder, IsNaN/Where), and the feed it takes built by hand.

Features, in manifest order:
  hours   number >= 0, may be missing (the graph imputes 3.0)
  weight  number, may not be missing
  island  text category Biscoe, Dream, Torgersen, NA (the text 'NA' is a category, Namibia), may be missing ('' in
          the graph, encoded as Biscoe)
  sex     text category female, male, unknown values encoded (a bucket of their own), may not be missing
  rating  integer category 1, 2, 3, may be missing (-1 in the graph, imputed as 2)
Graph inputs: numbers float32 [hours, weight], text string [island, sex], codes int64 [rating].
"""

from __future__ import annotations

import json

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from edge_predict.model.manifest import METADATA_KEY

ISLANDS = ["Biscoe", "Dream", "Torgersen", "NA"]
SEXES = ["female", "male"]
RATINGS = [1, 2, 3]
NAMES = ["hours", "weight", "island", "sex", "rating"]
HOURS_IMPUTED, RATING_IMPUTED, SEX_BUCKET = 3.0, 2, 2
GOLDEN = [
    [1.0, 0.5, "Biscoe", "female", 1],
    [None, -1.0, "Dream", "male", 2],
    [7.5, 2.0, "Torgersen", "female", 3],
    [2.0, 0.0, "NA", "male", None],
    [0.0, 1.0, None, "female", 1],
    [4.0, -0.5, "Dream", "other", 2],
]


def features() -> list[dict]:
    return [
        {"name": "hours", "type": "number", "min": 0.0, "max": None, "missing": "impute", "impute": HOURS_IMPUTED},
        {"name": "weight", "type": "number", "min": None, "max": None, "missing": "refuse"},
        {
            "name": "island",
            "type": "category",
            "categories": ISLANDS,
            "unknown": "refuse",
            "missing": "impute",
            "missing_value": "",
            "impute": "Biscoe",
        },
        {
            "name": "sex",
            "type": "category",
            "categories": SEXES,
            "unknown": "encode",
            "unknown_policy": f"bucket {SEX_BUCKET}",
            "missing": "refuse",
        },
        {
            "name": "rating",
            "type": "category",
            "categories": RATINGS,
            "unknown": "refuse",
            "missing": "impute",
            "missing_value": -1,
            "impute": RATING_IMPUTED,
        },
    ]


def feed(rows) -> dict[str, np.ndarray]:
    """The graph's feed for rows of raw values in NAMES order, encoded by hand as the manifest says."""
    rows = list(rows)
    numbers = np.array([[np.nan if r[0] is None else r[0], r[1]] for r in rows], np.float32)
    text = np.array([["" if r[2] is None else r[2], r[3]] for r in rows], dtype=object)
    codes = np.array([[-1 if r[4] is None else r[4]] for r in rows], np.int64)
    return {"numbers": numbers, "text": text, "codes": codes}


def graph_outputs(data: bytes, feed_: dict) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], feed_)[0]


def model_bytes(golden_outputs=None, **fields) -> bytes:
    """The sealed typed model; golden outputs computed by onnxruntime on the hand-made feed unless given."""
    proto = _proto(_manifest(GOLDEN, [[0.5, 0.5]] * len(GOLDEN), **fields))
    if golden_outputs is None:
        unsealed = proto.SerializeToString()
        golden_outputs = graph_outputs(unsealed, feed(GOLDEN)).tolist()
    proto = _proto(_manifest(GOLDEN, golden_outputs, **fields))
    return sealed(proto)


def _manifest(golden_inputs, golden_outputs, **fields) -> dict:
    doc = {
        "format": 3,
        "task": "binary",
        "model": {"name": "typed", "version": 1},
        "exporter": {"name": "tests/helpers/typed.py"},
        "features": features(),
        "inputs": [
            {"name": "numbers", "type": "float32", "features": ["hours", "weight"]},
            {"name": "text", "type": "string", "features": ["island", "sex"]},
            {"name": "codes", "type": "int64", "features": ["rating"]},
        ],
        "output": "probabilities",
        "labels": ["no", "yes"],
        "threshold": 0.5,
        "training": {},
        "versions": {},
        "golden": {
            "inputs": golden_inputs,
            "outputs": [[float(np.float32(v)) for v in row] for row in golden_outputs],
            "atol": 1e-6,
            "rtol": 0,
            "engines": ["onnxruntime"],
        },
    }
    doc.update(fields)
    return doc


def _proto(doc: dict):
    def const(name, value, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(value, dtype), name)

    nodes = [
        # numbers: hours imputed where NaN
        helper.make_node("IsNaN", ["numbers"], ["nan"]),
        helper.make_node("Where", ["nan", "imputed", "numbers"], ["filled"]),
        # text: one column at a time through its own LabelEncoder
        helper.make_node("Gather", ["text", "i0"], ["island_text"], axis=1),
        helper.make_node("Gather", ["text", "i1"], ["sex_text"], axis=1),
        helper.make_node(
            "LabelEncoder",
            ["island_text"],
            ["island_code"],
            domain="ai.onnx.ml",
            keys_strings=[*ISLANDS, ""],
            values_int64s=[0, 1, 2, 3, 0],
            default_int64=-1,
        ),
        helper.make_node(
            "LabelEncoder",
            ["sex_text"],
            ["sex_code"],
            domain="ai.onnx.ml",
            keys_strings=SEXES,
            values_int64s=[0, 1],
            default_int64=SEX_BUCKET,
        ),
        # codes: -1 (missing) imputed
        helper.make_node("Equal", ["codes", "minus_one"], ["code_missing"]),
        helper.make_node("Where", ["code_missing", "rating_imputed", "codes"], ["rating_code"]),
        helper.make_node("Concat", ["island_code", "sex_code", "rating_code"], ["all_codes"], axis=1),
        helper.make_node("Cast", ["all_codes"], ["code_floats"], to=TensorProto.FLOAT),
        helper.make_node("Concat", ["filled", "code_floats"], ["x"], axis=1),
        helper.make_node("MatMul", ["x", "w"], ["z0"]),
        helper.make_node("Add", ["z0", "b"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
        helper.make_node("Sub", ["one", "p"], ["q"]),
        helper.make_node("Concat", ["q", "p"], ["probabilities"], axis=1),
    ]
    initializers = [
        const("imputed", [[HOURS_IMPUTED, 0.0]]),
        const("i0", [0], np.int64),
        const("i1", [1], np.int64),
        const("minus_one", -1, np.int64),
        const("rating_imputed", RATING_IMPUTED, np.int64),
        const("w", [[0.5], [-0.25], [0.3], [0.7], [0.2]]),
        const("b", [-1.0]),
        const("one", [1.0]),
    ]
    graph = helper.make_graph(
        nodes,
        "typed",
        [
            helper.make_tensor_value_info("numbers", TensorProto.FLOAT, ["n", 2]),
            helper.make_tensor_value_info("text", TensorProto.STRING, ["n", 2]),
            helper.make_tensor_value_info("codes", TensorProto.INT64, ["n", 1]),
        ],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", 2])],
        initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    proto.ir_version = 8
    helper.set_model_props(proto, {METADATA_KEY: json.dumps(doc)})
    return proto
