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
    return (
        [helper.make_tensor_value_info("hours", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])],
    )


def weight(location):
    return external(numpy_helper.from_array(np.ones((1, 1), np.float32), "W"), location)


def in_initializer(location):
    nodes = [helper.make_node("MatMul", ["hours", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    return helper.make_graph(nodes, "g", *io(), [weight(location)])


def in_constant_node(location):
    nodes = [
        helper.make_node("Constant", [], ["W"], value=weight(location)),
        helper.make_node("MatMul", ["hours", "W"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
    ]
    return helper.make_graph(nodes, "g", *io())


def in_subgraph(location):
    branch = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["w"])],
        "then",
        [],
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1])],
        [weight(location)],
    )
    plain = helper.make_graph(
        [helper.make_node("Constant", [], ["w"], value_floats=[1.0])],
        "else",
        [],
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1])],
    )
    cond = numpy_helper.from_array(np.array(True), "cond")
    nodes = [
        helper.make_node("If", ["cond"], ["w"], then_branch=branch, else_branch=plain),
        helper.make_node("Mul", ["hours", "w"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
    ]
    return helper.make_graph(nodes, "g", *io(), [cond])


def in_sparse_initializer(location):
    values = weight(location)
    indices = numpy_helper.from_array(np.array([0], np.int64), "i")
    sparse = helper.make_sparse_tensor(values, indices, [1, 1])
    nodes = [helper.make_node("MatMul", ["hours", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])]
    graph = helper.make_graph(nodes, "g", *io())
    graph.sparse_initializer.append(sparse)
    return graph


def plain_graph():
    """A graph with no tensor at all: the external one is put elsewhere in the model."""
    return helper.make_graph([helper.make_node("Sigmoid", ["hours"], ["p"])], "g", *io())


def sparse(values, indices):
    return helper.make_sparse_tensor(values, indices, [1, 1])


def sparse_w(location):
    """A sparse tensor whose values are the external tensor 'W'."""
    return sparse(weight(location), numpy_helper.from_array(np.array([0], np.int64), "i"))


# The scan walks only the fields that can hold a tensor; one case per field (onnx.proto numbers), each a place
# where a hostile file can hide one. onnxruntime never gets these graphs, so they need not make sense.
def in_attribute_tensor_list(location):  # AttributeProto.tensors (10)
    nodes = [
        helper.make_node(
            "Sigmoid",
            ["hours"],
            ["p"],
            weights=[numpy_helper.from_array(np.ones(1, np.float32), "v"), weight(location)],
        )
    ]
    return helper.make_graph(nodes, "g", *io())


def in_attribute_graph_list(location):  # AttributeProto.graphs (11)
    branch = helper.make_graph(
        [helper.make_node("Identity", ["W"], ["w"])],
        "body",
        [],
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 1])],
        [weight(location)],
    )
    return helper.make_graph(
        [helper.make_node("Sigmoid", ["hours"], ["p"], bodies=[plain_graph(), branch])], "g", *io()
    )


def in_sparse_attribute(location):  # AttributeProto.sparse_tensor (22)
    nodes = [
        helper.make_node("Constant", [], ["W"], sparse_value=sparse_w(location)),
        helper.make_node("MatMul", ["hours", "W"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
    ]
    return helper.make_graph(nodes, "g", *io())


def in_sparse_attribute_list(location):  # AttributeProto.sparse_tensors (23)
    return helper.make_graph(
        [helper.make_node("Sigmoid", ["hours"], ["p"], sparse_weights=[sparse_w(location)])], "g", *io()
    )


def in_sparse_indices(location):  # SparseTensorProto.indices (2)
    indices = external(numpy_helper.from_array(np.array([0], np.int64), "W"), location)
    graph = plain_graph()
    graph.sparse_initializer.append(sparse(numpy_helper.from_array(np.ones(1, np.float32), "v"), indices))
    return graph


def in_function(location):  # ModelProto.functions (25) -> FunctionProto.node (7) -> a Constant's tensor
    model = helper.make_model(plain_graph(), opset_imports=[helper.make_opsetid("", 17)])
    model.functions.append(
        helper.make_function(
            "local",
            "Weight",
            [],
            ["w"],
            [helper.make_node("Constant", [], ["w"], value=weight(location))],
            [helper.make_opsetid("", 17)],
        )
    )
    return model


def in_function_attribute_default(location):  # FunctionProto.attribute_proto (11): an attribute's default
    model = helper.make_model(plain_graph(), opset_imports=[helper.make_opsetid("", 17)])
    model.functions.append(
        helper.make_function(
            "local",
            "Weight",
            [],
            ["w"],
            [helper.make_node("Identity", ["x"], ["w"])],
            [helper.make_opsetid("", 17)],
            attribute_protos=[helper.make_attribute("value", weight(location))],
        )
    )
    return model


def in_training_info(field):  # ModelProto.training_info (20) -> initialization (1) or algorithm (2)
    def build(location):
        model = helper.make_model(plain_graph(), opset_imports=[helper.make_opsetid("", 17)])
        info = model.training_info.add()
        getattr(info, field).CopyFrom(in_initializer(location))
        return model

    build.__name__ = f"in_training_info_{field}"
    return build


def model_bytes(built, manifest_from) -> bytes:
    """The file for a graph or a whole model, carrying a real manifest (not sealed: refused before that check)."""
    if isinstance(built, onnx.GraphProto):
        built = helper.make_model(built, opset_imports=[helper.make_opsetid("", 17)])
    built.ir_version = 8
    built.metadata_props.extend(onnx.load(str(manifest_from)).metadata_props)
    return built.SerializeToString()


@pytest.fixture
def never_onnxruntime(monkeypatch):
    """Fail the test if onnxruntime is handed the model at all."""

    def forbidden(*args, **kwargs):
        raise AssertionError("onnxruntime was asked to load a model with external data")

    monkeypatch.setattr("onnxruntime.InferenceSession", forbidden)  # session.py imports it when it makes one


EVERYWHERE = [
    in_initializer,
    in_constant_node,
    in_subgraph,
    in_sparse_initializer,
    in_attribute_tensor_list,
    in_attribute_graph_list,
    in_sparse_attribute,
    in_sparse_attribute_list,
    in_sparse_indices,
    in_function,
    in_function_attribute_default,
    in_training_info("initialization"),
    in_training_info("algorithm"),
]


@pytest.mark.parametrize("build", EVERYWHERE, ids=lambda build: build.__name__)
@pytest.mark.parametrize("location", ["../secret.bin", "secret.bin", "../../../../../../etc/passwd", "{secret}"])
def test_external_data_is_refused_before_onnxruntime_sees_it(
    cli_runner, tmp_path, model_path, never_onnxruntime, monkeypatch, build, location
):
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


def test_a_location_entry_without_a_value_is_refused(model_path, never_onnxruntime):
    graph = in_initializer("x")
    del graph.initializer[0].external_data[:]
    graph.initializer[0].external_data.add().key = "location"  # no value field at all
    with pytest.raises(ModelError, match="^<bytes>: tensor 'W' keeps its data in an external file \\('\\?'\\)"):
        Predictor.from_bytes(model_bytes(graph, model_path))


def test_a_location_that_is_not_utf8_is_refused_and_shown(model_path, never_onnxruntime):
    data = model_bytes(in_initializer("LOCATION"), model_path).replace(b"LOCATION", b"\xff\xfe../x12")  # same length
    with pytest.raises(ModelError) as info:
        Predictor.from_bytes(data)
    assert str(info.value).startswith("<bytes>: tensor 'W' keeps its data in an external file ('\ufffd\ufffd../x12')")
