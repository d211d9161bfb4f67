"""Third-party tabular models export as their authors wrote them, unpatched, and score as their library predicts.

rtdl-revisiting-models (MLP, ResNet, FTTransformer), skorch (NeuralNetClassifier, NeuralNetRegressor,
NeuralNetBinaryClassifier) and pytorch-tabnet (the network inside TabNetClassifier): each trained briefly on a small
table made here, exported with `export`, and scored through `Predictor` (or, for several inputs, onnxruntime on the
file) against the library's own predict / predict_proba. The recipes are docs/training.md's ("Real libraries").
"""

import numpy as np
import onnxruntime
import pytest
import torch
from torch import nn

from edge_predict import Predictor
from edge_predict.trainer import export

rtdl = pytest.importorskip("rtdl_revisiting_models")
skorch = pytest.importorskip("skorch")

ATOL = 1e-6  # probabilities (helpers/parity.py); regression values: the manifest's atol + rtol * |value|
NAMES = ["a", "b", "c", "d"]
COLORS, SIZES = ["red", "green", "blue"], ["S", "M", "L", "XL"]


@pytest.fixture(scope="module")
def table():
    """400 rows: four numbers, two text categories, and a binary, a 3-class and a real-valued target from them."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 4)).astype(np.float32)
    color, size = rng.integers(0, 3, 400), rng.integers(0, 4, 400)
    score = x @ np.float32([1.0, -1.5, 0.5, 1.0]) + (color - 1) * 0.8 + (size - 1.5) * 0.5
    return {
        "x": x,
        "codes": np.stack([color, size], axis=1).astype(np.int64),
        "binary": (score > 0).astype(np.int64),
        "classes": np.digitize(score, [-1.0, 1.0]).astype(np.int64),
        "value": (20 + 5 * score).astype(np.float32),
    }


def fitted(module, loss, inputs, y, steps=60):
    """`module` trained with Adam on (inputs, y), in eval mode."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(module(*inputs), y).backward()
        optimizer.step()
    return module.eval()


def probabilities(predictor, x):
    proba = predictor.predict_proba(x)
    return proba[:, 1] if predictor.task == "binary" else proba


def test_rtdl_mlp_binary_logit(tmp_path, table):
    torch.manual_seed(0)
    x, y = table["x"], table["binary"]
    model = rtdl.MLP(d_in=4, d_out=1, n_blocks=2, d_block=16, dropout=0.1)
    model = fitted(model, nn.BCEWithLogitsLoss(), [torch.from_numpy(x)], torch.from_numpy(y).float().unsqueeze(1))
    export(model, tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", labels=["no", "yes"], x_train=x)
    with torch.no_grad():
        expected = torch.sigmoid(model(torch.from_numpy(x)))[:, 0].numpy()
    np.testing.assert_allclose(probabilities(Predictor.from_path(tmp_path / "m.onnx"), x), expected, rtol=0, atol=ATOL)


def test_rtdl_resnet_multiclass_logits(tmp_path, table):
    torch.manual_seed(0)
    x, y = table["x"], table["classes"]
    model = rtdl.ResNet(
        d_in=4, d_out=3, n_blocks=2, d_block=16, d_hidden=None, d_hidden_multiplier=2.0, dropout1=0.1, dropout2=0.0
    )
    model = fitted(model, nn.CrossEntropyLoss(), [torch.from_numpy(x)], torch.from_numpy(y))
    labels = ["low", "mid", "high"]
    export(
        model, tmp_path / "m.onnx", feature_names=NAMES, task="multiclass", labels=labels, outputs="logits", x_train=x
    )
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    np.testing.assert_allclose(predictor.predict_proba(x), expected, rtol=0, atol=ATOL)
    assert (predictor.predict(x) == np.array(labels)[expected.argmax(axis=1)]).mean() > 0.999


@pytest.mark.slow
def test_rtdl_ft_transformer_numbers_and_categories(tmp_path, table):
    """forward(x_cont, x_cat): numbers float32, categories as int64 codes of their vocabulary; the graph takes the
    category texts and a LabelEncoder gives the module its codes. The TorchScript graph keeps the trace's batch size
    (len(q) in the attention): measured wrong, so the dynamo exporter writes the file."""
    torch.manual_seed(0)
    x, codes, y = table["x"], table["codes"], table["binary"]
    model = rtdl.FTTransformer(
        n_cont_features=4, cat_cardinalities=[3, 4], d_out=1, **rtdl.FTTransformer.get_default_kwargs(n_blocks=1)
    )
    model = fitted(
        model,
        nn.BCEWithLogitsLoss(),
        [torch.from_numpy(x), torch.from_numpy(codes)],
        torch.from_numpy(y).float()[:, None],
        20,
    )
    names = [*NAMES, "color", "size"]
    rows = [[*map(float, r), COLORS[c], SIZES[s]] for r, (c, s) in zip(x[:64], codes[:64])]
    data = export(
        model,
        tmp_path / "m.onnx",
        feature_names=names,
        inputs={"x_cont": NAMES, "x_cat": ["color", "size"]},
        categories={"color": COLORS, "size": SIZES},
        outputs="logits",
        x_train=rows,
    )
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert [(i.name, i.type) for i in session.get_inputs()] == [
        ("x_cont", "tensor(float)"),
        ("x_cat", "tensor(string)"),
    ]
    text = np.array([[COLORS[c], SIZES[s]] for c, s in codes], object)
    got = session.run(None, {"x_cont": x, "x_cat": text})[0][:, -1]
    with torch.no_grad():
        expected = torch.sigmoid(model(torch.from_numpy(x), torch.from_numpy(codes)))[:, 0].numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)
    manifest = __import__("json").loads(__import__("onnx").load_from_string(data).metadata_props[0].value)
    assert manifest["exporter"]["onnx_exporter"] == "dynamo"
    assert manifest["inputs"] == [
        {"name": "x_cont", "type": "float32", "features": NAMES},
        {"name": "x_cat", "type": "string", "features": ["color", "size"]},
    ]


