"""edge-train's option parsing: click callbacks and types, and where the model goes by default."""

from __future__ import annotations

from pathlib import Path

import click

# Measured: torch 2.13's TorchScript exporter writes opsets 7 to 23 and fails at 24 ("Unsupported onnx_opset_version")
MAX_OPSET = 23
# torch.manual_seed and numpy's default_rng both take any integer in [0, 2**64 - 1]
MAX_SEED = 2**64 - 1
# In a non-editable install the packaged model lies in here; replacing it would change every edge-predict run
_INSTALL_DIRS = {"site-packages", "dist-packages"}


def hidden_sizes(ctx, param, value: str) -> tuple[int, ...]:
    """'6,4' -> (6, 4): the mlp's hidden layer sizes."""
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise click.BadParameter(f"{value!r} is not a list of layer sizes such as 6,4")
    return sizes


def label_names(ctx, param, value: str | None) -> tuple[str, ...] | None:
    """'no,yes' -> ('no', 'yes'): the names printed for the classes, in their sorted order."""
    names = None if value is None else tuple(n.strip() for n in value.split(","))
    if names is not None and (len(names) < 2 or not all(names) or len(set(names)) != len(names)):
        raise click.BadParameter(f"{value!r} is not two or more different names such as no,yes")
    return names


def settle(table, kind: str | None, labels: tuple[str, ...] | None, threshold: float | None) -> tuple[str, float]:
    """(model kind, threshold) once the task is known: defaults filled in, options that do not fit refused."""
    regression = table.task == "regression"
    kind = kind or ("linear" if regression else "logistic")
    if kind == "logistic" and regression:
        raise click.UsageError("--model logistic is for classifiers; for a regression use --model linear or mlp")
    if kind == "linear" and not regression:
        raise click.UsageError(
            f"--model linear is for regression; for a {table.task} model use --model logistic or mlp"
        )
    if labels is not None and (regression or len(labels) != len(table.labels)):
        have = (
            "a regression has no classes"
            if regression
            else f"the label column has {len(table.labels)} classes ({','.join(table.labels[:10])})"
        )
        raise click.UsageError(f"--labels gives {len(labels)} names, but {have}")
    if threshold is not None and table.task != "binary":
        raise click.UsageError(f"--threshold applies to binary models; this one is {table.task}")
    return kind, 0.5 if threshold is None else threshold


def column_list(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """--drop id --drop 3 or --drop id,3 -> ('id', '3'): columns named by header or number from 1."""
    columns = tuple(c.strip() for value in values for c in value.split(","))
    if not all(columns):
        raise click.BadParameter(f"{','.join(values)!r} has an empty column name; give names or numbers such as id,3")
    return columns


def packaged_model_path(path: Path) -> Path:
    """The packaged model's path in a source checkout; a usage error where it belongs to an installed package."""
    if _INSTALL_DIRS.intersection(path.parts):
        raise click.UsageError("the packaged model is part of the installed edge-predict; pass --out PATH")
    return path


def stem(name: str) -> str:
    """diabetes.csv.gz -> diabetes: the name of the model trained on it."""
    for suffix in (".gz", ".csv", ".txt"):
        name = name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else name
    return name
