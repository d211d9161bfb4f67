"""The trainer reproduces the lecture (1 hour fails, 7 hours pass, same seed same model) and beats the baseline."""

import math

import numpy as np
import pytest
import torch

from conftest import torch_proba
from edge_predict.trainer.data import lecture_data, lecture_table
from edge_predict.trainer.run import learned, measured
from edge_predict.trainer.train import TrainConfig, baseline, train


def test_default_model_fails_1h_and_passes_7h(lecture):
    result, _, _ = lecture
    p1, p7 = torch_proba(result.model, [[1.0], [7.0]])
    assert p1 < 0.5 < p7


def test_loss_decreases_over_training(lecture):
    result, _, _ = lecture
    assert len(result.losses) == 1000
    assert result.losses[-1] < result.losses[0]


def test_same_seed_gives_identical_weights(lecture):
    again = train(*lecture_data(), TrainConfig())
    for a, b in zip(lecture[0].model.parameters(), again.model.parameters()):
        assert torch.equal(a, b)


def test_other_seed_gives_other_weights(lecture):
    other = train(*lecture_data(), TrainConfig(seed=1))
    assert not torch.equal(lecture[0].model.linear.weight, other.model.linear.weight)


def test_final_loss_is_the_log_loss_of_the_trained_model_on_all_training_rows(lecture):
    result, x, y = lecture
    p = torch_proba(result.model, x).astype(np.float64)
    t = y.reshape(-1)
    assert result.final_loss == pytest.approx(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)), abs=1e-6)
    assert result.final_loss < result.losses[-1]  # measured after the last step, not before it


@pytest.mark.parametrize("y_fit, y, threshold, accuracy, log_loss", [
    ([0, 0, 1, 1], [0, 0, 1, 1], 0.5, 0.5, math.log(2)),  # p = 0.5 >= 0.5: always the positive label
    ([0, 0, 0, 1], [0, 0, 0, 1], 0.5, 0.75, -(3 * math.log(0.75) + math.log(0.25)) / 4),
    ([0, 0, 0, 1], [1, 1], 0.2, 1.0, -math.log(0.25)),  # validation rows scored with the training frequency
])
def test_baseline_answers_the_training_frequency(y_fit, y, threshold, accuracy, log_loss):
    bar = baseline(np.float32(y_fit).reshape(-1, 1), np.float32(y).reshape(-1, 1), threshold)
    assert bar == {"accuracy": accuracy, "log_loss": pytest.approx(log_loss, abs=1e-6)}


def test_the_lecture_model_beats_the_baseline(lecture):
    result, x, y = lecture
    fitted = measured(lecture_table(), result)
    assert fitted.metrics["train"] == {"accuracy": 0.75, "log_loss": pytest.approx(0.491867, abs=1e-6)}
    assert fitted.baseline["train"] == {"accuracy": 0.5, "log_loss": pytest.approx(math.log(2), abs=1e-6)}
    assert learned(fitted)


@pytest.mark.parametrize("metrics, beats", [
    ({"accuracy": 0.75, "log_loss": 0.69}, True),
    ({"accuracy": 0.75, "log_loss": 0.7}, False),  # the loss is the baseline's: nothing learned
    ({"accuracy": 0.5, "log_loss": 0.6}, True),  # as accurate as the baseline, better calibrated
    ({"accuracy": 0.25, "log_loss": 0.6}, False),  # below the majority rate
])
def test_learned_needs_a_lower_loss_and_no_lower_accuracy(lecture, metrics, beats):
    fitted = measured(lecture_table(), lecture[0])
    fitted.baseline["train"] = {"accuracy": 0.5, "log_loss": 0.7}
    fitted.metrics["train"] = metrics
    assert learned(fitted) is beats
