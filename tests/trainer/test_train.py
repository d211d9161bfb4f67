"""The trainer reproduces the lecture (1 hour fails, 7 hours pass, same seed same model) and beats the baseline."""

import math

import numpy as np
import pytest
import torch

from helpers import torch_proba
from edge_predict.trainer.data import lecture_data, lecture_table
from edge_predict.trainer.metrics import learned
from edge_predict.trainer.run import measured
from edge_predict.trainer.train import TrainConfig, train


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
    assert not torch.equal(lecture[0].network.linear.weight, other.network.linear.weight)


def test_final_loss_is_the_log_loss_of_the_trained_model_on_all_training_rows(lecture):
    result, x, y = lecture
    p = torch_proba(result.model, x).astype(np.float64)
    t = y.reshape(-1)
    assert result.final_loss == pytest.approx(-np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)), abs=1e-6)
    assert result.final_loss < result.losses[-1]  # measured after the last step, not before it


def test_the_lecture_model_beats_the_baseline(lecture):
    result, x, y = lecture
    fitted = measured(lecture_table(), result)
    assert fitted.metrics["train"] == {
        "accuracy": 0.75,
        "log_loss": pytest.approx(0.491867, abs=1e-6),
        "macro_f1": pytest.approx(0.733333, abs=1e-6),
    }
    assert fitted.baseline["train"] == {
        "accuracy": 0.5,
        "log_loss": pytest.approx(math.log(2), abs=1e-6),
        "macro_f1": pytest.approx(1 / 3, abs=1e-6),
    }
    assert learned("binary", fitted.metrics["train"], fitted.baseline["train"])
