"""edge_predict.trainer.export: users' own torch modules, three tasks; the runtime computes what torch computes."""

import subprocess
import sys

import copy

import numpy as np
import pytest
import torch
from torch import nn

from edge_predict import ModelError, Predictor
from edge_predict.cli import cli
from edge_predict.trainer import ExportError, export

ATOL = 1e-6  # probabilities (parity.py); regression values are checked with the manifest's atol + rtol * |value|
K = 4


class BatchNormMLP(nn.Module):
    """ReLU MLP with BatchNorm1d and Dropout: both must run in eval mode in the graph."""

    def __init__(self, classes=3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(K, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, classes)
        )

    def forward(self, x):
        return self.net(x)


class LayerNormNet(nn.Module):
    def __init__(self, outputs=1):
        super().__init__()
        self.a, self.norm, self.b = nn.Linear(K, 8), nn.LayerNorm(8), nn.Linear(8, outputs)

    def forward(self, x):
        return self.b(torch.tanh(self.norm(self.a(x))))


class Residual(nn.Module):
    def __init__(self, outputs=1):
        super().__init__()
        self.inp, self.out = nn.Linear(K, 8), nn.Linear(8, outputs)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 8))

    def forward(self, x):
        h = self.inp(x)
        return self.out(h + self.block(h))


class WhereClamp(nn.Module):
    """Leaky clipping written with torch.where and torch.clamp, probabilities out."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(K, 1)

    def forward(self, x):
        x = torch.clamp(x, -3.0, 3.0)
        return torch.sigmoid(self.linear(torch.where(x > 0, x, 0.1 * x)))


def fitted(module, loss, x, y, steps=150):
    """`module` trained briefly with Adam on (x, y), returned in eval mode."""
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny models: threads only add contention
    optimizer = torch.optim.Adam(module.parameters(), lr=0.02)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(module(x), y).backward()
        optimizer.step()
    return module.eval()


@pytest.fixture(scope="module")
def data():
    """Four features in [-2, 2]; a 3-class, a binary and a real-valued target that depend on them."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, (300, K)).astype(np.float32)
    score = x @ np.float32([1.0, -2.0, 0.5, 1.5])
    classes = np.digitize(score, [-1.0, 1.0])
    value = 50 + 10 * score + 3 * x[:, 0] ** 2
    return x, classes, (score > 0).astype(np.float32), value.astype(np.float32)


@pytest.fixture(scope="module")
def cases(data):
    """(name, module, export options, the probabilities or values torch computes for rows x)."""
    torch.manual_seed(0)
    x, classes, positive, value = data
    tx = torch.from_numpy(x)
    ce, bce, mse = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss(), nn.MSELoss()
    labels = ["low", "mid", "high"]
    softmax, sigmoid = (lambda m: lambda v: torch.softmax(m(v), dim=1)), (lambda m: lambda v: torch.sigmoid(m(v)))
    bn = fitted(BatchNormMLP(), ce, tx, torch.from_numpy(classes))
    res = fitted(Residual(), bce, tx, torch.from_numpy(positive).reshape(-1, 1))
    ln = fitted(LayerNormNet(), lambda out, y: mse(out * 10 + 50, y), tx, torch.from_numpy(value).reshape(-1, 1))
    ln_real = nn.Sequential(ln, nn.Linear(1, 1)).eval()
    with torch.no_grad():
        ln_real[1].weight.fill_(10.0), ln_real[1].bias.fill_(50.0)
    where = fitted(WhereClamp(), nn.BCELoss(), tx, torch.from_numpy(positive).reshape(-1, 1))
    seq = fitted(
        nn.Sequential(nn.Linear(K, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1)),
        lambda p, y: nn.functional.nll_loss(torch.log(p), y),
        tx,
        torch.from_numpy(classes),
    )
    return {
        "batchnorm-dropout-mlp (CrossEntropy, logits)": (
            bn,
            dict(task="multiclass", labels=labels, outputs="logits"),
            softmax(bn),
        ),
        "residual (BCEWithLogits, logits)": (
            res,
            dict(task="binary", labels=["no", "yes"], outputs="logits"),
            sigmoid(res),
        ),
        "layernorm (MSE, regression)": (ln_real, dict(task="regression", targets=["value"]), ln_real),
        "where-clamp (probabilities)": (where, dict(task="binary"), where),
        "sequential with softmax (probabilities)": (seq, dict(task="multiclass", labels=labels), seq),
    }


