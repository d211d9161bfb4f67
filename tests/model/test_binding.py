"""The bound call (model/_fast/binding.py) against its oracle, a plain session.run: the same bits, every batch size."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from helpers import DATA, DEFAULT_MODEL, handmade
from edge_predict.model._fast import binding
from edge_predict.model.session import Runner

RNG = np.random.default_rng(27)
W = RNG.normal(size=(3, 4)).astype(np.float32)


def gemm(task: str, width: int, out_shape: list) -> bytes:
    """x @ W[:, :width] (then Softmax for multiclass), its output declared as `out_shape`."""
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"])]
    if task == "multiclass":
        nodes.append(helper.make_node("Softmax", ["z"], ["y"], axis=1))
    elif width == 1 and len(out_shape) == 1:
        nodes += [
            helper.make_node("Sigmoid", ["z"], ["s"]),
            helper.make_node("Flatten", ["s"], ["f"], axis=0),
            helper.make_node("Squeeze", ["f", "zero"], ["y"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["z"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(W[:, :width], "W"), numpy_helper.from_array(np.array([0], np.int64), "zero")],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    return proto.SerializeToString()


MODELS = {
    "binary, format 3 (the default model: (n, 2))": (DEFAULT_MODEL.read_bytes(), 2),
    "binary, format 2": ((DATA / "default_format2.onnx").read_bytes(), 1),
    "binary, format 1": ((DATA / "default_format1.onnx").read_bytes(), 1),
    "binary, output (n,)": (gemm("binary", 1, ["n"]), 1),
    "multiclass": (gemm("multiclass", 4, ["n", 4]), 4),
    "regression, 2 targets": (gemm("regression", 2, ["n", 2]), 2),
    "identity": (handmade.identity(), 1),
}


def session(data: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module", params=list(MODELS), ids=list(MODELS))
def pair(request):
    """A session, the Runner over another session of the same file, and the manifest's width: the plain call is
    the oracle."""
    data, width = MODELS[request.param]
    return session(data), Runner(session(data), names(data)[0], width), width


def names(data: bytes) -> list[str]:
    return [arg.name for arg in session(data).get_outputs()]


def oracle(plain: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
    return plain.run(None, {plain.get_inputs()[0].name: x})[0]


def features(plain: ort.InferenceSession) -> int:
    return plain.get_inputs()[0].shape[1]


def test_every_batch_size_from_1_to_300_gives_the_plain_calls_bits(pair):
    plain, runner, _ = pair
    for n in range(1, 301):
        x = RNG.uniform(0, 1, (n, features(plain))).astype(np.float32)
        expected, got = oracle(plain, x), runner.run(x)
        assert (got.dtype, got.shape) == (expected.dtype, expected.shape), n
        assert got.tobytes() == expected.tobytes(), n


@pytest.mark.parametrize("n", [1, 7, binding.MAX_ROWS, binding.MAX_ROWS + 1])
def test_the_bound_call_answers_up_to_max_rows_and_none_above(pair, n):
    plain, _, width = pair
    bound = binding.Bindings(plain, ort.RunOptions(), plain.get_outputs()[0].name, width)
    x = RNG.uniform(0, 1, (n, features(plain))).astype(np.float32)
    got = bound.run(x)
    if n > binding.MAX_ROWS:
        assert got is None
    else:
        assert got.tobytes() == oracle(plain, x).tobytes()


def test_a_result_owns_its_memory_and_the_next_call_leaves_it_alone(pair):
    plain, runner, _ = pair
    x, y = (RNG.uniform(0, 1, (5, features(plain))).astype(np.float32) for _ in range(2))
    first = runner.run(x)
    kept = first.copy()
    runner.run(y)
    assert first.flags.owndata and first.tobytes() == kept.tobytes()


def test_the_pool_keeps_at_most_max_sizes_batch_sizes_of_per_size_bindings(pair):
    plain, _, width = pair
    bound = binding.Bindings(plain, ort.RunOptions(), plain.get_outputs()[0].name, width)
    for n in range(1, 3 * binding.MAX_SIZES):
        bound.run(RNG.uniform(0, 1, (n, features(plain))).astype(np.float32))
    assert len(bound._idle) <= binding.MAX_SIZES
    assert all(len(idle) <= binding.PER_SIZE for idle in bound._idle.values())


def test_threads_sharing_one_runner_get_their_own_answers(pair):
    plain, runner, _ = pair
    # more sizes x threads than MAX_IDLE: bindings are made, kept and evicted while others run
    work = [[RNG.uniform(0, 1, (int(n), features(plain))).astype(np.float32) for n in RNG.integers(1, 20, 300)]]
    work *= 8

    def score(xs):
        return [runner.run(x).tobytes() for x in xs]

    with ThreadPoolExecutor(8) as threads:
        answers = list(threads.map(score, work))
    expected = [oracle(plain, x).tobytes() for x in work[0]]
    assert all(got == expected for got in answers)


def test_a_graph_whose_output_is_not_the_manifests_width_falls_back_to_the_plain_call():
    """Bound as (n, 3) but the graph gives (n, 4): the bound call declines; session.run's answer (and, in the
    Predictor, its error) is what the caller sees."""
    plain = session(MODELS["multiclass"][0])
    bound = binding.Bindings(plain, ort.RunOptions(), "y", 3)
    assert bound.run(RNG.uniform(0, 1, (4, 3)).astype(np.float32)) is None
    runner = Runner(plain, "y", 3)
    x = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    assert runner.run(x).tobytes() == oracle(plain, x).tobytes()
