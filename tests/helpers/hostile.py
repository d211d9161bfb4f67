"""Hostile model files, crafted with onnx.helper and sealed as an attacker with the documented seal() could.

Each builder returns the file's bytes; CASES maps a case's name to (builder, the start of the error line the
runtime must answer with). tests/model/test_hostile.py loads each in-process and in a bounded subprocess;
bench/hostile.py measures their time and peak memory.
"""

from __future__ import annotations

import json

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from helpers.handmade import manifest, model
from edge_predict.model.manifest import METADATA_KEY

FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64


def _ints(name: str, values) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def loop_forever() -> bytes:
    """A Loop with trip count 2**62 whose body passes its state through: scoring never returns."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["state"], ["state_out"]), helper.make_node("Identity", ["cond"], ["cond_out"])],
        "body",
        [
            helper.make_tensor_value_info("i", INT64, []),
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state", FLOAT, ["n", 1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_out", FLOAT, ["n", 1]),
        ],
    )
    nodes = [helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)]
    return model(manifest(), nodes, [_ints("trips", 2**62)])


def loop_from_input() -> bytes:
    """A Loop whose trip count is the input's value: verify passes, `predict 1e12` never returns."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["state"], ["state_out"]), helper.make_node("Identity", ["cond"], ["cond_out"])],
        "body",
        [
            helper.make_tensor_value_info("i", INT64, []),
            helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state", FLOAT, ["n", 1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("state_out", FLOAT, ["n", 1]),
        ],
    )
    nodes = [
        helper.make_node("ReduceMax", ["x"], ["top"], keepdims=0),
        helper.make_node("Cast", ["top"], ["trips"], to=INT64),
        helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body),
    ]
    return model(manifest(features=(("p", None, None),)), nodes)


def constant_of_shape() -> bytes:
    """ConstantOfShape of 28000 x 28000 floats: 3.2 GB at load (onnxruntime folds it), in a 592-byte file."""
    nodes = [
        helper.make_node("ConstantOfShape", ["shape"], ["big"]),
        helper.make_node("ReduceMax", ["big"], ["m"], keepdims=1),
        helper.make_node("Add", ["x", "m"], ["y"]),
    ]
    return model(manifest(), nodes, [_ints("shape", [28000, 28000])])


def shape_from_input() -> bytes:
    """A tensor sized by the input's value (ConstantOfShape of [1, x * 1e6]): memory grows with what a sample says."""
    nodes = [
        helper.make_node("Constant", [], ["scale"], value=numpy_helper.from_array(np.float32([1e6]), "s")),
        helper.make_node("Mul", ["x", "scale"], ["scaled"]),
        helper.make_node("ReduceMax", ["scaled"], ["top"], keepdims=0),
        helper.make_node("Cast", ["top"], ["count"], to=INT64),
        helper.make_node("Constant", [], ["one"], value=_ints("o", [1])),
        helper.make_node("Unsqueeze", ["count", "zero"], ["counts"]),
        helper.make_node("Concat", ["one", "counts"], ["shape"], axis=0),
        helper.make_node("ConstantOfShape", ["shape"], ["big"]),
        helper.make_node("ReduceMax", ["big"], ["m"], keepdims=1),
        helper.make_node("Add", ["x", "m"], ["y"]),
    ]
    return model(manifest(), nodes, [_ints("zero", [0])])


def many_nodes(count: int = 20_001) -> bytes:
    """`count` chained Identity nodes (1,000,000 of them, a 31 MB file, took 22 s and 2.7 GB to load)."""
    names = ["x", *(f"v{i}" for i in range(1, count)), "y"]
    nodes = [helper.make_node("Identity", [a], [b]) for a, b in zip(names, names[1:])]
    return model(manifest(), nodes)


