"""A real Open Inference Protocol client (tritonclient's HTTP client) scores over HTTP what Predictor computes."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.oip import served_version
import tritonclient.http as triton

from helpers import DEFAULT_MODEL
from edge_predict import Predictor
from edge_predict.serve import ModelSlot
from helpers import oip


@pytest.fixture(scope="module")
def multiclass_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "iris.onnx"
    path.write_bytes(oip.multiclass_model())
    return path


@pytest.fixture(scope="module")
def servers(multiclass_path):
    """{'default': (client, Predictor), 'iris': (client, Predictor)}, each served on its own port."""
    with (
        oip.running(ModelSlot.from_path(DEFAULT_MODEL)) as one,
        oip.running(ModelSlot.from_path(multiclass_path)) as two,
    ):
        yield {
            "default": (triton.InferenceServerClient(f"127.0.0.1:{one.port}"), Predictor.from_path(DEFAULT_MODEL)),
            "iris": (triton.InferenceServerClient(f"127.0.0.1:{two.port}"), Predictor.from_path(multiclass_path)),
        }


def _inputs(predictor, x: np.ndarray, layout: str) -> list:
    if layout == "matrix":
        tensor = triton.InferInput("input", list(x.shape), "FP32")
        tensor.set_data_from_numpy(x)
        return [tensor]
    tensors = []
    for i, name in enumerate(predictor.feature_names):
        tensor = triton.InferInput(name, [len(x)], "FP32")
        tensor.set_data_from_numpy(np.ascontiguousarray(x[:, i]))
        tensors.append(tensor)
    return tensors


ROWS = {
    "default": np.array([[1.0], [7.0], [0.0], [2.5], [1e6]], np.float32),
    "iris": np.array([[0.5, 1, -1], [3, -2, 1], [0, 0, 0], [-7.25, 100, 9.5]], np.float32),
}


@pytest.mark.parametrize("binary_output", [True, False], ids=["binary-output", "json-output"])
@pytest.mark.parametrize("layout", ["per-feature", "matrix"])
@pytest.mark.parametrize("model", ["default", "iris"])
def test_answers_are_bit_identical_to_predict_table(servers, model, layout, binary_output):
    client, predictor = servers[model]
    x = ROWS[model]
    outputs = [triton.InferRequestedOutput(o, binary_data=binary_output) for o in predictor.output_names]
    result = client.infer(model, _inputs(predictor, x, layout), outputs=outputs)
    expected = predictor.predict_table(x)
    for name, column in expected.items():
        got = result.as_numpy(name)
        if column.dtype.kind == "f":
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got.view(np.uint32), column.view(np.uint32))  # bit-identical
        else:
            assert [v.decode() if isinstance(v, bytes) else v for v in got.tolist()] == column.tolist()


def test_by_default_the_client_gets_every_output_as_binary_data(servers):
    client, predictor = servers["default"]
    result = client.infer("default", _inputs(predictor, ROWS["default"], "per-feature"))
    outputs = result.get_response()["outputs"]
    assert [o["name"] for o in outputs] == ["probability", "label"]
    assert all("binary_data_size" in o["parameters"] for o in outputs)
    assert result.as_numpy("label").tolist() == [b"fail", b"pass", b"fail", b"pass", b"pass"]


@pytest.mark.parametrize("model", ["default", "iris"])
def test_health_metadata_and_readiness(servers, model):
    client, predictor = servers[model]
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(model)
    assert client.get_server_metadata()["extensions"] == ["binary_tensor_data"]
    meta = client.get_model_metadata(model)
    assert meta["name"] == model
    assert meta["versions"] == [served_version(predictor)]
    assert meta["parameters"] == {"sha256": predictor.sha256, "task": predictor.task}
    assert meta["inputs"] == [{"name": f, "datatype": "FP32", "shape": [-1]} for f in predictor.feature_names]
    assert [(o["name"], o["datatype"]) for o in meta["outputs"]] == [
        (o, "BYTES" if o == "label" else "FP32") for o in predictor.output_names
    ]
    assert client.is_model_ready(model, model_version=served_version(predictor))
    assert not client.is_model_ready(model, model_version="0")


def test_a_bad_row_fails_the_request_with_the_librarys_message(servers):
    client, predictor = servers["default"]
    with pytest.raises(Exception) as caught:
        client.infer("default", _inputs(predictor, np.array([[1.0], [-2.0]], np.float32), "per-feature"))
    assert str(caught.value) == "[400] sample 1, hours: -2 is outside the model's domain (expected >= 0)"


def test_a_pinned_version_is_served(servers):
    client, predictor = servers["iris"]
    result = client.infer("iris", _inputs(predictor, ROWS["iris"], "matrix"), model_version=served_version(predictor))
    assert result.as_numpy("label").tolist() == [v.encode() for v in predictor.predict(ROWS["iris"]).tolist()]