NAMES = [
    "batchnorm-dropout-mlp (CrossEntropy, logits)",
    "residual (BCEWithLogits, logits)",
    "layernorm (MSE, regression)",
    "where-clamp (probabilities)",
    "sequential with softmax (probabilities)",
]


def float64_reference(module, options, rows):
    """What `module` computes for `rows` in float64: the exact answer both float32 engines approximate."""
    exact = copy.deepcopy(module).double()
    with torch.no_grad():
        out = exact(torch.from_numpy(rows.astype(np.float64)))
    if options.get("outputs") == "logits":
        out = torch.sigmoid(out) if options["task"] == "binary" else torch.softmax(out, dim=1)
    return out.numpy()


def assert_as_close_as_torch(got, torch32, exact):
    """onnxruntime within ATOL of torch's float32 answer, or at most twice as far from the exact answer as torch's
    own float32 answer is (ATOL added): far outside the training range, float32 kernels (onnxruntime's Erf on some
    CPUs) differ by a few ulps of large intermediate values, and neither engine is the wrong one there."""
    allowed = ATOL + 2 * np.abs(torch32 - exact)
    off = np.abs(got - torch32) > ATOL
    assert (np.abs(got - exact)[off] <= allowed[off]).all(), (
        f"{off.sum()} rows beyond atol {ATOL:g} of torch and further from the float64 answer than torch's float32: "
        f"largest {np.abs(got - exact)[off].max():.3g}"
    )


@pytest.mark.parametrize("name", NAMES)
def test_runtime_computes_what_torch_computes(cases, data, tmp_path, name):
    module, options, reference = cases[name]
    x = data[0]
    path = tmp_path / "m.onnx"
    export(module, path, feature_names=["a", "b", "c", "d"], x_train=x, **options)
    predictor = Predictor.from_path(path)
    wide = np.random.default_rng(1).uniform(-4, 4, (500, K)).astype(np.float32)
    for rows in (x, wide):
        with torch.no_grad():
            expected = reference(torch.from_numpy(rows)).numpy()
        if options["task"] == "regression":
            golden = predictor.manifest["golden"]
            got = predictor.predict(rows).reshape(-1, 1)
            assert (np.abs(got - expected) <= golden["atol"] + golden["rtol"] * np.abs(expected)).all()
        elif options["task"] == "binary":
            got = predictor.predict_proba(rows)[:, 1]
            exact = float64_reference(module, options, rows)[:, 0]
            assert_as_close_as_torch(got, expected[:, 0], exact)
        else:
            assert_as_close_as_torch(predictor.predict_proba(rows), expected, float64_reference(module, options, rows))
            assert predictor.predict(rows).tolist() == [options["labels"][i] for i in expected.argmax(axis=1)]


def test_the_trained_models_learned(cases, data):
    x, classes, positive, value = data
    with torch.no_grad():
        tx = torch.from_numpy(x)
        assert (cases[NAMES[0]][2](tx).numpy().argmax(axis=1) == classes).mean() > 0.9
        assert ((cases[NAMES[1]][2](tx).numpy()[:, 0] >= 0.5) == positive).mean() > 0.9
        assert np.sqrt(np.mean((cases[NAMES[2]][2](tx).numpy()[:, 0] - value) ** 2)) < 0.5 * value.std()