def tiny_fields(size: int = 5 * 2**20) -> bytes:
    """A file of `size` bytes that is nothing but two-byte protobuf fields (ir_version = 0, again and again)."""
    return b"\x08\x00" * (size // 2)


def contrib_operator() -> bytes:
    """onnxruntime's com.microsoft contrib operator FastGelu, which no exporter of edge-predict emits."""
    nodes = [helper.make_node("FastGelu", ["x"], ["y"], domain="com.microsoft")]
    return _with_opsets(manifest(), nodes, {"com.microsoft": 1})


def string_operator() -> bytes:
    """A string operator (StringNormalizer) on the way to the output."""
    nodes = [
        helper.make_node("Cast", ["x"], ["s"], to=TensorProto.STRING),
        helper.make_node("StringNormalizer", ["s"], ["t"], case_change_action="UPPER"),
        helper.make_node("Cast", ["t"], ["y"], to=FLOAT),
    ]
    return model(manifest(), nodes, opset=17)


def regex_operator() -> bytes:
    """RegexFullMatch (opset 20): a regular expression run on what the graph makes of the input."""
    nodes = [
        helper.make_node("Cast", ["x"], ["s"], to=TensorProto.STRING),
        helper.make_node("RegexFullMatch", ["s"], ["b"], pattern="(a+)+$"),
        helper.make_node("Cast", ["b"], ["y"], to=FLOAT),
    ]
    return model(manifest(), nodes, opset=20)


def local_function() -> bytes:
    """A model-local function in a custom domain, called by the graph: its body runs under a name of its own."""
    body = [helper.make_node("Identity", ["a"], ["b"])]
    function = helper.make_function("evil.ops", "Pass", ["a"], ["b"], body, [helper.make_opsetid("", 17)])
    nodes = [helper.make_node("Pass", ["x"], ["y"], domain="evil.ops")]
    return _with_opsets(manifest(), nodes, {"evil.ops": 1}, functions=[function])


def batch_switch() -> bytes:
    """x when the batch has 5 rows, else 1 - x: golden vectors pass (scored as 5 rows), `predict 0.1` says 0.9."""
    inputs = ((0.1,), (0.2,), (0.3,), (0.4,), (0.5,))
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
        helper.make_node("Equal", ["rows", "five"], ["is5"]),
        helper.make_node("Sub", ["one", "x"], ["flipped"]),
        helper.make_node("Where", ["is5", "x", "flipped"], ["y"]),
    ]
    inits = [_ints("zero", 0), _ints("five", 5), numpy_helper.from_array(np.float32(1), "one")]
    return model(manifest(golden_inputs=inputs), nodes, inits)


def batch_switch_shadowed() -> bytes:
    """batch_switch on a batch of 1,000 rows, its input also named by an initializer (onnxruntime lists it as
    overridable: a feed may replace it), so the check takes the input as data even where a constant has its name."""
    inputs = ((0.1,), (0.2,), (0.3,), (0.4,), (0.5,))
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
        helper.make_node("Equal", ["rows", "many"], ["switch"]),
        helper.make_node("Sub", ["one", "x"], ["flipped"]),
        helper.make_node("Where", ["switch", "flipped", "x"], ["y"]),
    ]
    inits = [
        _ints("zero", 0),
        _ints("many", 1000),
        numpy_helper.from_array(np.float32(1), "one"),
        numpy_helper.from_array(np.float32([[0.5]]), "x"),
    ]
    return model(manifest(golden_inputs=inputs), nodes, inits)


def batch_mean() -> bytes:
    """x - mean(batch) + 0.5: no shape in sight, but each answer depends on the other rows of its batch."""
    inputs = ((0.1,), (0.2,), (0.3,), (0.4,), (0.5,))
    outputs = [[v - 0.3 + 0.5] for (v,) in inputs]
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[0], keepdims=1),
        helper.make_node("Sub", ["x", "mean"], ["centered"]),
        helper.make_node("Add", ["centered", "half"], ["y"]),
    ]
    doc = manifest(golden_inputs=inputs, golden_outputs=outputs, atol=1e-6)
    return model(doc, nodes, [numpy_helper.from_array(np.float32(0.5), "half")], opset=17)


