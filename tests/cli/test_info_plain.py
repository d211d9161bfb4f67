"""`edge-predict info` on a plain ONNX file: what the graph declares on stdout, why it is not scored on stderr."""

import hashlib
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge_predict.cli import cli

DTYPES = {"tensor(float)": TensorProto.FLOAT, "tensor(int64)": TensorProto.INT64, "tensor(double)": TensorProto.DOUBLE}


def plain(inputs, outputs, producer="", opset=17, ir=8) -> bytes:
    """Identity/Add graphs: inputs and outputs as (name, type, shape), no metadata at all."""
    nodes = (
        [helper.make_node("Identity", [inputs[0][0]], [outputs[0][0]])]
        if len(inputs) == 1
        else [helper.make_node("Add", [inputs[0][0], inputs[1][0]], [outputs[0][0]])]
    )
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info(n, DTYPES[t], s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, DTYPES[t], s) for n, t, s in outputs],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer)
    model.ir_version = ir
    return model.SerializeToString()


CASES = [
    ([("x", "tensor(float)", ["n", 3])], [("y", "tensor(float)", ["n", 3])], "pytorch", 17, 8),
    ([("hours", "tensor(float)", [4, 1])], [("p", "tensor(float)", [4, 1])], "", 13, 7),
    ([("a", "tensor(int64)", [2]), ("b", "tensor(int64)", [2])], [("s", "tensor(int64)", [2])], "skl2onnx", 18, 9),
    ([("z z", "tensor(double)", ["batch", 5])], [("é", "tensor(double)", ["batch", 5])], "x", 21, 10),
]


@pytest.mark.parametrize("inputs, outputs, producer, opset, ir", CASES)
def test_info_shows_a_plain_graph_then_refuses(cli_runner, tmp_path, inputs, outputs, producer, opset, ir):
    data = plain(inputs, outputs, producer, opset, ir)
    path = tmp_path / "plain.onnx"
    path.write_bytes(data)
    text = cli_runner.invoke(cli, ["info", "--model", str(path)])
    doc = cli_runner.invoke(cli, ["info", "--model", str(path), "--format", "json"])
    for result in (text, doc):
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("edge-predict: error: ")
    lines = dict(line.split(":", 1) for line in text.stdout.splitlines())
    assert lines["format"].strip() == "plain ONNX (no edge-predict manifest)"
    assert lines["sha256"].strip() == hashlib.sha256(data).hexdigest()
    assert lines["inputs"].strip() == ", ".join(f"{n} {t} {s}" for n, t, s in inputs)
    assert lines["outputs"].strip() == ", ".join(f"{n} {t} {s}" for n, t, s in outputs)
    assert lines["opset"].strip() == f"ai.onnx {opset}" and lines["ir"].strip() == str(ir)
    assert lines["producer"].strip() == (producer or "unknown")
    facts = json.loads(doc.stdout)
    assert facts["manifest"] is None and facts["sha256"] == hashlib.sha256(data).hexdigest()
    assert [(a["name"], a["type"], a["shape"]) for a in facts["plain"]["inputs"]] == [tuple(i) for i in inputs]
    assert [(a["name"], a["type"], a["shape"]) for a in facts["plain"]["outputs"]] == [tuple(o) for o in outputs]
    assert facts["plain"]["opsets"] == {"ai.onnx": opset} and facts["plain"]["ir_version"] == ir
    if len(inputs) == 1 and inputs[0][1] == "tensor(float)" and len(inputs[0][2]) == 2:
        assert "no edge-predict manifest" in text.stderr  # the one reason left once the signature fits


def test_a_plain_graph_with_external_data_is_not_opened(cli_runner, tmp_path):
    """The scan before onnxruntime still runs: nothing is described, the refusal says why."""
    weight = numpy_helper.from_array(np.ones((1, 1), np.float32), "W")
    weight.data_location = TensorProto.EXTERNAL
    weight.ClearField("raw_data")
    for key, value in (("location", "../secret"), ("offset", "0"), ("length", "4")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        [weight],
    )
    path = tmp_path / "plain.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    result = cli_runner.invoke(cli, ["info", "--model", str(path)])
    assert result.exit_code == 1 and result.stdout == ""
    assert "external" in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("data", [b"", b"not onnx at all", bytes(range(256))])
def test_info_on_bytes_that_are_no_model_prints_nothing(cli_runner, tmp_path, data):
    path = tmp_path / "junk.onnx"
    path.write_bytes(data)
    result = cli_runner.invoke(cli, ["info", "--model", str(path)])
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.count("\n") == 1


def test_info_on_an_edge_predict_model_is_unchanged(cli_runner):
    result = cli_runner.invoke(cli, ["info"])
    assert result.exit_code == 0 and "format:    3" in result.stdout and "plain" not in result.stdout
