"""Models whose tensors point at other files are refused before onnxruntime reads anything.

CVE-2022-25882, CVE-2024-27318 and CVE-2025-51480 are path traversals through a tensor's external_data
"location"; a model that says location=../secret must never make the device read (or leak) that file.
"""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edge_predict import ModelError, Predictor
from edge_predict.cli import cli

SECRET = b"TOPSECRET-0123456789abcdef"


def external(tensor, location):
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    for key, value in (("location", location), ("offset", "0"), ("length", "4")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def io():
    return ([helper.make_tensor_value_info("hours", TensorProto.FLOAT, ["n", 1])],
            [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])])


def weight(location):
    return external(numpy_helper.from_array(np.ones((1, 1), np.float32), "W"), location)


def in_initializer(location):
    nodes = [helper.make_node("MatMul", ["hours", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    return helper.make_graph(nodes, "g", *io(), [weight(location)])


def in_constant_node(location):
    nodes = [helper.make_node("Constant", [], ["W"], value=weight(location)),
             helper.make_node("MatMul", ["hours", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    return helper.make_graph(nodes, "g", *io())


def in_subgraph(location):
    branch = helper.make_graph([helper.make_node("Identity", ["W"], ["w"])], "then", [],
                               [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1])], [weight(location)])
    plain = helper.make_graph([helper.make_node("Constant", [], ["w"], value_floats=[1.0])], "else", [],
                              [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1])])
    cond = numpy_helper.from_array(np.array(True), "cond")
    nodes = [helper.make_node("If", ["cond"], ["w"], then_branch=branch, else_branch=plain),
             helper.make_node("Mul", ["hours", "w"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    return helper.make_graph(nodes, "g", *io(), [cond])


def in_sparse_initializer(location):
    values = weight(location)
    indices = numpy_helper.from_array(np.array([0], np.int64), "i")
    sparse = helper.make_sparse_tensor(values, indices, [1, 1])
    nodes = [helper.make_node("MatMul", ["hours", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    graph = helper.make_graph(nodes, "g", *io())
    graph.sparse_initializer.append(sparse)
    return graph


def model_bytes(graph, manifest_from) -> bytes:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.metadata_props.extend(onnx.load(str(manifest_from)).metadata_props)
    return model.SerializeToString()


@pytest.fixture
def never_onnxruntime(monkeypatch):
    """Fail the test if onnxruntime is handed the model at all."""
    def forbidden(*args, **kwargs):
        raise AssertionError("onnxruntime was asked to load a model with external data")
    monkeypatch.setattr("edge_predict.session.ort.InferenceSession", forbidden)


@pytest.mark.parametrize("build", [in_initializer, in_constant_node, in_subgraph, in_sparse_initializer])
@pytest.mark.parametrize("location", ["../secret.bin", "secret.bin", "../../../../../../etc/passwd", "{secret}"])
def test_external_data_is_refused_before_onnxruntime_sees_it(cli_runner, tmp_path, model_path, never_onnxruntime,
                                                             monkeypatch, build, location):
    (tmp_path / "secret.bin").write_bytes(SECRET)
    (tmp_path / "models").mkdir()
    path = tmp_path / "models" / "evil.onnx"
    location = location.format(secret=tmp_path / "secret.bin")
    path.write_bytes(model_bytes(build(location), model_path))
    (tmp_path / "models" / "secret.bin").write_bytes(SECRET)
    monkeypatch.chdir(tmp_path / "models")
    expected = f"{path}: tensor 'W' keeps its data in an external file ({location!r}); edge-predict loads only"
    with pytest.raises(ModelError) as info:
        Predictor.from_path(path)
    assert str(info.value).startswith(expected)
    for args in (["predict", "1"], ["info"], ["verify"]):
        result = cli_runner.invoke(cli, [*args, "--model", str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"edge-predict: error: {expected}")
        assert SECRET.decode() not in result.stdout + result.stderr


def test_data_location_external_without_a_location_is_refused(model_path, never_onnxruntime):
    graph = in_initializer("x")
    graph.initializer[0].ClearField("external_data")
    with pytest.raises(ModelError, match="^<bytes>: tensor 'W' keeps its data in an external file \\('\\?'\\)"):
        Predictor.from_bytes(model_bytes(graph, model_path))


def test_onnxruntime_itself_would_have_read_the_file(tmp_path, model_path):
    """Why the check exists: without it, onnxruntime loads the tensor from the file beside the model."""
    import onnxruntime as ort

    (tmp_path / "secret.bin").write_bytes(SECRET)
    path = tmp_path / "evil.onnx"
    path.write_bytes(model_bytes(in_initializer("secret.bin"), model_path))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    w = np.frombuffer(SECRET[:4], np.float32)[0]
    got = session.run(None, {"hours": np.ones((1, 1), np.float32)})[0][0, 0]
    np.testing.assert_allclose(got, 1 / (1 + np.exp(-np.float64(w))), rtol=1e-6)