def _skorch_module(width):
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, width))


@pytest.mark.parametrize("classes", [2, 3])
def test_skorch_neural_net_classifier(tmp_path, table, classes):
    """CrossEntropyLoss on class logits; two classes are a binary model with two logits (task="multiclass" works)."""
    from skorch import NeuralNetClassifier

    x = table["x"]
    y = table["binary"] if classes == 2 else table["classes"]
    torch.manual_seed(0)
    net = NeuralNetClassifier(
        _skorch_module(classes), criterion=nn.CrossEntropyLoss, max_epochs=5, lr=0.1, train_split=None, verbose=0
    ).fit(x, y)
    labels = [str(c) for c in net.classes_]
    export(
        net.module_.eval(),
        tmp_path / "m.onnx",
        feature_names=NAMES,
        task="multiclass",
        labels=labels,
        outputs="logits",
        x_train=x,
    )
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    expected = net.predict_proba(x)
    np.testing.assert_allclose(predictor.predict_proba(x), expected, rtol=0, atol=ATOL)
    assert predictor.predict(x).tolist() == [str(c) for c in net.predict(x)]


def test_skorch_neural_net_binary_classifier(tmp_path, table):
    """The module returns one logit per row, shape (batch,)."""
    from skorch import NeuralNetBinaryClassifier

    class Logit(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = _skorch_module(1)

        def forward(self, x):
            return self.net(x).squeeze(-1)

    x, y = table["x"], table["binary"].astype(np.float32)
    torch.manual_seed(0)
    net = NeuralNetBinaryClassifier(Logit, max_epochs=5, lr=0.1, train_split=None, verbose=0).fit(x, y)
    export(net.module_.eval(), tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", labels=["0", "1"], x_train=x)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    np.testing.assert_allclose(predictor.predict_proba(x), net.predict_proba(x), rtol=0, atol=ATOL)
    assert predictor.predict(x).tolist() == [str(v) for v in net.predict(x)]


def test_skorch_neural_net_regressor(tmp_path, table):
    from skorch import NeuralNetRegressor

    x, y = table["x"], table["value"].reshape(-1, 1)
    torch.manual_seed(0)
    net = NeuralNetRegressor(_skorch_module(1), max_epochs=20, lr=0.01, train_split=None, verbose=0).fit(x, y)
    export(net.module_.eval(), tmp_path / "m.onnx", feature_names=NAMES, task="regression", targets=["y"], x_train=x)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    golden = predictor.manifest["golden"]
    expected = net.predict(x)[:, 0]
    got = predictor.predict(x).reshape(-1)
    assert (np.abs(got - expected) <= golden["atol"] + golden["rtol"] * np.abs(expected)).all()


@pytest.mark.slow
def test_tabnet_network_tuple_output_and_eval_chunking(tmp_path, table):
    """TabNetClassifier's network returns (logits, M_loss) and chunks each batch by its virtual batch size in Python
    (x.chunk(int(np.ceil(n / vbs)))): the tracer flags it, the graph is measured right at every batch size, so it is
    shown, not refused. The logits are picked out of the tuple: the only (batch, 2) tensor."""
    tabnet = pytest.importorskip("pytorch_tabnet.tab_model")
    x, y = table["x"], table["binary"]
    clf = tabnet.TabNetClassifier(n_d=8, n_a=8, n_steps=2, seed=0, verbose=0, device_name="cpu")
    clf.fit(x, y, max_epochs=3, batch_size=128, virtual_batch_size=32)
    network = clf.network.eval()
    labels = [str(c) for c in clf.classes_]
    with pytest.warns(UserWarning, match=r"the tracer flagged .*tab_network\.py:\d+"):
        export(network, tmp_path / "m.onnx", feature_names=NAMES, labels=labels, outputs="logits", x_train=x, atol=1e-4)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    np.testing.assert_allclose(predictor.predict_proba(x), clf.predict_proba(x), rtol=0, atol=1e-4)
