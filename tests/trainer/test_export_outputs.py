"""export() takes a module's output as its author wrote it: a tuple, list or dict, (batch,), one or two columns,
logits or probabilities; and several inputs, numbers and category codes. The file's output is still the task's."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from torch import nn

from edge_predict import Predictor
from edge_predict.trainer import ExportError, export

ATOL = 1e-6
X = np.random.default_rng(3).normal(size=(30, 3)).astype(np.float32)
NAMES = ["a", "b", "c"]


class Returns(nn.Module):
    """A linear layer of `width` outputs, returned through `wrap` (a tuple, a dict, a squeeze, ...)."""

    def __init__(self, width, wrap):
        super().__init__()
        torch.manual_seed(0)
        self.linear, self.wrap = nn.Linear(3, width), wrap

    def forward(self, x):
        return self.wrap(self.linear(x))


def as_tuple(z):
    return z, z.sum()  # the tensor and a scalar, as TabNet's (logits, M_loss)


def as_dict(z):
    return {"logits": z, "loss": z.mean()}


def squeezed(z):
    return z.squeeze(-1)


def two_probabilities(z):
    return torch.softmax(z, dim=1)


def sigmoid(z):
    return torch.sigmoid(z)


def identity(z):
    return z


def p_yes(module_out, outputs):
    """P(labels[1]) from what the module returned: the reference for every binary form."""
    out = (
        module_out
        if isinstance(module_out, torch.Tensor)
        else (module_out["logits"] if isinstance(module_out, dict) else module_out[0])
    )
    out = out.reshape(len(X), -1)
    if out.shape[1] == 2:
        return (torch.softmax(out, dim=1) if outputs == "logits" else out)[:, 1].numpy()
    return (torch.sigmoid(out) if outputs == "logits" else out)[:, 0].numpy()


@pytest.mark.parametrize(
    "width, wrap, outputs",
    [
        (1, identity, "logits"),  # one logit, (batch, 1)
        (1, squeezed, "logits"),  # one logit, (batch,): skorch's NeuralNetBinaryClassifier
        (1, sigmoid, "probabilities"),  # one probability
        (1, lambda z: torch.sigmoid(z).squeeze(-1), "probabilities"),  # one probability, (batch,)
        (2, identity, "logits"),  # two logits: CrossEntropyLoss over two classes
        (2, two_probabilities, "probabilities"),  # two probabilities
        (2, as_tuple, "logits"),  # a tuple: the only (batch, 2) tensor
        (1, as_dict, "logits"),  # a dict: the only (batch, 1) tensor
    ],
)
def test_a_binary_model_in_any_of_its_forms_scores_p_of_labels_1(tmp_path, width, wrap, outputs):
    module = Returns(width, wrap).eval()
    export(module, tmp_path / "m.onnx", feature_names=NAMES, labels=["no", "yes"], outputs=outputs, x_train=X)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    with torch.no_grad():
        expected = p_yes(module(torch.from_numpy(X)), outputs)
    proba = predictor.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], expected, rtol=0, atol=ATOL)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=ATOL)
    assert predictor.manifest["task"] == "binary"


def test_multiclass_with_two_labels_is_a_binary_model(tmp_path):
    module = Returns(2, identity).eval()
    export(module, tmp_path / "m.onnx", feature_names=NAMES, task="multiclass", labels=["n", "y"], outputs="logits")
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    assert predictor.task == "binary" and predictor.manifest["threshold"] == 0.5
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), dim=1).numpy()
    np.testing.assert_allclose(predictor.predict_proba(X), expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("wrap", [squeezed, identity, as_tuple])
def test_a_regression_value_of_shape_batch_or_batch_1(tmp_path, wrap):
    module = Returns(1, wrap).eval()
    export(module, tmp_path / "m.onnx", feature_names=NAMES, task="regression", x_train=X)
    with torch.no_grad():
        out = module(torch.from_numpy(X))
    expected = (out[0] if isinstance(out, tuple) else out).reshape(-1).numpy()
    np.testing.assert_allclose(Predictor.from_path(tmp_path / "m.onnx").predict(X), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("outputs", ["probabilities", "logits"])
def test_an_ambiguous_tuple_names_the_choices_in_every_outputs_mode(tmp_path, outputs):
    module = Returns(1, lambda z: (z, 2 * z)).eval()
    with pytest.raises(ExportError) as info:
        export(module, tmp_path / "m.onnx", feature_names=NAMES, outputs=outputs, x_train=X)
    assert str(info.value) == (
        "the module returns a tuple (0: float32 tensor of shape (19, 1); 1: float32 tensor of shape (19, 1)) and 2 of "
        "them are a float32 (batch, 1) or (batch,) tensor of a binary model; pass output= one of [0, 1] to choose the "
        "tensor to export"
    )
    assert list(tmp_path.iterdir()) == []
    export(module, tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", output=1, x_train=X)
    with torch.no_grad():
        expected = torch.sigmoid(2 * module.linear(torch.from_numpy(X)))[:, 0].numpy()
    np.testing.assert_allclose(Predictor.from_path(tmp_path / "m.onnx").predict_proba(X)[:, 1], expected, atol=ATOL)


@pytest.mark.parametrize(
    "wrap, output, message",
    [
        (
            lambda z: {"a": z.sum(), "b": z.mean()},
            None,
            "the module returns a dict ('a': float32 tensor of shape (); 'b': float32 tensor of shape ()) and none of "
            "them is a float32 (batch, 1) or (batch,) tensor of a binary model; pass output= one of ['a', 'b']",
        ),
        (as_dict, "probs", "output='probs': the module returns a dict of ['logits', 'loss']; pass one of them"),
        (identity, 0, "output=0, but the module returns one float32 tensor of shape (19, 1); leave output=None"),
    ],
)
def test_output_choices_are_named(tmp_path, wrap, output, message):
    with pytest.raises(ExportError) as info:
        export(
            Returns(1, wrap).eval(),
            tmp_path / "m.onnx",
            feature_names=NAMES,
            outputs="logits",
            output=output,
            x_train=X,
        )
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    "bias, hint",
    [
        (50.0, "they look like a regression's values: pass task='regression' (and targets=[...] to name them)"),
        (0.0, "they look like logits: pass outputs='logits', which puts the activation into the graph"),
    ],
)
def test_outputs_that_are_not_probabilities_hint_at_what_fits_the_numbers(tmp_path, bias, hint):
    module = Returns(1, identity).eval()
    with torch.no_grad():
        module.linear.weight.fill_(3.0), module.linear.bias.fill_(bias)
    with pytest.raises(ExportError) as info:
        export(module, tmp_path / "m.onnx", feature_names=NAMES, x_train=X)
    assert str(info.value).startswith("outputs='probabilities', but the module's outputs are not probabilities")
    assert str(info.value).endswith(hint)


class NumbersAndCodes(nn.Module):
    """forward(x_num, x_cat): numbers and an embedding per category column, as rtdl's and most tabular models do."""

    def __init__(self, cardinalities):
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = nn.ModuleList(nn.Embedding(n, 2) for n in cardinalities)
        self.linear = nn.Linear(3 + 2 * len(cardinalities), 1)

    def forward(self, x_num, x_cat):
        embedded = [e(x_cat[:, j]) for j, e in enumerate(self.embeddings)]
        return self.linear(torch.cat([x_num, *embedded], dim=1))


