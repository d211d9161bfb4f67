"""Hostile model files (tests/helpers/hostile.py): each is refused before onnxruntime runs it, in-process and as
`edge-predict verify` in a subprocess, within 5 s and 200 MiB of peak memory."""

from __future__ import annotations

import os
import sys
import time

import pytest

from helpers import CLEAN_ENV
from helpers.hostile import CASES, measure, tiny_fields

from edge_predict import ModelError, Predictor, VerificationError

SECONDS, PEAK_BYTES = 5.0, 200 * 2**20


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_model_is_refused_naming_why(case):
    build, expected = CASES[case]
    with pytest.raises((ModelError, VerificationError)) as caught:
        Predictor.from_bytes(build(), source="hostile.onnx")
    assert str(caught.value).startswith(f"hostile.onnx: {expected}")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="wait4's peak RSS is measured on Linux")
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_model_is_refused_within_seconds_and_bounded_memory(case, tmp_path):
    build, expected = CASES[case]
    path = tmp_path / f"{case}.onnx"
    path.write_bytes(build())
    seconds, peak, code, stderr = measure_verify(path)
    assert code == 1, stderr
    assert stderr.startswith(f"edge-predict: error: {path}: {expected}"), stderr
    assert seconds < SECONDS and peak < PEAK_BYTES, f"{case}: {seconds:.2f} s, {peak / 2**20:.0f} MiB"


def measure_verify(path, *extra: str) -> tuple[float, int, int, str]:
    """`edge-predict verify --model PATH` in a subprocess: (seconds, peak RSS in bytes, exit code, stderr)."""
    cli = os.path.join(os.path.dirname(sys.executable), "edge-predict")
    return measure([cli, "verify", "--model", path, *extra], timeout=60, env=CLEAN_ENV)


@pytest.mark.slow
def test_the_scan_of_a_file_at_the_size_cap_takes_at_most_two_seconds():
    # 250 MiB of two-byte fields (under the 256 MiB cap) took 78 s to scan; the field limit stops it early
    data = tiny_fields(250 * 2**20)
    start = time.perf_counter()
    with pytest.raises(ModelError, match="protobuf fields"):
        Predictor.from_bytes(data, source="fields.onnx")
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "case, allow",
    [("contrib_operator", ["com.microsoft:FastGelu"]), ("local_function", ["evil.ops:Pass"])],
)
def test_allow_ops_lets_a_trusted_operator_through(case, allow):
    build, _ = CASES[case]
    predictor = Predictor.from_bytes(build(), allow_ops=allow, verify=False)
    assert predictor.task == "binary"


def test_a_raised_limit_loads_the_graph_it_refused():
    build, _ = CASES["many_nodes"]
    predictor = Predictor.from_bytes(build(), limits={"nodes": 30_000})
    assert predictor.predict_proba([[0.25]])[0, 1] == 0.25


def test_an_unknown_limit_name_is_a_value_error():
    with pytest.raises(ValueError, match="no graph limit 'node'; the limits are nodes, fields, constant-bytes"):
        Predictor.from_bytes(CASES["many_nodes"][0](), limits={"node": 1})
