"""edge-train: train the lecture model and export it to ONNX (needs the `train` extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edge_predict.cli import OneLineCommand


@click.command(name="edge-train", cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--epochs", type=click.IntRange(min=1), default=1000, show_default=True, help="Full-batch SGD steps.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="SGD learning rate.")
@click.option("--seed", type=int, default=0, show_default=True, help="torch.manual_seed; same seed, same file.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Probability at or above which a sample is labelled 'pass'.")
@click.option("--opset", type=click.IntRange(min=7), default=None, help="ONNX opset (default: 17).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the .onnx model (default: the packaged models/default.onnx).")
@click.version_option(package_name="edge-predict", prog_name="edge-train")
def cli(epochs: int, lr: float, seed: int, threshold: float, opset: int | None, out: Path | None) -> None:
    """Train hours studied -> pass with torch, export to ONNX, check it with onnxruntime.

    \b
    Examples:
      edge-train                      # the lecture model into models/default.onnx
      edge-train --seed 1 --out my.onnx
    """
    from edge_predict import Predictor
    from edge_predict.predictor import default_model_path

    from .export import OPSET, export_model, golden_inputs
    from .train import TrainConfig, data_sha256, lecture_data, train

    config = TrainConfig(epochs=epochs, lr=lr, seed=seed)
    x, y = lecture_data()
    every = max(1, epochs // 10)

    def progress(epoch: int, loss: float) -> None:
        if epoch % every == 0:
            click.echo(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {loss:.6f}")

    result = train(x, y, config, on_epoch=progress)
    out = out or default_model_path()
    opset = opset or OPSET
    training = {"model": "logistic", "epochs": epochs, "lr": lr, "seed": seed, "loss": "BCELoss",
                "optimizer": "SGD", "final_loss": result.final_loss, "n_samples": int(len(x)),
                "data_sha256": data_sha256(x, y)}
    data = export_model(result.model, out, feature_names=["hours"], training=training,
                        golden_x=golden_inputs(x), threshold=threshold, domain=[{"min": 0.0}], opset=opset)
    p1, p7 = Predictor.from_bytes(data).predict_proba([1.0, 7.0])
    click.echo(f"final loss {result.final_loss:.6f}; p(pass | 1h) = {p1:.4f}, p(pass | 7h) = {p7:.4f}")
    click.echo(f"wrote {out} ({len(data)} bytes, opset {opset}, golden vectors verified with onnxruntime)")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, documented exit codes."""
    try:
        import torch  # noqa: F401
    except ImportError:
        click.echo("edge-train: error: torch is not installed; install the train extra: "
                   "pip install 'edge-predict[train]'", err=True)
        sys.exit(1)
    cli.main(argv, prog_name="edge-train")
