"""The export's parity check: large unscaled features need --standardize or a looser, stored atol."""

import numpy as np
import pytest

from edge_predict import Predictor
from edge_predict.trainer import ExportError
from helpers.parity import export_plain, logistic


@pytest.fixture(scope="module")
def large_unscaled():
    """8 features near 100 with rows on the decision boundary, where float32 summation order shows."""
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, 8).astype(np.float32)
    X = rng.uniform(50, 150, (8, 8)).astype(np.float32)
    X[:, 0] = -(X[:, 1:] @ w[1:]) / w[0]
    return logistic(w, 0.0), X


def test_default_atol_refuses_and_names_the_fix(large_unscaled, tmp_path):
    model, X = large_unscaled
    with pytest.raises(
        ExportError, match=r"largest difference .* > 1e-06; nothing was written\. .*standardize the features .* atol="
    ):
        export_plain(model, tmp_path / "m.onnx", 8, X)
    assert list(tmp_path.iterdir()) == []


def test_looser_atol_is_stored_and_verify_uses_it(large_unscaled, tmp_path):
    model, X = large_unscaled
    export_plain(model, tmp_path / "m.onnx", 8, X, atol=1e-4)
    predictor = Predictor.from_path(tmp_path / "m.onnx")
    assert predictor.manifest["golden"]["atol"] == 1e-4
    assert 1e-6 < predictor.verify() <= 1e-4
