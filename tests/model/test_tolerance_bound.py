"""The golden tolerance has an upper bound for new files: 1% of the outputs' scale (plus 1e-6), or the check proves
nothing. Files written before the bound keep loading."""

import numpy as np
import pytest

from helpers import handmade
from edge_predict import Predictor
from edge_predict.model.golden import too_loose
from edge_predict.trainer import ExportError
from edge_predict.trainer.cli import cli as train_cli
from edge_predict.trainer.exporter import PARITY_ATOL, REGRESSION_RTOL
from helpers.parity import export_plain, logistic

REGRESSION_OUT = [[0.0], [5.0], [-10.0]]  # scale 10: the bound is 1e-6 + 0.1


def regression(atol, rtol=None) -> bytes:
    doc = handmade.manifest("regression", [("x", None, None)], [[0.0], [5.0], [-10.0]], REGRESSION_OUT, atol, rtol)
    return handmade.model(doc)


@pytest.mark.parametrize(
    "data",
    [
        lambda: handmade.identity(atol=0.5),
        lambda: handmade.identity(atol=1e-6, rtol=0.5),
        lambda: regression(1.0),
        lambda: regression(1e-6, 0.02),
    ],
    ids=["binary atol", "binary rtol", "regression atol", "regression rtol"],
)
def test_a_file_with_a_looser_tolerance_keeps_loading(data):
    """Exporters wrote any tolerance before the bound: such files on devices keep working (and keep verifying);
    only new ones are refused, by the exporter and edge-train."""
    predictor = Predictor.from_bytes(data())
    assert predictor.verify() <= predictor.manifest["golden"]["atol"]


@pytest.mark.parametrize(
    "task, outputs, atol, rtol, loose",
    [
        ("binary", [[0.25]], 0.010001, 0.0, False),  # 1e-6 + 1% of 1: the bound itself
        ("binary", [[0.25]], 0.010002, 0.0, True),
        ("multiclass", [[0.25, 0.75]], 1e-6, 0.0101, True),  # rtol x |expected| at the scale 1
        ("regression", REGRESSION_OUT, 0.050001, 0.005, False),  # 0.050001 + 0.005 x 10: the bound at the scale 10
        ("regression", REGRESSION_OUT, 0.05, 0.0051, True),
        ("regression", REGRESSION_OUT, 0.1001, 0.0, True),
        ("regression", [[0.0], [0.0]], 1e-6, 0.5, False),  # rtol x 0 at every golden output adds nothing
    ],
)
def test_the_bound_is_atol_plus_rtol_times_the_scale_within_one_percent_of_it(task, outputs, atol, rtol, loose):
    """The runtime loads any tolerance (above), so the bound is the exporter's: too_loose decides it."""
    assert (too_loose(task, outputs, atol, rtol) is not None) == loose


@pytest.mark.parametrize("scale", [0.0, 1e-3, 1.0, 334.965, 1e6, 3e38])
def test_the_exporters_default_tolerance_is_within_the_bound(scale):
    """What edge-train and export() write by default keeps loading: 1e-6 (+ 1e-5 x scale, rtol 1e-5)."""
    assert too_loose("binary", [[scale]], PARITY_ATOL, 0.0) is None
    assert too_loose("regression", [[scale]], PARITY_ATOL + REGRESSION_RTOL * scale, REGRESSION_RTOL) is None


def test_the_packaged_model_is_within_the_bound():
    golden = Predictor.default().manifest["golden"]
    assert too_loose("binary", [], golden["atol"], golden.get("rtol", 0)) is None


def test_export_refuses_a_loose_atol_and_writes_nothing(tmp_path):
    with pytest.raises(ExportError) as info:
        export_plain(logistic(np.ones(2, np.float32), 0.0), tmp_path / "m.onnx", 2, [[0, 0], [1, 1]], atol=0.5)
    assert str(info.value) == (
        "atol 0.5 passes differences up to 0.5 on probabilities, more than 1% of their scale (0.010001): a check "
        "that loose passes almost any model; nothing was written. Pass a smaller atol: torch and onnxruntime differ "
        "that much only on large unscaled features, so standardize them in the module"
    )
    assert list(tmp_path.iterdir()) == []


def test_edge_train_refuses_a_loose_atol_before_training(cli_runner, tmp_path):
    result = cli_runner.invoke(train_cli, ["--atol", "0.5", "--out", str(tmp_path / "m.onnx")])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "edge-train: error: --atol 0.5 passes differences up to 0.5 on probabilities, more than 1% of their scale "
        "(0.010001): a check that loose passes almost any model; keep --atol small (default 1e-6): differences that "
        "large come from large unscaled features, which --standardize removes (see 'edge-train --help')\n"
    )
    assert list(tmp_path.iterdir()) == []
