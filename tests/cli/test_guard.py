"""The edge-predict process bounds itself (cli/guard.py): Ctrl-C ends any step within a second with exit 130, a load
or verify past --load-timeout ends with exit 1, and the address space is limited ($EDGE_PREDICT_MAX_MEMORY)."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from onnx import helper, numpy_helper

from helpers import CLEAN_ENV
from helpers.handmade import manifest, model
from helpers.hostile import loop_forever, loop_from_input, measure

CLI = os.path.join(os.path.dirname(sys.executable), "edge-predict")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform != "linux", reason="sigwait and RLIMIT_AS: Linux")]


def test_a_load_past_its_time_bound_ends_with_one_line(tmp_path):
    path = tmp_path / "loop.onnx"
    path.write_bytes(loop_forever())
    seconds, _, code, stderr = measure(
        [CLI, "verify", "--model", path, "--allow-op", "Loop", "--load-timeout", "1"], timeout=30, env=CLEAN_ENV
    )
    assert code == 1 and seconds < 5
    assert stderr == (
        f"edge-predict: error: {path}: loading and verifying the model took longer than 1 s; if it is meant to take "
        "that long, raise --load-timeout (a graph that never finishes is refused this way)\n"
    )


@pytest.mark.parametrize(
    "build, args",
    [(loop_forever, ["verify"]), (loop_from_input, ["predict", "1e12"])],
    ids=["verify", "predict"],
)
def test_ctrl_c_ends_a_run_onnxruntime_never_returns_from_within_a_second(tmp_path, build, args):
    path = tmp_path / "loop.onnx"
    path.write_bytes(build())
    proc = subprocess.Popen(
        [CLI, *args, "--model", str(path), "--allow-op", "Loop", "--load-timeout", "60"],
        env=CLEAN_ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)  # inside onnxruntime's run by now
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    start = time.perf_counter()
    assert proc.wait(timeout=5) == 130
    assert time.perf_counter() - start < 1


def test_the_address_space_limit_stops_what_the_static_checks_were_told_to_let_through(tmp_path):
    # Tile by 1 x 1e9 is 4 GB per row; with its limit raised the graph loads, and the address space stops it
    nodes = [
        helper.make_node("Tile", ["x", "repeats"], ["big"]),
        helper.make_node("ReduceMax", ["big"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Identity", ["m"], ["y"]),
    ]
    path = tmp_path / "tile.onnx"
    path.write_bytes(model(manifest(), nodes, [numpy_helper.from_array(np.int64([1, 10**9]), "repeats")]))
    env = {**CLEAN_ENV, "EDGE_PREDICT_MAX_MEMORY": "1G"}
    seconds, peak, code, stderr = measure(
        [CLI, "verify", "--model", path, "--graph-limit", "tensor-elements=2000000000"], timeout=60, env=env
    )
    assert code == 1, stderr
    assert peak < 2**30 and seconds < 5
    assert stderr.startswith(f"edge-predict: error: {path}: onnxruntime failed to score with this model")


def test_normal_use_runs_under_the_default_limit(model_path):
    seconds, peak, code, stderr = measure([CLI, "predict", "--model", model_path, "1", "7"], timeout=60, env=CLEAN_ENV)
    assert code == 0, stderr