def test_x_train_and_golden_inputs_given_as_dataframes_are_read_by_column_name(tmp_path):
    """A DataFrame in another column order was read by position: each feature's 'observed' range (shown by info as
    'trained on') and the golden grid came from another feature's column."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"y": [0, 1, 0], "b": [100.0, 150.0, 200.0], "a": [0.0, 0.5, 1.0]})
    path = tmp_path / "m.onnx"
    export(nn.Linear(2, 1).eval(), path, feature_names=["a", "b"], task="regression", x_train=frame)
    manifest = Predictor.from_path(path).manifest
    assert [f["observed"] for f in manifest["features"]] == [[0, 1], [100, 200]]
    assert manifest["golden"]["inputs"][:3] == [[0, 100], [0.5, 150], [1, 200]]
    export(nn.Linear(2, 1).eval(), path, feature_names=["a", "b"], task="regression", golden_inputs=frame[["b", "a"]])
    assert Predictor.from_path(path).manifest["golden"]["inputs"] == [[0, 100], [0.5, 150], [1, 200]]
    with pytest.raises(ExportError, match=r"^x_train: X has no column 'a' \(it has extra columns 'y'\)"):
        export(nn.Linear(2, 1).eval(), path, feature_names=["a", "b"], task="regression", x_train=frame[["y", "b"]])


def test_golden_training_rows_spread_over_the_training_range(tmp_path):
    """Of 100 distinct rows the 16 kept span them all; the first 16 in sorted order were 0..15 of 0..99: the golden
    vectors then probed one corner of the data."""
    x = np.stack([np.arange(100), np.arange(100)[::-1]], axis=1).astype(np.float32)
    export(nn.Linear(2, 1).eval(), tmp_path / "m.onnx", feature_names=["a", "b"], task="regression", x_train=x)
    golden = np.array(Predictor.from_path(tmp_path / "m.onnx").manifest["golden"]["inputs"])
    kept = golden[:16, 0]
    assert len(golden) == 16 + 3 and kept.min() == 0 and kept.max() == 99 and len(set(kept)) == 16


def test_default_golden_inputs_are_training_rows_and_the_domains_ends_and_middle(cases, tmp_path):
    module, options, _ = cases[NAMES[3]]
    x = np.float32([[0.5, 1, 1, 1], [1, 2, 2, 2], [9, 2, 2, 2]])
    domain = {"a": (0, 8), "b": {"min": -1}}  # c, d unbounded; a training row outside the domain is left out
    export(module, tmp_path / "m.onnx", feature_names=["a", "b", "c", "d"], x_train=x, domain=domain, **options)
    golden = Predictor.from_path(tmp_path / "m.onnx").manifest["golden"]["inputs"]
    assert golden == [[0.5, 1, 1, 1], [1, 2, 2, 2], [0, -1, 1, 1], [4, 0.5, 1.5, 1.5], [8, 2, 2, 2]]


class Branching(nn.Module):
    """Takes one branch for the whole batch: a sample's answer depends on the batch it is scored in."""

    def __init__(self):
        super().__init__()
        self.linear = constant(K, 0.5)

    def forward(self, x):
        if x.sum() > 0:  # the trace would keep one branch for every input
            return torch.sigmoid(self.linear(x))
        return torch.sigmoid(-self.linear(x))


def constant(k: int, value: float) -> nn.Module:
    """A linear layer that returns `value` for every input (a random one may return numbers within [0, 1])."""
    layer = nn.Linear(k, 1).eval()
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.fill_(value)
    return layer


class LogOfInput(nn.Module):
    def forward(self, x):
        return torch.log(x[:, :1])


