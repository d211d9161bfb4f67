"""The sigmoid's tails: onnxruntime saturates to exactly 0.0 / 1.0 sooner than torch, and that is harmless."""

import numpy as np
import pytest
import torch

from edge_predict import Predictor
from helpers import handmade
from helpers.parity import ATOL, TAIL_END, TAIL_START, export_plain, labels_differ_only_near, logistic

F32 = np.float32


def every_float32(lo: float, hi: float) -> np.ndarray:
    """Every float32 from lo to hi (0 <= lo < hi), in order."""
    return np.arange(F32(lo).view(np.int32), F32(hi).view(np.int32) + 1, dtype=np.int32).view(F32)


# Every float32 logit across the region where onnxruntime starts saturating, both signs, plus a wide sweep.
EDGE = every_float32(TAIL_START - 0.25, TAIL_END + 0.25)
LOGITS = np.concatenate([-EDGE[::-1], np.linspace(-120, 120, 480_001, dtype=F32), EDGE])


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    """sigmoid(1 * z + 0): the runtime's probability for logit z, and torch's."""
    path = tmp_path_factory.mktemp("tails") / "identity.onnx"
    export_plain(logistic(np.ones(1), 0.0), path, 1, [0.0])
    runtime = Predictor.from_path(path).predict_proba(LOGITS)[:, 1]
    with torch.no_grad():
        reference = torch.sigmoid(torch.from_numpy(LOGITS)).numpy()
    return runtime, reference


def test_absolute_difference_stays_within_atol_in_the_tails(identity):
    runtime, reference = identity
    np.testing.assert_allclose(runtime, reference, rtol=0, atol=ATOL)


def test_runtime_is_exactly_0_and_1_from_tail_end_on(identity):
    runtime, _ = identity
    assert (runtime[LOGITS <= -TAIL_END] == 0.0).all()
    assert (runtime[LOGITS >= TAIL_END] == 1.0).all()


def test_runtime_is_never_exactly_0_or_1_before_tail_start(identity):
    runtime, _ = identity
    inner = runtime[np.abs(LOGITS) < TAIL_START]
    assert ((inner > 0.0) & (inner < 1.0)).all()


def test_torch_is_not_0_where_runtime_is_so_relative_error_is_total(identity):
    runtime, reference = identity
    zeros = (runtime == 0.0) & (LOGITS > -80)
    assert zeros.any() and (reference[zeros] > 0).all()


def test_probabilities_never_leave_0_1(identity):
    runtime, _ = identity
    assert runtime.min() >= 0.0 and runtime.max() <= 1.0  # onnxruntime alone gives 1.0000001 near logit 17.5


@pytest.mark.parametrize("threshold", [1e-7, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-7])
def test_tail_labels_differ_only_within_atol_of_threshold(identity, threshold):
    runtime, reference = identity
    labels = (runtime >= threshold).astype(np.int64)
    assert labels_differ_only_near(threshold, reference, labels, ATOL).size == 0


ONE_STEP_ABOVE_1 = float(np.nextafter(F32(1), F32(2)))  # 1.0000001: what onnxruntime's Sigmoid gives near logit 17.5


@pytest.mark.parametrize("n", [1, 64, 65, 1000], ids=lambda n: f"batch {n}")
def test_a_probability_one_step_above_1_is_returned_as_1(n):
    """p = x, no domain: the graph returns 1.0000001 for that input, the runtime 1.0 (small and large batches)."""
    predictor = Predictor.from_bytes(handmade.identity(features=[("p", None, None)]))
    x = np.full(n, 0.25, F32)
    x[n // 2] = ONE_STEP_ABOVE_1
    p = predictor.predict_proba(x)[:, 1]
    expected = np.full(n, 0.25, F32)
    expected[n // 2] = 1.0
    np.testing.assert_array_equal(p, expected)
    np.testing.assert_array_equal(predictor.predict_table(x)["probability"], expected)


def test_a_regression_value_above_1_is_not_clipped():
    doc = handmade.manifest("regression", features=[("x", None, None)])
    x = F32([ONE_STEP_ABOVE_1, 7.5, -2.0])
    np.testing.assert_array_equal(Predictor.from_bytes(handmade.model(doc)).predict(x), x)
