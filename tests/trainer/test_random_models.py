"""Random logistic models of 1 to 16 features, exported by export(): torch, the runtime and numpy agree."""

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st, target
from hypothesis.extra.numpy import arrays

from helpers import examples, torch_proba
from edge_predict import Predictor
from edge_predict.model.golden import MAX_TOLERANCE, TOLERANCE_FLOOR
from helpers.parity import export_plain, gemm_weights, labels_differ_only_near, logistic, sigmoid64, tolerance

F32 = np.float32
finite32 = st.floats(-1.0, 1.0, width=32)


@st.composite
def models(draw):
    """(w, b, X): weights up to 1e4 in size, 1 to 40 samples up to 100 in size, plus boundary samples."""
    k = draw(st.integers(1, 16))
    scale = F32(draw(st.sampled_from([1e-3, 1.0, 30.0, 1e4])))
    w = draw(arrays(F32, k, elements=finite32)) * scale
    b = F32(draw(finite32) * scale)
    X = draw(arrays(F32, (draw(st.integers(1, 40)), k), elements=finite32)) * F32(draw(st.sampled_from([1, 100])))
    j = int(np.argmax(np.abs(w)))
    if w[j] != 0:  # move one feature so each sample sits on the decision boundary, up to float32 rounding
        near = X.copy()
        near[:, j] = 0
        with np.errstate(over="ignore"):  # a tiny w[j] can push the value past float32; dropped below
            near[:, j] = (-(near.astype(np.float64) @ w + b) / w[j]).astype(F32)
        X = np.concatenate([X, near[np.isfinite(near).all(axis=1)]])
    return w, float(b), X


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("random")


@settings(max_examples=examples(100), deadline=None)
@given(case=models())
def test_runtime_torch_and_numpy_agree(workdir, case):
    w, b, X = case
    model = logistic(w, b)
    tol = tolerance(X, w, b)
    golden = X[tol <= TOLERANCE_FLOOR + MAX_TOLERANCE][:8]  # export refuses a looser check (near the boundary of
    assume(len(golden))  # a model with huge weights float32 rounding moves p that much); the rest are scored below
    data = export_plain(model, workdir / "random.onnx", len(w), golden, atol=float(tolerance(golden, w, b).max()))
    w_file, b_file = gemm_weights(data)
    np.testing.assert_array_equal(w_file, w)  # the file holds exactly torch's float32 weights
    assert b_file == b

    predictor = Predictor.from_bytes(data)
    runtime = predictor.predict_proba(X)[:, 1]
    reference = torch_proba(model, X)
    plain = sigmoid64(X.astype(np.float64) @ w_file.astype(np.float64) + b_file)
    target(float(np.max(np.abs(runtime - reference) / tol)), label="|runtime - torch| / tolerance")
    assert (np.abs(runtime.astype(np.float64) - reference) <= tol).all()
    assert (np.abs(runtime - plain) <= tol).all()
    assert (np.abs(reference - plain) <= tol).all()
    assert labels_differ_only_near(0.5, reference, predictor.predict(X) == predictor.classes_[1], tol).size == 0
