"""edge-train: train a model with torch and export it to ONNX (needs the `train` extra)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from edge_predict import __version__
from edge_predict.cli.boundary import OneLineCommand
from edge_predict.cli.params import FiniteFloatRange

# edge-predict is not on PyPI: the extra is installed from the repository or from the built wheel
TRAIN_EXTRA_HINT = ("install the train extra: pip install -e '.[train]' in the repository, "
                    f"or pip install 'edge_predict-{__version__}-py3-none-any.whl[train]'")


# Measured: torch 2.13's TorchScript exporter writes opsets 7 to 23 and fails at 24 ("Unsupported onnx_opset_version")
MAX_OPSET = 23
# torch.manual_seed and numpy's default_rng both take any integer in [0, 2**64 - 1]
MAX_SEED = 2**64 - 1
# In a non-editable install the packaged model lies in here; replacing it would change every edge-predict run
_INSTALL_DIRS = {"site-packages", "dist-packages"}


def _hidden(ctx, param, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise click.BadParameter(f"{value!r} is not a list of layer sizes such as 6,4")
    return sizes


def _labels(ctx, param, value: str | None) -> tuple[str, str] | None:
    names = None if value is None else tuple(n.strip() for n in value.split(","))
    if names is not None and (len(names) != 2 or not all(names) or names[0] == names[1]):
        raise click.BadParameter(f"{value!r} is not two different names such as no,yes")
    return names


@click.command(name="edge-train", cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV table to train on (.gz: gzip), header optional. Default: the lecture's 4 students.")
@click.option("--label", metavar="COLUMN", default=None,
              help="Label column (0/1): a header name or a column number from 1. Default: the last column.")
@click.option("--labels", metavar="NEG,POS", default=None, callback=_labels,
              help="Names printed for label 0 and 1. Default: fail,pass for the lecture, 0,1 with --data.")
@click.option("--model", "kind", type=click.Choice(["logistic", "mlp"]), default="logistic", show_default=True,
              help="logistic: sigmoid(Linear); mlp: Linear+sigmoid layers sized by --hidden.")
@click.option("--hidden", default="6,4", show_default=True, callback=_hidden, metavar="SIZES",
              help="mlp hidden layer sizes.")
@click.option("--standardize", is_flag=True, help="Scale features by the training rows' mean/std, inside the graph.")
@click.option("--val-fraction", type=FiniteFloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Hold out this fraction of rows (shuffled by --seed) for validation.")
@click.option("--domain", type=click.Choice(["none", "observed"]), default="none", show_default=True,
              help="With --data: what the runtime refuses. none: only NaN/inf; observed: values outside the "
                   "table's range.")
@click.option("--epochs", type=click.IntRange(min=1), default=1000, show_default=True, help="Full-batch SGD steps.")
@click.option("--lr", type=FiniteFloatRange(min=0, min_open=True), default=0.01, show_default=True,
              help="SGD learning rate.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seeds torch and the split; same seed, same file.")
@click.option("--threshold", type=FiniteFloatRange(0, 1), default=0.5, show_default=True,
              help="Probability at or above which a sample gets the positive label.")
@click.option("--opset", type=click.IntRange(7, MAX_OPSET), default=None,
              help=f"ONNX opset, 7 to {MAX_OPSET} (what torch 2.13 exports; default: 17).")
@click.option("--atol", type=FiniteFloatRange(min=0, min_open=True), default=1e-6, show_default=True,
              help="Largest |onnxruntime - torch| accepted on the golden vectors (stored; verify uses it).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the .onnx model (default: the packaged models/default.onnx; with --data, "
                   "NAME.onnx in the current directory). Required when edge-predict is installed "
                   "(not a source checkout).")
@click.option("--report", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write loss.png, fit.png (one-feature models) and report.json into DIR.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.version_option(package_name="edge-predict", prog_name="edge-train")
def cli(data, label, labels, kind, hidden, standardize, val_fraction, domain, epochs, lr, seed, threshold, opset,
        atol, out, report, quiet) -> None:
    """Train a classifier with torch, export it to ONNX, check it with onnxruntime.

    \b
    Examples:
      edge-train                      # the lecture model into models/default.onnx
      edge-train --data diabetes.csv.gz --val-fraction 0.2 --standardize --lr 0.5 --report report/
      edge-train --data diabetes.csv.gz --model mlp --hidden 6,4 --standardize --lr 0.5 --epochs 2000
    """
    from edge_predict import Predictor
    from edge_predict.modelfile import default_model_path

    from .data import lecture_table, observed_domain, read_table
    from .export import OPSET
    from .run import export_fitted, fit
    from .train import TrainConfig

    if data is None and (label is not None or domain != "none"):
        raise click.UsageError(f"{'--label' if label is not None else '--domain'} needs --data")
    if report is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException(f"--report needs matplotlib; {TRAIN_EXTRA_HINT}")
    out = out or (Path(_stem(data.name) + ".onnx") if data else _packaged_model_path(default_model_path()))
    table = read_table(data, label) if data else lecture_table()
    if data and domain == "observed":
        table = observed_domain(table)
    if labels is not None:
        table = dataclasses.replace(table, labels=labels)
    config = TrainConfig(epochs=epochs, lr=lr, seed=seed, model=kind, hidden=hidden, standardize=standardize)
    with _progress(epochs, quiet) as on_epoch:
        fitted = fit(table, config, val_fraction=val_fraction, threshold=threshold, on_epoch=on_epoch)
    for part, values in fitted.metrics.items():
        rows = len((fitted.fit if part == "train" else fitted.val).x)
        click.echo(f"{part + ':':<12}{rows} rows, accuracy {values['accuracy']:.4f}, log loss {values['log_loss']:.4f}")
    opset = opset or OPSET
    model_bytes = export_fitted(fitted, out, opset=opset, atol=atol)
    summary = f"final loss {fitted.result.final_loss:.6f}"
    if not data:
        p1, p7 = Predictor.from_bytes(model_bytes).predict_proba([1.0, 7.0])[:, 1]
        summary += f"; p(pass | 1h) = {p1:.4f}, p(pass | 7h) = {p7:.4f}"
    click.echo(summary)
    click.echo(f"wrote {out} ({len(model_bytes)} bytes, opset {opset}, golden vectors verified with onnxruntime)")
    if report is not None:
        from .report import LECTURE_MARKS, write_report

        params = click.get_current_context().params
        options = {k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
                   for k, v in params.items()}
        options.update(model=options.pop("kind"), opset=opset, out=str(out))
        try:
            paths = write_report(report, fitted, model_bytes, config=options, data_file=data,
                                 marks=() if data else LECTURE_MARKS)
        except OSError as exc:
            raise click.ClickException(f"wrote {out}, but cannot write the report into {report}: "
                                       f"{exc.strerror or exc}") from None
        click.echo("report: " + ", ".join(str(p) for p in paths))


def _packaged_model_path(path: Path) -> Path:
    """The packaged model's path in a source checkout; a usage error where it belongs to an installed package."""
    if _INSTALL_DIRS.intersection(path.parts):
        raise click.UsageError("the packaged model is part of the installed edge-predict; pass --out PATH")
    return path


def _stem(name: str) -> str:
    """diabetes.csv.gz -> diabetes: the name of the model trained on it."""
    for suffix in (".gz", ".csv", ".txt"):
        name = name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else name
    return name


@contextmanager
def _progress(epochs: int, quiet: bool):
    """A callback per epoch: click's progress bar on a terminal, a line every tenth of the run otherwise."""
    if quiet:
        yield None
        return
    if sys.stdout.isatty():
        with click.progressbar(length=epochs, label="training", show_pos=True,
                               item_show_func=lambda loss: "" if loss is None else f"loss {loss:.6f}") as bar:
            yield lambda epoch, loss: bar.update(1, loss)
        return
    every = max(1, epochs // 10)

    def line(epoch: int, loss: float) -> None:
        if epoch % every == 0 or epoch == epochs:
            click.echo(f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {loss:.6f}")

    yield line


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, documented exit codes."""
    try:
        import torch  # noqa: F401
    except ImportError:
        click.echo(f"edge-train: error: torch is not installed; {TRAIN_EXTRA_HINT}", err=True)
        sys.exit(1)
    cli.main(argv, prog_name="edge-train")
