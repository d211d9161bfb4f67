"""edge-train's options, in --help order: what each one means and its default."""

from __future__ import annotations

from pathlib import Path

import click

from edge_predict.authoring import FiniteFloatRange

from .params import MAX_OPSET, MAX_SEED, column_list, hidden_sizes, label_names

OPTIONS = [
    click.option(
        "--data",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="CSV table to train on (.gz: gzip), header optional. Default: the lecture's 4 students.",
    ),
    click.option(
        "--label",
        metavar="COLUMN",
        default=None,
        help="The column to predict: a header name or a column number from 1. Default: the last column.",
    ),
    click.option(
        "--drop",
        metavar="COLUMN[,COLUMN...]",
        multiple=True,
        callback=column_list,
        help="With --data: columns that are not features (e.g. an ID): header names or numbers from 1.",
    ),
    click.option(
        "--categorical",
        metavar="COLUMN[,COLUMN...]",
        multiple=True,
        callback=column_list,
        help="With --data: integer-coded columns that are categories, not numbers (text columns always are).",
    ),
    click.option(
        "--numeric",
        metavar="COLUMN[,COLUMN...]",
        multiple=True,
        callback=column_list,
        help="With --data: columns read as numbers, a text value refused (by default a column without numbers is "
        "a category).",
    ),
    click.option(
        "--task",
        type=click.Choice(["auto", "binary", "multiclass", "regression"]),
        default="auto",
        show_default=True,
        help="auto: 2 classes -> binary; 3-100 distinct integers or strings -> multiclass; other numbers -> regression.",
    ),
    click.option(
        "--labels",
        metavar="NAMES",
        default=None,
        callback=label_names,
        help="Names for the classes in sorted order, e.g. no,yes. Default: the column's values (fail,pass "
        "for the lecture).",
    ),
    click.option(
        "--model",
        "kind",
        type=click.Choice(["logistic", "linear", "mlp"]),
        default=None,
        help="logistic (classifiers) / linear (regression): one Linear layer; mlp: layers sized by --hidden. "
        "Default: logistic or linear.",
    ),
    click.option(
        "--hidden",
        default="6,4",
        show_default=True,
        callback=hidden_sizes,
        metavar="SIZES",
        help="mlp hidden layer sizes.",
    ),
    click.option(
        "--activation",
        type=click.Choice(["sigmoid", "relu", "tanh"]),
        default="sigmoid",
        show_default=True,
        help="mlp hidden layers' activation.",
    ),
    click.option(
        "--standardize",
        is_flag=True,
        help="Scale features (and a regression target) by the training rows' mean/std, inside the graph.",
    ),
    click.option(
        "--val-fraction",
        type=FiniteFloatRange(0, 1, max_open=True),
        default=0.0,
        show_default=True,
        help="Hold out this fraction of rows (shuffled by --seed) for validation.",
    ),
    click.option(
        "--domain",
        type=click.Choice(["none", "observed"]),
        default="none",
        show_default=True,
        help="With --data: what the runtime refuses. none: only NaN/inf; observed: values outside the table's range.",
    ),
    click.option("--epochs", type=click.IntRange(min=1), default=1000, show_default=True, help="Full-batch SGD steps."),
    click.option(
        "--lr", type=FiniteFloatRange(min=0, min_open=True), default=0.01, show_default=True, help="SGD learning rate."
    ),
    click.option(
        "--seed",
        type=click.IntRange(0, MAX_SEED),
        default=0,
        show_default=True,
        help="Seeds torch and the split; same seed, same file.",
    ),
    click.option(
        "--threshold",
        type=FiniteFloatRange(0, 1),
        default=None,
        help="Binary: probability at or above which a sample gets the second label. Default: 0.5.",
    ),
    click.option(
        "--opset",
        type=click.IntRange(7, MAX_OPSET),
        default=None,
        help=f"ONNX opset, 7 to {MAX_OPSET} (what torch 2.13 exports; default: 17).",
    ),
    click.option(
        "--atol",
        type=FiniteFloatRange(min=0, min_open=True),
        default=None,
        help="Largest |onnxruntime - torch| accepted on the golden vectors, stored for verify (default 1e-6; "
        "regression also allows 1e-5 of the value). At most 1% of the outputs' scale: 0.01 for classifiers.",
    ),
    click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Where to write the .onnx model (default: the packaged models/default.onnx; with --data, "
        "NAME.onnx in the current directory). Required when edge-predict is installed "
        "(not a source checkout).",
    ),
    click.option(
        "--report",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        metavar="DIR",
        help="Write report.json, loss.png, confusion.png or predicted_vs_actual.png (and fit.png for "
        "one-feature binary models) into DIR.",
    ),
    click.option(
        "--sign-key",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        metavar="PEM",
        help="Also sign the model with this private key (P-256): writes OUT.sig (docs/signing.md).",
    ),
    click.option(
        "--model-version",
        type=click.IntRange(min=0),
        default=None,
        metavar="N",
        help="The model's version, larger for each newer export of the same model: a device that checks signatures "
        "refuses an older one (default: $SOURCE_DATE_EPOCH, else the time in seconds).",
    ),
    click.option("-q", "--quiet", is_flag=True, help="No progress output."),
]


def train_options(command):
    """Every edge-train option, applied so --help lists them in OPTIONS order."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command
