"""The trainer reproduces the lecture: 1 hour fails, 7 hours pass, and the same seed gives the same model."""

import torch

from conftest import torch_proba
from edge_predict.trainer.data import lecture_data
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
    assert not torch.equal(lecture[0].model.linear.weight, other.model.linear.weight)
