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


def label_names(ctx, param, value: str | None) -> tuple[str, str] | None:
    """'no,yes' -> ('no', 'yes'): the names printed for label 0 and label 1."""
    names = None if value is None else tuple(n.strip() for n in value.split(","))
    if names is not None and (len(names) != 2 or not all(names) or names[0] == names[1]):
        raise click.BadParameter(f"{value!r} is not two different names such as no,yes")
    return names


def column_list(ctx, param, values: tuple[str, ...]) -> tuple[str, ...]:
    """--drop id --drop 3 or --drop id,3 -> ('id', '3'): columns named by header or number from 1."""
    columns = tuple(c.strip() for value in values for c in value.split(","))
    if not all(columns):
        raise click.BadParameter(f"{','.join(values)!r} has an empty column name; give names or numbers such as "
                                 "id,3")
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