@pytest.mark.parametrize(
    "categories, kind",
    [
        ({"color": ["red", "green", "blue"], "size": ["S", "M"]}, "tensor(string)"),
        ({"color": [10, 20, 30], "size": [0, 1]}, "tensor(int64)"),  # integer codes declared categorical
        ({"color": [0, 1, 2], "size": [0, 1]}, "tensor(int64)"),  # the codes themselves: no encoder needed
    ],
)
def test_numbers_and_categories_in_two_inputs(tmp_path, categories, kind):
    module = NumbersAndCodes([3, 2]).eval()
    rows = [[*map(float, x), categories["color"][i % 3], categories["size"][i % 2]] for i, x in enumerate(X)]
    data = export(
        module,
        tmp_path / "m.onnx",
        feature_names=[*NAMES, "color", "size"],
        inputs=[NAMES, ["color", "size"]],
        categories=categories,
        outputs="logits",
        x_train=rows,
    )
    manifest = json.loads(onnx.load_from_string(data).metadata_props[0].value)
    assert manifest["inputs"] == [
        {"name": "x_num", "type": "float32", "features": NAMES},
        {"name": "x_cat", "type": "string" if kind == "tensor(string)" else "int64", "features": ["color", "size"]},
    ]
    assert manifest["features"][3] == {
        "name": "color",
        "type": "category",
        "categories": categories["color"],
        "unknown": "refuse",
        "missing": "refuse",
    }
    golden_categories = {tuple(row[3:]) for row in manifest["golden"]["inputs"]}
    assert {c for c, _ in golden_categories} == set(categories["color"])  # every category in the golden vectors
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert [i.type for i in session.get_inputs()] == ["tensor(float)", kind]
    codes = np.stack([np.arange(30) % 3, np.arange(30) % 2], axis=1)
    raw = np.array(
        [[categories["color"][c], categories["size"][s]] for c, s in codes],
        object if kind == "tensor(string)" else np.int64,
    )
    got = session.run(None, {"x_num": X, "x_cat": raw})[0]
    with torch.no_grad():
        p = torch.sigmoid(module(torch.from_numpy(X), torch.from_numpy(codes))).numpy()
    np.testing.assert_allclose(got, np.concatenate([1 - p, p], axis=1), rtol=0, atol=ATOL)


