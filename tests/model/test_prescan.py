"""The count a large model file gets as it is read (model/file.py's prescan) agrees with the scan of its bytes: the
same fields, the same nodes, the same files refused; and a file of tiny fields at the size cap is refused in
bounded time and memory, before its bytes are held."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import DATA, DEFAULT_MODEL, examples
from helpers.hostile import CASES, measure, tiny_fields

from edge_predict import ModelError
from edge_predict.model import file
from edge_predict.model.limits import GraphLimits

SMALL_CASES = sorted(set(CASES) - {"tiny_fields"})
UNLIMITED = GraphLimits(nodes=10**9, fields=10**9)


@pytest.fixture
def always_prescan(monkeypatch):
    """Every file is counted as it is read, however small (the rule is for files over 16 MiB)."""
    monkeypatch.setattr(file, "PRESCAN_BYTES", 0)
    monkeypatch.setattr(file, "_STEP", 7)  # reads of 7 bytes: every field and varint is split across reads somewhere


def _files():
    yield "default", DEFAULT_MODEL.read_bytes()
    yield "format1", (DATA / "default_format1.onnx").read_bytes()
    for case in SMALL_CASES:
        yield case, CASES[case][0]()


@pytest.mark.parametrize("name, data", list(_files()), ids=lambda v: v if isinstance(v, str) else "")
def test_the_prescan_counts_the_fields_and_nodes_the_scan_counts(name, data, tmp_path, always_prescan):
    facts = file.scan(data, name, UNLIMITED)
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    assert file.read_model_file(path, file.DEFAULT_MAX_BYTES, GraphLimits(fields=facts.fields, nodes=10**9)) == data
    with pytest.raises(ModelError, match=f"more than {facts.fields - 1:,} protobuf fields"):
        file.read_model_file(path, file.DEFAULT_MAX_BYTES, GraphLimits(fields=facts.fields - 1, nodes=10**9))
    if facts.nodes > 1:
        file.read_model_file(path, file.DEFAULT_MAX_BYTES, GraphLimits(nodes=facts.nodes, fields=10**9))
        with pytest.raises(ModelError, match=f"more than {facts.nodes - 1:,} nodes"):
            file.read_model_file(path, file.DEFAULT_MAX_BYTES, GraphLimits(nodes=facts.nodes - 1, fields=10**9))


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.none() | st.integers(1, 10**6),
    fields=st.integers(1, 200),
)
def test_the_prescan_refuses_a_damaged_file_exactly_when_the_scan_does(edits, cut, fields, tmp_path, always_prescan):
    data = bytearray(DEFAULT_MODEL.read_bytes())
    for at, value in edits:
        data[at % len(data)] = value
    data = bytes(data[: cut % len(data) + 1] if cut else data)
    limits = GraphLimits(fields=fields * 100)
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    try:
        file.scan(data, "m.onnx", limits)
        scanned = None
    except ModelError as exc:
        scanned = None if "external file" in str(exc) else exc  # the prescan counts; it does not read locations
    try:
        read = file.read_model_file(path, file.DEFAULT_MAX_BYTES, limits)
    except ModelError as exc:
        assert scanned is not None, f"the prescan refused a file the scan accepts: {exc}"
        assert ("protobuf fields" in str(exc)) == ("protobuf fields" in str(scanned))
        return
    assert read == data
    assert scanned is None, f"the prescan let through a file the scan refuses: {scanned}"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="wait4's peak RSS is measured on Linux")
def test_a_file_of_tiny_fields_at_the_size_cap_is_refused_before_it_is_held(tmp_path):
    # 250 MiB of two-byte fields (under the 256 MiB cap) took 297 MiB of peak RSS: the whole file was read first
    path = tmp_path / "fields.onnx"
    with open(path, "wb") as out:
        for _ in range(250):
            out.write(tiny_fields(2**20))
    cli = os.path.join(os.path.dirname(sys.executable), "edge-predict")
    seconds, peak, code, stderr = measure([cli, "verify", "--model", path], timeout=60)
    assert code == 1 and "more than 2,000,000 protobuf fields" in stderr, stderr
    assert seconds < 2.0 and peak < 100 * 2**20, f"{seconds:.2f} s, {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("load", ["from_path", "inspect_model"])
def test_the_prescan_counts_against_the_limits_the_caller_gives(load, tmp_path, always_prescan):
    from edge_predict import Predictor, inspect_model

    path = tmp_path / "fields.onnx"
    path.write_bytes(tiny_fields(2**16))  # 32,768 fields
    call = Predictor.from_path if load == "from_path" else inspect_model
    with pytest.raises(ModelError, match="more than 1,000 protobuf fields"):
        call(path, limits={"fields": 1000})
    with pytest.raises(ModelError) as caught:
        call(path, limits={"fields": 40_000})  # through the count: refused later, for what the bytes are
    assert "protobuf fields" not in str(caught.value)
