"""Server.reload: a file that passes every check is served in one swap; one that fails any check changes nothing."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from helpers import handmade
from helpers import DEFAULT_MODEL
from edge_predict import Predictor
from edge_predict.serve import ModelSlot, Server
from helpers import oip
from helpers.oip import served_version, tensor

OTHER = handmade.identity(features=(("hours", 0, 1),))  # p = hours: another binary model with the same feature


@pytest.fixture
def served(tmp_path):
    """(the model file, a running Server serving it)."""
    path = tmp_path / "model.onnx"
    shutil.copy(DEFAULT_MODEL, path)
    with oip.running(ModelSlot.from_path(path)) as server:
        yield path, server


def _sha(server: Server) -> str:
    return oip.request(server.port, "GET", "/v2/models/default")[2]["parameters"]["sha256"]


def test_a_good_file_is_served_after_reload_and_the_log_says_so(served):
    path, server = served
    path.write_bytes(OTHER)
    assert server.reload() is True
    new = Predictor.from_bytes(OTHER)
    assert _sha(server) == new.sha256
    assert server.lines == [f"reloaded {path}: now serving version {served_version(new)} (sha256 {new.sha256})"]
    status, _, body = oip.infer(server.port, {"inputs": [tensor("hours", [0.25])]}, model="default")
    assert status == 200 and body["model_version"] == served_version(new) and body["outputs"][0]["data"] == [0.25]


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "is empty"),
        (handmade.identity(golden_outputs=((0.0,), (0.5,), (0.75,))), "golden"),  # does not verify on this device
    ],
    ids=["empty", "unverified"],
)
def test_a_bad_file_keeps_the_old_model_serving_and_logs_one_line(served, content, reason):
    path, server = served
    old = Predictor.from_path(DEFAULT_MODEL).sha256
    path.write_bytes(content)
    assert server.reload() is False
    assert _sha(server) == old
    (line,) = server.lines
    assert (
        line.startswith(
            f"reload failed, still serving version {served_version(Predictor.from_path(DEFAULT_MODEL))} (sha256 {old}): "
        )
        and reason in line
    )


def test_a_request_that_began_on_the_old_model_finishes_on_it(served):
    path, server = served
    before = server.slot.current  # what a request in flight holds
    path.write_bytes(OTHER)
    server.reload()
    assert server.slot.current is not before
    np.testing.assert_array_equal(before.predictor.predict_table([[7.0]])["label"], ["pass"])
    assert before.predictor.sha256 == Predictor.from_path(DEFAULT_MODEL).sha256
