"""Every figure `evaluate` reports equals scikit-learn's on random data: numpy computes, sklearn checks."""

from __future__ import annotations

import numpy as np
import pytest

from edge_predict import InputError, Predictor
from edge_predict.errors import UnknownLabelError
from edge_predict.scoring import metrics

sk = pytest.importorskip("sklearn.metrics")
TOL = dict(rtol=1e-12, atol=1e-12)


def random_case(seed: int, classes: int, n: int, ties: bool, absent: int | None):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct scores: many ties within and across the classes
        weights = rng.integers(1, 4, size=(n, classes)).astype(np.float64)
        proba = weights / weights.sum(axis=1, keepdims=True)
    else:
        proba = rng.dirichlet(np.ones(classes), size=n)
    choices = [c for c in range(classes) if c != absent]
    truth = rng.choice(choices, size=n)
    return proba, truth, proba.argmax(axis=1)


CASES = [
    pytest.param(2, False, None, id="binary"),
    pytest.param(2, True, None, id="binary-ties"),
    pytest.param(4, False, None, id="multiclass"),
    pytest.param(4, True, None, id="multiclass-ties"),
    pytest.param(4, False, 2, id="multiclass-class-absent-from-truth"),
    pytest.param(3, True, 0, id="multiclass-ties-class-absent"),
]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("classes, ties, absent", CASES)
def test_classifier_metrics_equal_sklearns(seed, classes, ties, absent):
    proba, truth, predicted = random_case(seed, classes, 300, ties, absent)
    got = metrics.classification(proba, truth, predicted)
    labels = list(range(classes))
    np.testing.assert_allclose(got["accuracy"], sk.accuracy_score(truth, predicted), **TOL)
    np.testing.assert_allclose(got["log_loss"], sk.log_loss(truth, np.clip(proba, 1e-7, 1), labels=labels), **TOL)
    np.testing.assert_allclose(got["macro_f1"], sk.f1_score(truth, predicted, average="macro"), **TOL)
    assert got["confusion_matrix"] == sk.confusion_matrix(truth, predicted, labels=labels).tolist()
    if classes == 2:
        expected = sk.roc_auc_score(truth, proba[:, 1])
    else:  # one-vs-rest, the macro mean over the classes the truth holds (sklearn refuses an absent class)
        present = sorted(set(truth.tolist()))
        expected = np.mean([sk.roc_auc_score(truth == c, proba[:, c]) for c in present])
        if absent is None:
            np.testing.assert_allclose(expected, sk.roc_auc_score(truth, proba, multi_class="ovr"), **TOL)
    np.testing.assert_allclose(got["roc_auc"], expected, **TOL)


def test_roc_auc_of_one_class_is_none():
    assert metrics.roc_auc(np.array([0.1, 0.9]), np.array([True, True])) is None
    proba = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    assert metrics.classification(proba, np.array([2, 2]), np.array([2, 2]))["roc_auc"] is None


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("targets", [1, 3])
def test_regression_metrics_equal_sklearns(seed, targets):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(200, targets))
    values = truth + rng.normal(scale=0.5, size=truth.shape)
    got = metrics.regression(values, truth, [f"t{i}" for i in range(targets)])
    np.testing.assert_allclose(got["r2"], sk.r2_score(truth, values), **TOL)
    np.testing.assert_allclose(got["mae"], sk.mean_absolute_error(truth, values), **TOL)
    np.testing.assert_allclose(got["rmse"], sk.root_mean_squared_error(truth, values), **TOL)
    if targets > 1:
        for i in range(targets):
            np.testing.assert_allclose(got["targets"][f"t{i}"]["r2"], sk.r2_score(truth[:, i], values[:, i]), **TOL)


@pytest.mark.parametrize("exact", [True, False])
def test_r2_of_a_constant_truth_is_sklearns(exact):
    truth = np.full((4, 1), 2.0)
    values = truth if exact else truth + 1
    assert metrics.regression(values, truth, ["y"])["r2"] == sk.r2_score(truth, values) == (1.0 if exact else 0.0)


def test_predictor_evaluate_of_the_default_model_equals_sklearn():
    predictor = Predictor.default()
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 10, (500, 1))
    y = rng.choice(["fail", "pass"], 500)
    report = predictor.evaluate(x, y)
    p = predictor.predict_proba(x).astype(np.float64)
    assert report["task"] == "binary" and report["rows"] == 500
    m = report["metrics"]
    np.testing.assert_allclose(m["accuracy"], sk.accuracy_score(y, predictor.predict(x)), **TOL)
    np.testing.assert_allclose(m["roc_auc"], sk.roc_auc_score(y == "pass", p[:, 1]), **TOL)
    np.testing.assert_allclose(
        m["log_loss"], sk.log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=["fail", "pass"]), **TOL
    )
    assert report["training"]["accuracy"] == {"train": 0.75}  # the manifest's training record


def test_unknown_labels_are_named():
    with pytest.raises(UnknownLabelError) as caught:
        Predictor.default().evaluate(np.array([[1.0], [2.0], [3.0]]), ["pass", "maybe", "0"])
    assert str(caught.value) == (
        "the truth holds values that are not the model's labels: '0', 'maybe'; the model's labels: fail, pass"
    )
    assert caught.value.values == ("0", "maybe") and isinstance(caught.value, InputError)


def test_truth_of_the_wrong_length_is_refused():
    with pytest.raises(InputError, match=r"^the truth has shape \(1,\), but there are 2 samples"):
        Predictor.default().evaluate(np.array([[1.0], [2.0]]), ["pass"])
