"""Metrics and baselines per task, checked against figures worked out by hand in the test."""

import math

import numpy as np
import pytest

from edge_predict.trainer.metrics import baseline, evaluate, learned, macro_f1


def column(values):
    return np.float32(values).reshape(-1, 1)


@pytest.mark.parametrize(
    "y_fit, y, threshold, accuracy, log_loss, f1",
    [
        # p = 0.5 >= 0.5: always the positive label; F1 = 2/3 for it, 0 for the other
        ([0, 0, 1, 1], [0, 0, 1, 1], 0.5, 0.5, math.log(2), (2 / 3 + 0) / 2),
        ([0, 0, 0, 1], [0, 0, 0, 1], 0.5, 0.75, -(3 * math.log(0.75) + math.log(0.25)) / 4, (6 / 7 + 0) / 2),
        ([0, 0, 0, 1], [1, 1], 0.2, 1.0, -math.log(0.25), 1.0),  # validation rows scored with the training frequency
    ],
)
def test_binary_baseline_answers_the_training_frequency(y_fit, y, threshold, accuracy, log_loss, f1):
    bar = baseline("binary", column(y_fit), column(y), 1, threshold)
    assert bar == {
        "accuracy": accuracy,
        "log_loss": pytest.approx(log_loss, abs=1e-6),
        "macro_f1": pytest.approx(f1, abs=1e-6),
    }


def test_multiclass_baseline_answers_the_class_frequencies():
    y = column([0, 0, 0, 1, 2, 2])  # frequencies 1/2, 1/6, 1/3: always class 0
    bar = baseline("multiclass", y, y, 3)
    log_loss = -(3 * math.log(1 / 2) + math.log(1 / 6) + 2 * math.log(1 / 3)) / 6
    # class 0: TP 3, FP 3, FN 0 -> F1 = 6 / 9; classes 1 and 2 never predicted -> 0
    assert bar == {"accuracy": 0.5, "log_loss": pytest.approx(log_loss, abs=1e-6), "macro_f1": pytest.approx(2 / 9)}


def test_regression_baseline_answers_the_training_mean():
    bar = baseline("regression", column([1, 2, 3, 6]), column([0, 4]), 1)  # always 3
    assert bar == {"rmse": pytest.approx(math.sqrt((9 + 1) / 2)), "mae": 2.0, "r2": pytest.approx(1 - 10 / 8)}


def test_multiclass_metrics():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]])
    y = column([0, 1, 2, 2])  # predicted 0, 1, 1, 2
    scores = evaluate("multiclass", p, y)
    log_loss = -(math.log(0.7) + math.log(0.8) + math.log(0.3) + math.log(0.6)) / 4
    f1 = (1 + 2 / 3 + 2 / 3) / 3  # class 1: TP 1, FP 1; class 2: TP 1, FN 1
    assert scores == {"accuracy": 0.75, "log_loss": pytest.approx(log_loss, abs=1e-6), "macro_f1": pytest.approx(f1)}


def test_regression_metrics():
    scores = evaluate("regression", column([2.5, 0.0, 2.0, 8.0]), column([3.0, -0.5, 2.0, 7.0]))
    sse, sst = 0.25 + 0.25 + 0 + 1, sum((v - 2.875) ** 2 for v in (3.0, -0.5, 2.0, 7.0))
    assert scores == {
        "rmse": pytest.approx(math.sqrt(sse / 4), abs=1e-6),
        "mae": 0.5,
        "r2": pytest.approx(1 - sse / sst, abs=1e-6),
    }


def test_macro_f1_averages_over_classes_seen_in_truth_or_prediction():
    assert macro_f1(np.array([0, 0, 1]), np.array([0, 2, 1])) == pytest.approx((2 / 3 + 1 + 0) / 3)


@pytest.mark.parametrize(
    "task, model, beats",
    [
        ("binary", {"accuracy": 0.75, "log_loss": 0.69}, True),
        ("binary", {"accuracy": 0.75, "log_loss": 0.7}, False),  # the loss is the baseline's: nothing learned
        ("multiclass", {"accuracy": 0.5, "log_loss": 0.6}, True),  # as accurate as the baseline, better calibrated
        ("multiclass", {"accuracy": 0.25, "log_loss": 0.6}, False),  # below the majority rate
        ("regression", {"rmse": 0.99}, True),
        ("regression", {"rmse": 1.0}, False),
    ],
)
def test_learned_needs_a_lower_loss_and_no_lower_accuracy(task, model, beats):
    bar = {"rmse": 1.0} if task == "regression" else {"accuracy": 0.5, "log_loss": 0.7}
    assert learned(task, model, bar) is beats
