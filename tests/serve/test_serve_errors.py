"""Requests written by hand: each malformed one is refused with the protocol's error object, status and message."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import DEFAULT_MODEL, examples
from edge_predict.serve import ModelSlot
from helpers import oip
from helpers.oip import tensor

IRIS = "one input per feature (a, b, c; shape [n]) or one FP32 input of shape [n, 3] in that order"


@pytest.fixture(scope="module")
def ports(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "iris.onnx"
    path.write_bytes(oip.multiclass_model())
    with oip.running(ModelSlot.from_path(DEFAULT_MODEL)) as one, oip.running(ModelSlot.from_path(path)) as two:
        yield {"default": one.port, "iris": two.port}


@pytest.mark.parametrize(
    "model, inputs, message",
    [
        ("default", [tensor("hours", [1, -2])], "sample 1, hours: -2 is outside the model's domain (expected >= 0)"),
        ("default", [tensor("hours", [None])], "sample 0, hours: nan is NaN; expected a finite number"),
        ("default", [tensor("hours", [1e39])], "sample 0, hours: 1e+39 overflows float32 (largest 3.403e+38)"),
        (
            "iris",
            [tensor("x", [[0, 0, 0], [0, 0, 11]], [2, 3])],
            "sample 1, c: 11 is outside the model's domain (expected in [-10, 10])",
        ),
        ("default", [tensor("hours", [])], "X has no samples; pass at least one"),
    ],
)
def test_a_bad_row_fails_the_whole_request_naming_sample_and_feature(ports, model, inputs, message):
    assert oip.infer(ports[model], {"inputs": inputs}, model=model)[::2] == (400, {"error": message})


@pytest.mark.parametrize(
    "model, doc, message",
    [
        ("default", [1], "the request body is not a JSON object with 'inputs'"),
        ("default", {}, "the request has no 'inputs': expected a list of tensors, one per feature"),
        ("default", {"inputs": [7]}, "inputs[0] is not a tensor: expected an object with 'name', 'datatype', 'shape'"),
        (
            "default",
            {"inputs": [tensor("hours", [1], datatype="INT32")]},
            "input 'hours' has datatype 'INT32'; expected FP32 (or FP64) numbers",
        ),
        (
            "default",
            {"inputs": [tensor("hours", ["1"], datatype="BYTES")]},
            "input 'hours' has datatype BYTES, but the model expects FP32",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1], shape=[1, 1, 1])]},
            "input 'hours' has shape [1, 1, 1]; expected [n] or [n, k] (non-negative integers)",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1], shape=[-1])]},
            "input 'hours' has shape [-1]; expected [n] or [n, k] (non-negative integers)",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1, 2], shape=[3])]},
            "input 'hours' has 2 values in 'data', but its shape [3] holds 3",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1, True])]},
            "input 'hours', element 1: true is not a number (FP32 data)",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1, "7"])]},
            "input 'hours', element 1: \"7\" is not a number (FP32 data)",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [10**400])]},
            "input 'hours', element 0: the integer is too large for FP32",
        ),
        (
            "default",
            {"inputs": [{"name": "hours", "datatype": "FP32", "shape": [1]}]},
            "input 'hours' has no 'data' (nor binary_data_size for binary data)",
        ),
        ("default", {"inputs": [tensor("hours", [1]), tensor("hours", [2])]}, "input 'hours' is given twice"),
        (
            "default",
            {"inputs": [tensor("hours", [1, 2], shape=[1, 2])]},
            "input 'hours' has shape [1, 2]; one feature's input is [n] or [n, 1]",
        ),
        (
            "default",
            {"inputs": [tensor("x", [1, 2])]},
            "input 'x' has shape [2], but the model takes one input per feature (hours; shape [n]) or one FP32 input of shape [n, 1] in that order",
        ),
        (
            "iris",
            {"inputs": [tensor("a", [1]), tensor("b", [1])]},
            f"the request has no input 'c', but the model takes {IRIS}",
        ),
        (
            "iris",
            {"inputs": [tensor("a", [1]), tensor("b", [1]), tensor("c", [1]), tensor("d", [1])]},
            f"the request has an unknown input 'd', but the model takes {IRIS}",
        ),
        (
            "iris",
            {"inputs": [tensor("a", [1]), tensor("b", [1, 2]), tensor("c", [1])]},
            "the inputs have different numbers of rows (a 1, b 2, c 1); every feature needs one per row",
        ),
        (
            "iris",
            {"inputs": [tensor("x", [1, 2], shape=[1, 2])]},
            f"input 'x' has shape [1, 2], but the model takes {IRIS}",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1])], "outputs": [{"name": "p"}]},
            "outputs[0]: 'p' is not an output of this model; its outputs: probability, label",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1])], "outputs": "label"},
            "'outputs' is not a list of {'name': ...} objects",
        ),
        (
            "default",
            {"inputs": [tensor("hours", [1])], "outputs": [{"name": "label", "parameters": {"classification": 2}}]},
            "output 'label': the classification extension is not supported",
        ),
    ],
)
def test_a_malformed_request_is_refused_with_400(ports, model, doc, message):
    body = json.dumps(doc).encode()
    assert oip.infer(ports[model], body, model=model)[::2] == (400, {"error": message})


@pytest.mark.parametrize(
    "method, path, status, message",
    [
        ("POST", "/v2/models/nope/infer", 404, "no model 'nope': this server serves 'default' version '3'"),
        (
            "GET",
            "/v2/models/default/versions/1",
            404,
            "no model 'default' version '1': this server serves 'default' version '3'",
        ),
        ("GET", "/v2/other", 404, "no endpoint /v2/other: see /v2/health/live, /v2/models/{name} and its /infer"),
        ("GET", "/v2/models/default/infer", 405, "GET is not allowed here; use POST"),
        ("POST", "/v2/health/live", 405, "POST is not allowed here; use GET"),
        ("DELETE", "/v2/models/default", 501, "Unsupported method ('DELETE')"),
    ],
)
def test_a_wrong_address_or_method_is_refused(ports, method, path, status, message):
    assert oip.request(ports["default"], method, path, b"{}")[::2] == (status, {"error": message})


def test_a_body_that_is_not_json_is_refused(ports):
    status, _, body = oip.infer(ports["default"], b'{"inputs": [')
    assert status == 400 and body["error"].startswith("the request body is not JSON: Expecting value")


def _binary(doc: dict, data: bytes, header_length: int | None = None):
    header = json.dumps(doc).encode()
    length = len(header) if header_length is None else header_length
    return header + data, {"Inference-Header-Content-Length": str(length)}


@pytest.mark.parametrize(
    "data, size, header_length, message",
    [
        (struct.pack("<2f", 1, 7), 12, None, "input 'hours': binary_data_size 12 goes past the 8 bytes of binary data"),
        (struct.pack("<3f", 1, 7, 2), 12, None, "input 'hours' has 12 bytes of binary data, but 2 FP32 values take 8"),
        (
            struct.pack("<3f", 1, 7, 2),
            8,
            None,
            "the body has 12 bytes of binary data after the JSON header, but the inputs' binary_data_size add up to 8",
        ),
        (b"", 8, 10**6, "Inference-Header-Content-Length '1000000' is not a length within the body's 104 bytes"),
    ],
)
def test_binary_data_that_does_not_add_up_is_refused(ports, data, size, header_length, message):
    doc = {"inputs": [{"name": "hours", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": size}}]}
    body, headers = _binary(doc, data, header_length)
    assert oip.infer(ports["default"], body, headers=headers)[::2] == (400, {"error": message})


def test_binary_fp64_and_bytes_are_decoded(ports):
    """FP64 is read as FP32 is; BYTES binary data is length-prefixed UTF-8 (refused here: no text features yet)."""
    doc = {"inputs": [{"name": "hours", "datatype": "FP64", "shape": [2], "parameters": {"binary_data_size": 16}}]}
    body, headers = _binary(doc, struct.pack("<2d", 1, 7))
    status, _, body = oip.infer(ports["default"], body, headers=headers)
    assert status == 200 and body["outputs"][1]["data"] == ["fail", "pass"]
    words = b"".join(struct.pack("<I", len(w)) + w for w in (b"1", "é".encode()))
    doc = {
        "inputs": [{"name": "hours", "datatype": "BYTES", "shape": [2], "parameters": {"binary_data_size": len(words)}}]
    }
    body, headers = _binary(doc, words)
    status, _, body = oip.infer(ports["default"], body, headers=headers)
    assert (status, body) == (400, {"error": "input 'hours' has datatype BYTES, but the model expects FP32"})


def test_json_outputs_print_as_the_cli_does_and_echo_the_request_id(ports):
    doc = {"id": "r-1", "inputs": [tensor("hours", [[1], [7]], [2, 1])], "outputs": [{"name": "probability"}]}
    status, _, body = oip.infer(ports["default"], doc)
    assert status == 200
    assert body == {
        "model_name": "default",
        "model_version": "3",
        "id": "r-1",
        "outputs": [{"name": "probability", "datatype": "FP32", "shape": [2], "data": [0.42295337, 0.9558091]}],
    }


@pytest.mark.parametrize(
    "headers, status, message",
    [
        ({"Content-Encoding": "gzip"}, 415, "Content-Encoding 'gzip' is not accepted: send the body uncompressed"),
        ({"Content-Length": "x"}, 400, "Content-Length 'x' is not a number of bytes"),
    ],
)
def test_body_encodings_the_server_does_not_read_are_refused(ports, headers, status, message):
    body = json.dumps({"inputs": [tensor("hours", [1])]}).encode()
    assert oip.infer(ports["default"], body, headers=headers)[::2] == (status, {"error": message})


@pytest.mark.parametrize(
    "head, status, message",
    [
        (
            b"POST /v2/models/default/infer HTTP/1.1\r\nHost: x\r\n\r\n",
            411,
            "the request has no Content-Length: send the body with one",
        ),
        (
            b"POST /v2/models/default/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
            "chunked bodies are not accepted: send the body with a Content-Length",
        ),
        (b"GARBAGE\r\n\r\n", 400, "Bad request syntax ('GARBAGE')"),
        (b"GET /v2/health/live HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431, "Too many headers"),
    ],
)
def test_malformed_http_is_answered_in_json_and_the_connection_closed(ports, head, status, message):
    answer = oip.raw(ports["default"], head)
    first, _, body = answer.partition(b"\r\n\r\n")
    assert first.split(b"\r\n")[0].split(b" ", 2)[1] == str(status).encode()
    assert b"Connection: close" in first
    assert json.loads(body) == {"error": message}


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    ["inputs", "name", "datatype", "shape", "data", "outputs", "parameters", "binary_data_size", "id"]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_never_a_traceback_whatever_the_body(ports, doc):
    status, headers, body = oip.infer(ports["iris"], json.dumps(doc).encode(), model="iris")
    assert status in (200, 400), body
    assert headers["Content-Type"] == "application/json"
    if status == 400:
        assert set(body) == {"error"}
    else:
        assert set(body) - {"id"} == {"model_name", "model_version", "outputs"}