def sparse_initializer() -> bytes:
    """A sparse initializer declaring 100000 x 100000 values (onnxruntime makes it dense: 40 GB)."""
    values = numpy_helper.from_array(np.float32([1.0]), "big")
    indices = numpy_helper.from_array(np.int64([0]), "")
    sparse = helper.make_sparse_tensor(values, indices, [100000, 100000])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "sparse",
        [helper.make_tensor_value_info("x", FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", FLOAT, ["n", 1])],
        sparse_initializer=[sparse],
    )
    return _sealed(graph, manifest(), {})


def tile_huge() -> bytes:
    """Tile of the input by 1 x 100,000,000 (constant repeats): 400 MB per row."""
    nodes = [
        helper.make_node("Tile", ["x", "repeats"], ["big"]),
        helper.make_node("ReduceMax", ["big"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Identity", ["m"], ["y"]),
    ]
    return model(manifest(), nodes, [_ints("repeats", [1, 100_000_000])], opset=17)


def expand_from_batch() -> bytes:
    """Expand to (batch, 100,000,000): a size computed from the batch times a huge constant."""
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
        helper.make_node("Concat", ["rows", "wide"], ["target"], axis=0),
        helper.make_node("Expand", ["x", "target"], ["big"]),
        helper.make_node("ReduceMax", ["big"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Identity", ["m"], ["y"]),
    ]
    return model(manifest(), nodes, [_ints("zero", [0]), _ints("wide", [100_000_000])], opset=17)


def _with_opsets(doc: dict, nodes, opsets: dict[str, int], functions=()) -> bytes:
    graph = helper.make_graph(
        nodes,
        "hostile",
        [helper.make_tensor_value_info("x", FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", FLOAT, ["n", 1])],
    )
    return _sealed(graph, doc, opsets, functions)


def _sealed(graph, doc: dict, opsets: dict[str, int], functions=()) -> bytes:
    imports = [helper.make_opsetid("", 17), *(helper.make_opsetid(d, v) for d, v in opsets.items())]
    proto = helper.make_model(graph, opset_imports=imports, functions=list(functions))
    proto.ir_version = 8
    helper.set_model_props(proto, {METADATA_KEY: json.dumps(doc)})
    return sealed(proto)


# name -> (builder, start of the error after "PATH: ")
CASES = {
    "loop_forever": (loop_forever, "the model uses operators outside the set edge-predict runs (Loop)"),
    "loop_from_input": (loop_from_input, "the model uses operators outside the set edge-predict runs (Loop)"),
    "constant_of_shape": (constant_of_shape, "the model's graph has node 'ConstantOfShape' (output 'big') making"),
    "shape_from_input": (shape_from_input, "node 'ConstantOfShape' (output 'big') takes a size or position from"),
    "many_nodes": (many_nodes, "the model's graph has more than 20,000 nodes, over the limit of 20,000 nodes"),
    "tiny_fields": (tiny_fields, "the model's graph has more than 2,000,000 protobuf fields"),
    "contrib_operator": (contrib_operator, "the model uses operators outside the set edge-predict runs (com.mic"),
    "string_operator": (string_operator, "the model uses operators outside the set edge-predict runs (StringNo"),
    "regex_operator": (regex_operator, "the model uses operators outside the set edge-predict runs (RegexFull"),
    "local_function": (local_function, "the model defines local functions (evil.ops:Pass)"),
    "batch_switch": (batch_switch, "node 'Where' (output 'y') computes on the data with a value derived from"),
    "batch_switch_shadowed": (batch_switch_shadowed, "node 'Where' (output 'y') computes on the data with a value"),
    "batch_mean": (batch_mean, "the model's answer depends on the batch: golden vector 0 scores"),
    "sparse_initializer": (sparse_initializer, "the model's graph has tensor '(a sparse tensor)' declaring"),
    "tile_huge": (tile_huge, "the model's graph has node 'Tile' (output 'big') making a tensor of 100,000,000"),
    "expand_from_batch": (expand_from_batch, "the model's graph has node 'Expand' (output 'big') making a tensor"),
}


# Runs argv[1:] as its child and prints "exit-code peak-RSS-KiB seconds". A child's peak RSS (ru_maxrss) starts
# at its parent's when forked from it, and Linux keeps it across exec: measured from a large test process it would
# report that process's memory. Forked from this small wrapper, it reports the command's own.
_WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, time.perf_counter() - start)
"""


def measure(args, timeout: float, env=None, address_space: int | None = None):
    """Run `args` (its stdout dropped): (seconds, peak RSS in bytes, exit code or None if killed at `timeout`,
    stderr). With `address_space`, under that RLIMIT_AS (as `ulimit -v`)."""
    import os
    import signal
    import subprocess
    import sys

    command = [sys.executable, "-c", _WRAPPER, *map(str, args)]
    if address_space:
        command = ["sh", "-c", f'ulimit -v {address_space // 1024} && exec "$@"', "sh", *command]
    with subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return timeout, 0, None, err
    code, kib, seconds = out.split()
    return float(seconds), int(kib) * 1024, int(code), err
