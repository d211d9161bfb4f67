"""The OIP server on a typed model (helpers/typed.py): a text category is a BYTES input (JSON strings or binary
data), null a missing value; the answers are Predictor's, bit for bit, and a bad value is the library's 400."""

import json
import struct

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.serve import ModelSlot
from helpers import oip, typed

ROWS = [[1.0, 0.5, "Biscoe", "female", 1], [None, -1.0, "NA", "other", None], [7.5, 2.0, None, "male", 3]]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("typed") / "typed.onnx"
    path.write_bytes(typed.model_bytes())
    with oip.running(ModelSlot.from_path(path, name="typed")) as server:
        yield server.port, Predictor.from_path(path)


def _inputs(rows):
    columns = list(zip(*rows))
    kinds = ["FP32", "FP32", "BYTES", "BYTES", "FP32"]
    return [oip.tensor(n, list(c), datatype=k) for n, c, k in zip(typed.NAMES, columns, kinds)]


def test_metadata_names_text_categories_bytes(served):
    status, _, body = oip.request(served[0], "GET", "/v2/models/typed")
    assert status == 200
    assert [(i["name"], i["datatype"]) for i in body["inputs"]] == [
        ("hours", "FP32"),
        ("weight", "FP32"),
        ("island", "BYTES"),
        ("sex", "BYTES"),
        ("rating", "FP32"),
    ]


def test_json_bytes_and_nulls_score_as_predictor(served):
    port, predictor = served
    status, _, body = oip.infer(port, {"inputs": _inputs(ROWS)}, model="typed")
    assert status == 200, body
    got = {o["name"]: o["data"] for o in body["outputs"]}
    want = predictor.predict_table(ROWS)
    np.testing.assert_array_equal(np.float32(got["probability"]), want["probability"])
    assert got["label"] == want["label"].tolist()


def test_binary_bytes_score_as_json(served):
    port, predictor = served
    rows = [r for r in ROWS if r[2] is not None]  # binary BYTES has no null
    inputs = _inputs(rows)
    islands = [r[2] for r in rows]
    data = b"".join(struct.pack("<I", len(s.encode())) + s.encode() for s in islands)
    inputs[2] = {
        "name": "island",
        "datatype": "BYTES",
        "shape": [len(rows)],
        "parameters": {"binary_data_size": len(data)},
    }
    header = json.dumps({"inputs": inputs}).encode()
    status, _, body = oip.request(
        port, "POST", "/v2/models/typed/infer", header + data, {"Inference-Header-Content-Length": str(len(header))}
    )
    assert status == 200, body
    got = {o["name"]: o["data"] for o in body["outputs"]}
    np.testing.assert_array_equal(np.float32(got["probability"]), predictor.predict_table(rows)["probability"])


def test_an_unseen_category_is_the_librarys_400(served):
    rows = [list(r) for r in ROWS]
    rows[1][2] = "Atlantis"
    status, _, body = oip.infer(served[0], {"inputs": _inputs(rows)}, model="typed")
    assert status == 400
    assert "island: 'Atlantis' is not a known category" in body["error"]


def test_a_number_for_a_text_category_is_refused_by_datatype(served):
    inputs = _inputs(ROWS)
    inputs[2] = oip.tensor("island", [1.0, 2.0, 3.0])
    status, _, body = oip.infer(served[0], {"inputs": inputs}, model="typed")
    assert status == 400 and body["error"] == "input 'island' has datatype FP32, but the model expects BYTES"
