"""export refuses a module whose last layer contradicts `outputs`: an activation applied twice, or logits as probabilities.

A binary module ending in Sigmoid, exported as logits, scored every input at P >= 0.5 (sigmoid of a probability), so
every label was labels[1]; a multiclass one ending in Softmax gave flattened probabilities. Both exited 0.
"""

import numpy as np
import pytest
import torch
from torch import nn

from edge_predict import Predictor
from edge_predict.trainer import ExportError, export

X = np.random.default_rng(7).normal(size=(20, 3)).astype(np.float32)
LABELS = {"binary": ["no", "yes"], "multiclass": ["p", "q", "r"]}


class SoftmaxInForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 3)

    def forward(self, x):
        return torch.softmax(self.linear(x), dim=1)


def small_logits(*after: nn.Module) -> nn.Module:
    """Logits within [0, 1] on the golden inputs: they passed as probabilities (0.3 scored as P = 0.3, not 0.574)."""
    layer = nn.Linear(3, 1)
    with torch.no_grad():
        layer.weight.fill_(0.01), layer.bias.fill_(0.3)
    return nn.Sequential(layer, *after)


@pytest.mark.parametrize("after", [(), (nn.Dropout(0.2),), (nn.Identity(), nn.Sequential(nn.Dropout(0.1)))])
def test_a_module_ending_in_linear_is_refused_as_probabilities(tmp_path, after):
    with pytest.raises(ExportError) as info:
        export(small_logits(*after).eval(), tmp_path / "m.onnx", feature_names=list("abc"), x_train=X)
    assert str(info.value) == (
        "outputs='probabilities', but the module ends in Linear, whose outputs are logits, not probabilities (one in "
        "[0, 1] would be scored as a probability); pass outputs='logits', which puts Sigmoid into the graph"
    )
    assert list(tmp_path.iterdir()) == []
    export(small_logits().eval(), tmp_path / "m.onnx", feature_names=list("abc"), x_train=X, outputs="logits")
    p = Predictor.from_path(tmp_path / "m.onnx").predict_proba(np.zeros((1, 3), np.float32))[0, 1]
    assert abs(p - 1 / (1 + np.exp(-0.3))) < 1e-6


@pytest.mark.parametrize(
    "task, module, message",
    [
        (
            "binary",
            nn.Sequential(nn.Linear(3, 1), nn.Sigmoid(), nn.Dropout(0.1)),
            "outputs='logits', but the module ends in Sigmoid: the graph would apply sigmoid twice (a binary model's "
            "probabilities all >= 0.5, so every label labels[1]); pass outputs='probabilities', or export the module "
            "without its last layer",
        ),
        (
            "multiclass",
            nn.Sequential(nn.Sequential(nn.Linear(3, 3)), nn.Sequential(nn.Softmax(dim=1))),
            "outputs='logits', but the module ends in Softmax: the graph would apply softmax twice",
        ),
        (
            "multiclass",
            SoftmaxInForward(),
            "outputs='logits', but the module returns class probabilities (rows in [0, 1] summing to 1) on every golden "
            "input: the graph would apply softmax twice, flattening them; pass outputs='probabilities'",
        ),
    ],
)
def test_an_activation_already_in_the_module_is_refused_with_logits(tmp_path, task, module, message):
    torch.manual_seed(0)
    with pytest.raises(ExportError) as info:
        export(
            module.eval(),
            tmp_path / "m.onnx",
            feature_names=list("abc"),
            task=task,
            labels=LABELS[task],
            outputs="logits",
            x_train=X,
        )
    assert str(info.value).startswith(message)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_the_same_modules_export_as_probabilities_and_score_as_torch(tmp_path, task):
    torch.manual_seed(0)
    width = 1 if task == "binary" else 3
    module = nn.Sequential(nn.Linear(3, width), nn.Sigmoid() if task == "binary" else nn.Softmax(dim=1)).eval()
    export(module, tmp_path / "m.onnx", feature_names=list("abc"), task=task, labels=LABELS[task], x_train=X)
    with torch.no_grad():
        expected = module(torch.from_numpy(X)).numpy()
    proba = Predictor.from_path(tmp_path / "m.onnx").predict_proba(X)
    np.testing.assert_allclose(proba[:, 1:] if task == "binary" else proba, expected, rtol=0, atol=1e-6)