@pytest.mark.parametrize(
    "inputs, categories, message",
    [
        ([NAMES], None, "inputs [['a', 'b', 'c']]: each feature must be in exactly one of the module's inputs"),
        (
            [[*NAMES, "color"], ["size"]],
            {"color": ["r"], "size": ["s"]},
            "the module's input 0 holds numbers and categories",
        ),
        (
            {"x_num": NAMES, "z": ["color", "size"]},
            None,
            "inputs names ['z'], which are not parameters of the module's forward",
        ),
        (
            [NAMES, ["color", "size"]],
            {"color": ["r", "r"], "size": ["s"]},
            "categories of 'color' are ['r', 'r']: expected distinct",
        ),
    ],
)
def test_an_input_layout_that_does_not_fit_is_refused(tmp_path, inputs, categories, message):
    with pytest.raises(ExportError) as info:
        export(
            NumbersAndCodes([1, 1]).eval(),
            tmp_path / "m.onnx",
            feature_names=[*NAMES, "color", "size"],
            inputs=inputs,
            categories=categories,
            outputs="logits",
        )
    assert str(info.value).startswith(message)


class LenOfBatch(nn.Module):
    """Reshapes by len(x), as rtdl's attention does: the TorchScript trace keeps the golden batch's size."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3, 4)

    def forward(self, x):
        return self.linear(x).reshape(len(x), 2, 2).sum(dim=2)


@pytest.mark.slow
def test_a_size_the_trace_kept_is_measured_and_the_dynamo_exporter_writes_the_file(tmp_path):
    module = LenOfBatch().eval()
    with pytest.raises(ExportError) as info:
        export(
            module, tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", x_train=X, onnx_exporter="torchscript"
        )
    assert "scored alone, but torch computes" in str(info.value)
    assert "the tracer flagged " in str(info.value) and "test_export_outputs.py:" in str(info.value)
    data = export(module, tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", x_train=X)
    assert json.loads(onnx.load_from_string(data).metadata_props[0].value)["exporter"]["onnx_exporter"] == "dynamo"
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), dim=1).numpy()
    for rows in (X[:1], X[:2], X[:7], X):
        np.testing.assert_allclose(
            Predictor.from_path(tmp_path / "m.onnx").predict_proba(rows), expected[: len(rows)], atol=ATOL
        )


class ShapeCheck(nn.Module):
    """A harmless check on the input's width in Python: the tracer flags it, the graph is right at every size."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(3, 1)

    def forward(self, x):
        if x.shape[-1] != 3:
            raise ValueError("expected 3 features")
        return self.linear(x)


def test_a_trace_warning_with_no_measured_difference_is_shown_not_fatal(tmp_path):
    with pytest.warns(
        UserWarning,
        match=r"the tracer flagged .*test_export_outputs\.py:\d+: .*measured equal to torch at batch sizes 19, 1, 2, 7, 257",
    ):
        data = export(ShapeCheck().eval(), tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", x_train=X)
    assert json.loads(onnx.load_from_string(data).metadata_props[0].value)["exporter"]["onnx_exporter"] == "torchscript"


class GhostBatchNorm(nn.Module):
    """Normalizes each chunk of 4 rows by its own statistics, at inference too: it really depends on its batch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, x):
        chunks = x.chunk(max(1, x.shape[0] // 4))
        return self.linear(torch.cat([c - c.mean(0, keepdim=True) for c in chunks]))


def test_a_module_that_really_depends_on_its_batch_is_refused_with_the_batch_size(tmp_path):
    with pytest.raises(ExportError) as info:
        export(GhostBatchNorm().eval(), tmp_path / "m.onnx", feature_names=NAMES, task="regression", x_train=X)
    assert str(info.value).startswith("the module computes ")
    assert "scored alone, but" in str(info.value) and "within the batch of all 19" in str(info.value)


def test_edge_train_keeps_its_flags_where_export_names_its_arguments(tmp_path):
    from edge_predict.trainer.checks import golden_disagreement

    error = golden_disagreement(3e-6, 1e-6)
    assert "pass a larger atol=" in str(error) and "--" not in str(error)
    assert "--standardize" in error.cli and "--atol" in error.cli