@pytest.mark.parametrize(
    "module, options, message",
    [
        (
            Branching().eval(),
            {},
            "the module computes [0.6224592924118042, 0.3775406777858734] for golden input 0 [0.0, 0.0, 0.0, 0.0] "
            "scored alone, but [",
        ),
        (
            nn.Linear(K, 3).eval(),
            {},
            "the module returns float32 tensor of shape (3, 3) for 3 rows; a binary model returns (batch, 1) or "
            "(batch,): P(labels[1]) or its logit, or (batch, 2): both classes' probabilities or logits",
        ),
        (
            nn.Linear(K, 2).eval(),
            dict(task="multiclass", labels=["a", "b", "c"], outputs="logits"),
            "the module returns float32 tensor of shape (3, 2) for 3 rows; a multiclass model returns (batch, 3): one "
            "column per label",
        ),
        (
            LogOfInput().eval(),
            dict(task="regression"),
            "the module computes [-inf] for golden input [0.0, 0.0, 0.0, 0.0]: not finite",
        ),
        (
            BatchNormMLP(3).train(),
            dict(task="multiclass", labels=["a", "b", "c"], outputs="logits"),
            "the module is in training mode (the module, net, net.0): Dropout and BatchNorm would compute differently; "
            "call module.eval() before export",
        ),
        (constant(K, 5.0), {}, "outputs='probabilities', but the module's outputs are not probabilities"),
        (nn.Linear(K, 3).eval(), dict(task="multiclass"), "a multiclass model needs labels"),
        (
            nn.Linear(K, 3).eval(),
            dict(task="multiclass", labels=["a", "a\0", "b"]),
            "labels ['a', 'a\\x00', 'b']: expected at least 3 distinct, non-empty strings without NUL characters",
        ),
        (nn.Linear(K, 1).eval(), dict(task="regression", labels=["a"]), "a regression model has targets, not labels"),
        (nn.Linear(K, 1).eval(), dict(threshold=float("nan")), "threshold nan: expected a number in [0, 1]"),
        (
            nn.Linear(K, 1).eval(),
            dict(task="regression", targets=["d"]),
            "feature 'd' has the name of an output column; rename the feature or the targets",
        ),
        (
            nn.Sequential(nn.Linear(K, 3), nn.Softmax(dim=1)).eval(),
            dict(
                task="multiclass", labels=["x", "y", "c"], outputs="probabilities", feature_names=["a", "b", "p_c", "d"]
            ),
            "feature 'p_c' has the name of an output column; rename the feature or the labels",
        ),
        (
            nn.Linear(K, 1).eval(),
            dict(task="regression", golden_inputs=[[0, 0, 0, 11]], domain={"d": (0, 10)}),
            "golden input row 0 has feature 3 = 11, outside the domain [0.0, 10.0]; the runtime would refuse it",
        ),
    ],
)
def test_what_cannot_be_exported_is_an_export_error_and_nothing_is_written(tmp_path, module, options, message):
    golden = options.pop("golden_inputs", np.float32([[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]))
    names = options.pop("feature_names", ["a", "b", "c", "d"])
    with pytest.raises(ExportError) as info:
        export(module, tmp_path / "m.onnx", feature_names=names, golden_inputs=golden, **options)
    assert str(info.value).startswith(message)
    assert list(tmp_path.iterdir()) == []


def test_a_branch_the_trace_kept_is_measured_and_names_the_line(tmp_path):
    """Every golden row and batch takes the same branch; the golden rows negated take the other, and the graph does not."""
    with pytest.raises(
        ExportError,
        match=r"^the exported graph computes .* for input .*, but torch computes .*; the tracer flagged "
        r".*test_export_api\.py:\d+: Converting a tensor to a Python boolean",
    ):
        export(Branching().eval(), tmp_path / "m.onnx", feature_names=list("abcd"), golden_inputs=np.ones((2, K)))


def test_importing_the_trainer_package_does_not_import_torch():
    code = "import sys, edge_predict.trainer, edge_predict.trainer.cli; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "False\n"


@pytest.mark.parametrize("names", [["1", "2"], ["_a", "_b"], ["2nd", "3rd"], ["nan", "inf"], [" 1", "-2"]])
def test_feature_names_edge_predict_would_not_know_as_a_header_are_refused(tmp_path, names):
    """edge-predict reads a CSV line as a header only if a field starts with a letter and is not a number: it would
    read a header '2,1' naming these features as a row of data, then the columns in model order."""
    with pytest.raises(ExportError) as info:
        export(nn.Linear(2, 1).eval(), tmp_path / "m.onnx", feature_names=names, task="regression")
    assert str(info.value) == (
        f"feature_names {names!r}: no name starts with a letter (and is not a number), so edge-predict would not "
        "know a CSV header naming them from a row of data (and read '2,1' as one, the columns in model order); "
        "start a name with a letter, e.g. 'x1'"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("names", [["1", "b"], ["_a", "x"], ["nan", "NaNa"]])
def test_one_name_starting_with_a_letter_makes_a_header(tmp_path, cli_runner, names):
    export(nn.Linear(2, 1).eval(), tmp_path / "m.onnx", feature_names=names, task="regression")
    result = cli_runner.invoke(
        cli, ["predict", "-m", str(tmp_path / "m.onnx"), "-i", "-", "-f", "csv"], input=f"{names[1]},{names[0]}\n1,2\n"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("2,1,")  # read by name: the columns back in model order


class Sine(nn.Module):
    """Sin is outside the operators the runtime runs (runtime/model/operators.py)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(2, 1)

    def forward(self, x):
        return self.linear(torch.sin(x))


def test_an_operator_outside_the_runtimes_set_is_named_with_the_option_that_allows_it(tmp_path):
    with pytest.raises(ExportError) as info:
        export(Sine().eval(), tmp_path / "m.onnx", feature_names=["a", "b"], outputs="logits")
    assert str(info.value).startswith("the exported graph uses operators outside the set edge-predict runs (Sin; ")
    assert "pass allow_ops=['Sin'] if your devices allow them" in str(info.value)
    assert not (tmp_path / "m.onnx").exists()


def test_allowed_operators_export_and_score_where_the_device_allows_them(tmp_path):
    module, x = Sine().eval(), np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    data = export(module, tmp_path / "m.onnx", feature_names=["a", "b"], outputs="logits", allow_ops=["Sin"])
    with torch.no_grad():
        expected = torch.sigmoid(module(torch.from_numpy(x))).numpy()[:, 0]
    got = Predictor.from_bytes(data, allow_ops=["Sin"]).predict_proba(x)[:, 1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    with pytest.raises(ModelError, match=r"outside the set edge-predict runs \(Sin\)"):
        Predictor.from_bytes(data)
