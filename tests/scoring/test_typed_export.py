"""A torch module taking numbers and category codes, exported by export(inputs=..., categories=...), scores raw rows
(text and integer categories) through Predictor as torch scores their codes."""

import numpy as np
import pytest
import torch
from torch import nn

from edge_predict import InputError, Predictor
from edge_predict.trainer import export

NAMES = ["a", "b", "c"]
X = np.random.default_rng(3).normal(size=(30, 3)).astype(np.float32)
ATOL = 1e-6  # torch's and onnxruntime's float32 sigmoid kernels differ in the last bits


class NumbersAndCodes(nn.Module):
    def __init__(self, cardinalities):
        super().__init__()
        torch.manual_seed(0)
        self.embeddings = nn.ModuleList(nn.Embedding(n, 2) for n in cardinalities)
        self.linear = nn.Linear(3 + 2 * len(cardinalities), 1)

    def forward(self, x_num, x_cat):
        embedded = [e(x_cat[:, j]) for j, e in enumerate(self.embeddings)]
        return self.linear(torch.cat([x_num, *embedded], dim=1))


@pytest.mark.parametrize(
    "categories", [{"color": ["red", "green", "blue"], "size": ["S", "M"]}, {"color": [10, 20, 30], "size": [0, 1]}]
)
def test_an_exported_module_scores_raw_rows_as_torch_scores_their_codes(tmp_path, categories):
    module = NumbersAndCodes([3, 2]).eval()
    codes = np.stack([np.arange(30) % 3, (np.arange(30) // 3) % 2], axis=1)
    rows = [[*map(float, x), categories["color"][c], categories["size"][s]] for x, (c, s) in zip(X, codes)]
    data = export(
        module,
        tmp_path / "m.onnx",
        feature_names=[*NAMES, "color", "size"],
        inputs=[NAMES, ["color", "size"]],
        categories=categories,
        outputs="logits",
        x_train=rows,
    )
    predictor = Predictor.from_bytes(data)  # the golden rows, text or codes, verified at load
    with torch.no_grad():
        p = torch.sigmoid(module(torch.from_numpy(X), torch.from_numpy(codes))).numpy()[:, 0]
    np.testing.assert_allclose(predictor.predict_proba(rows)[:, 1], p, rtol=0, atol=ATOL)
    with pytest.raises(InputError) as info:
        predictor.predict(
            [[0.0, 0.0, 0.0, "purple" if isinstance(categories["color"][0], str) else 40, categories["size"][0]]]
        )
    assert (info.value.row, info.value.col) == (0, 3) and info.value.problem.startswith("is not a known category")
