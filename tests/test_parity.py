"""onnxruntime, through the runtime, computes what torch computed."""

import numpy as np
import pytest

from conftest import torch_proba
from edge_predict import Predictor

# torch and onnxruntime compute sigmoid with different float32 kernels, which disagree in the last
# bit or two (measured on the default model: ~1.8e-7 at most). 1e-6 is a few ulps of a probability
# near 1 and far below any difference a wrong weight or a wrong graph would make.
ATOL = 1e-6

GRID = np.concatenate([np.linspace(0, 10, 1001), [0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 1e3]]).astype(np.float32)


@pytest.mark.parametrize("inputs", [np.array([1, 2, 3, 4], np.float32), GRID], ids=["training", "grid"])
def test_runtime_matches_torch(lecture, model_path, inputs):
    expected = torch_proba(lecture[0].model, inputs)
    got = Predictor.from_path(model_path).predict_proba(inputs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_labels_match_torch_at_the_threshold(lecture, model_path):
    expected = torch_proba(lecture[0].model, GRID) >= 0.5
    got = Predictor.from_path(model_path).predict(GRID)
    np.testing.assert_array_equal(got, expected.astype(np.int64))


def test_exported_golden_vectors_are_torch_outputs(lecture, model_path):
    golden = Predictor.from_path(model_path).manifest["golden"]
    expected = torch_proba(lecture[0].model, golden["inputs"])
    np.testing.assert_array_equal(np.float32(golden["probabilities"]), expected)
