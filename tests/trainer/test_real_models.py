"""Third-party tabular models export as their authors wrote them, unpatched, and score as their library predicts.

rtdl-revisiting-models (MLP, ResNet, FTTransformer), skorch (NeuralNetClassifier, NeuralNetRegressor,
NeuralNetBinaryClassifier) and pytorch-tabnet (the network inside TabNetClassifier): each trained briefly on a small
table made here, exported with `export`, and scored through `Predictor` (for several inputs also without torch)
against the library's own predict / predict_proba. The recipes are docs/training.md's ("Real libraries").
"""

import json
import subprocess
import sys

import numpy as np
import onnxruntime
import pandas as pd
import pytest
import torch
from torch import nn

from edge_predict import InputError, Predictor
from edge_predict.trainer import export
from helpers import CLEAN_ENV

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


COLOR_CODES, SIZE_CODES = [1, 2, 3], [36, 38, 40, 42]  # integer categories, not their codes: an encoder in the graph
_DEVICE = """
import json, sys
sys.modules["torch"] = sys.modules["onnx"] = None  # the device has neither
from edge_predict import Predictor
rows = json.loads(sys.argv[2])
print(json.dumps({e: Predictor.from_path(sys.argv[1], engine=e).predict_proba(rows)[:, 1].tolist()
                  for e in ("onnxruntime", "numpy")}))
"""


@pytest.fixture(scope="module", params=["text", "integers"])
def ft_transformer(request, tmp_path_factory, table):
    """rtdl's FTTransformer, forward(x_cont, x_cat), trained briefly and exported: color and size text
    categories, or both integers (one input holds one type). (module, path, raw rows of the 400, the file's bytes)."""
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
    colors, sizes = (COLORS, SIZES) if request.param == "text" else (COLOR_CODES, SIZE_CODES)
    rows = [[*map(float, r), colors[c], sizes[s]] for r, (c, s) in zip(x, codes)]
    path = tmp_path_factory.mktemp("ft") / "m.onnx"
    data = export(
        model,
        path,
        feature_names=[*NAMES, "color", "size"],
        inputs={"x_cont": NAMES, "x_cat": ["color", "size"]},
        categories={"color": colors, "size": sizes},
        outputs="logits",
        x_train=rows[:64],
    )
    return model, path, rows, data


def _ft_expected(model, table):
    with torch.no_grad():
        x, codes = torch.from_numpy(table["x"]), torch.from_numpy(table["codes"])
        return torch.sigmoid(model(x, codes))[:, 0].numpy()


@pytest.mark.slow
def test_rtdl_ft_transformer_numbers_and_categories(ft_transformer, table):
    """forward(x_cont, x_cat): numbers float32, categories as int64 codes of their vocabularies; the graph takes the
    category values (text, or integers) and a LabelEncoder gives the module its codes. The TorchScript graph keeps the
    trace's batch size (len(q) in the attention): measured wrong, so the dynamo exporter writes the file. Raw rows
    score through Predictor, as lists and as a DataFrame, as the library's own model computes."""
    model, path, rows, data = ft_transformer
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    kind = "string" if isinstance(rows[0][-1], str) else "int64"
    assert [(i.name, i.type) for i in session.get_inputs()] == [
        ("x_cont", "tensor(float)"),
        ("x_cat", f"tensor({kind})"),
    ]
    predictor = Predictor.from_path(path)
    assert predictor.manifest["exporter"]["onnx_exporter"] == "dynamo"
    assert predictor.manifest["inputs"] == [
        {"name": "x_cont", "type": "float32", "features": NAMES},
        {"name": "x_cat", "type": kind, "features": ["color", "size"]},
    ]
    expected = _ft_expected(model, table)
    np.testing.assert_allclose(probabilities(predictor, rows), expected, rtol=0, atol=ATOL)
    frame = pd.DataFrame(rows, columns=[*NAMES, "color", "size"])
    np.testing.assert_allclose(probabilities(predictor, frame), expected, rtol=0, atol=ATOL)
    np.testing.assert_allclose(probabilities(predictor, frame[::-1]), expected[::-1], rtol=0, atol=ATOL)


@pytest.mark.slow
def test_rtdl_ft_transformer_without_torch(ft_transformer, table):
    """The device's path: no torch, no onnx; both engines score the raw rows as the library does."""
    model, path, rows, _ = ft_transformer
    done = subprocess.run(
        [sys.executable, "-c", _DEVICE, str(path), json.dumps(rows)],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    for engine, got in json.loads(done.stdout).items():
        np.testing.assert_allclose(np.float32(got), _ft_expected(model, table), rtol=0, atol=ATOL, err_msg=engine)


@pytest.mark.slow
def test_rtdl_ft_transformer_refuses_an_unknown_category(ft_transformer):
    """Size 44 (or 'XXL') has no embedding: the caller's InputError naming it, and under keep-going that row alone."""
    _, path, rows, _ = ft_transformer
    predictor = Predictor.from_path(path)
    unknown = "XXL" if isinstance(rows[0][-1], str) else 44
    with pytest.raises(InputError) as info:
        predictor.predict_proba([rows[0], [*rows[1][:-1], unknown]])
    assert (info.value.row, info.value.col) == (1, 5)
    assert str(info.value).startswith(f"sample 1, size: {unknown!r} is not a known category; expected one of ")
    table, errors = predictor.score_rows([rows[0], [*rows[1][:-1], unknown], rows[2]])
    assert list(errors) == [1] and len(table["probability"]) == 2


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
