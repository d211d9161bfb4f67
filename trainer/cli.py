"""edge-train: train a model with torch and export it to ONNX (needs the `train` extra)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import click

from edge_predict import __version__
from edge_predict.authoring import OneLineCommand

from .options import train_options
from .params import packaged_model_path, settle, stem

# edge-predict is not on PyPI: the extra is installed from the repository or from the built wheel
TRAIN_EXTRA_HINT = (
    "install the train extra: pip install -e '.[train]' in the repository, "
    f"or pip install 'edge_predict-{__version__}-py3-none-any.whl[train]'"
)


@click.command(name="edge-train", cls=OneLineCommand, context_settings={"help_option_names": ["-h", "--help"]})
@train_options
@click.version_option(package_name="edge-predict", prog_name="edge-train")
def cli(
    data,
    label,
    drop,
    categorical,
    numeric,
    task,
    labels,
    kind,
    hidden,
    activation,
    standardize,
    val_fraction,
    domain,
    epochs,
    lr,
    seed,
    threshold,
    opset,
    atol,
    out,
    report,
    sign_key,
    model_version,
    quiet,
) -> None:
    """Train a classifier or a regression with torch, export it to ONNX, check it with onnxruntime.

    \b
    Examples:
      edge-train                      # the lecture model into models/default.onnx
      edge-train --data diabetes.csv.gz --val-fraction 0.2 --standardize --lr 0.5 --report report/
      edge-train --data iris.csv --model mlp --activation relu --standardize --lr 0.1 --val-fraction 0.2
    """
    try:
        import torch  # noqa: F401  (only here: --help and --version work on a device without torch)
    except ImportError:
        raise click.ClickException(f"torch is not installed; {TRAIN_EXTRA_HINT}") from None
    from .train import TrainConfig

    out = _checked_out(data, out, sign_key, report, label, drop, categorical, numeric, domain, task)
    sign_key, fingerprint = _signing_key(sign_key)
    table, kind, threshold = _table(
        data, label, drop, task, categorical, numeric, domain, kind, labels, threshold, atol
    )
    config = TrainConfig(
        epochs=epochs, lr=lr, seed=seed, model=kind, hidden=hidden, standardize=standardize, activation=activation
    )
    fitted = _trained(table, config, val_fraction, threshold, epochs, quiet)
    opset, model_bytes = _exported(fitted, out, opset, atol, sign_key, model_version, lecture=not data)
    if sign_key is not None:
        click.echo(f"signed with key {fingerprint}: wrote {out}.sig")
    if report is not None:
        _report(report, fitted, model_bytes, data, out, kind=kind, threshold=threshold, opset=opset)


def _checked_out(data, out, sign_key, report, label, drop, categorical, numeric, domain, task) -> Path:
    """Where the model goes; UsageError for options that need --data without it, an --out that would replace an input,
    and --report without matplotlib."""
    from edge_predict.authoring import default_model_path

    needs_data = next(
        (
            name
            for name, given in (
                ("--label", label is not None),
                ("--drop", drop),
                ("--categorical", categorical),
                ("--numeric", numeric),
                ("--domain", domain != "none"),
                ("--task", task != "auto"),
            )
            if given
        ),
        None,
    )
    if data is None and needs_data:
        raise click.UsageError(f"{needs_data} needs --data")
    if report is not None and importlib.util.find_spec("matplotlib") is None:
        raise click.ClickException(f"--report needs matplotlib; {TRAIN_EXTRA_HINT}")
    out = out or (Path(stem(data.name) + ".onnx") if data else packaged_model_path(default_model_path()))
    for option, given in (("--data", data), ("--sign-key", sign_key)):
        if given is not None and out.exists() and given.exists() and out.samefile(given):
            raise click.UsageError(
                f"--out {out} is the {option} file, which the model would replace; choose another --out"
            )
    return out


def _signing_key(path):
    """(the private key, its fingerprint), read now so that a bad key is refused before training; (None, None)."""
    if path is None:
        return None, None
    from edge_predict import signing

    key = signing.read_key(path, "signing key")
    return key, signing.private_key_fingerprint(key)


def _table(data, label, drop, task, categorical, numeric, domain, kind, labels, threshold, atol):
    """(the table to train on, model kind, threshold), with the options that do not fit it refused and, for --data,
    what was read shown."""
    from edge_predict.authoring import too_loose

    from . import summary
    from .data import lecture_table, observed_domain
    from .table import output_columns, read_table

    table = read_table(data, label, drop, task, categorical, numeric) if data else lecture_table()
    if data and domain == "observed":
        table = observed_domain(table)
    kind, threshold = settle(table, kind, labels, threshold)
    if atol is not None and table.task != "regression" and (loose := too_loose(table.task, (), atol, 0.0)):
        raise click.UsageError(  # a regression's bound depends on its outputs: the export checks it
            f"--{loose}; keep --atol small (default 1e-6): differences that large come from large unscaled "
            "features, which --standardize removes"
        )
    if labels is not None:
        table = dataclasses.replace(table, labels=labels)
        clash = [name for name in output_columns(table) if name in table.feature_names]
        if clash:  # the manifest would be refused after training
            raise click.UsageError(
                f"--labels {','.join(labels)} names the output column {clash[0]!r}, which is a feature's name; "
                "choose other --labels or rename the feature"
            )
    if data:
        click.echo(summary.task_line(table, chosen=task == "auto"))
        for line in summary.encoding_lines(table):
            click.echo(line)
    return table, kind, threshold


def _trained(table, config, val_fraction, threshold, epochs, quiet):
    """The fitted model, its progress and metrics shown; ClickException when it learned nothing."""
    from . import summary
    from .run import check_learned, fit

    with summary.progress(epochs, quiet) as on_epoch:
        fitted = fit(table, config, val_fraction=val_fraction, threshold=threshold, on_epoch=on_epoch)
    for line in [*summary.metric_lines(fitted), summary.baseline_line(fitted)]:
        click.echo(line)
    check_learned(fitted)
    return fitted


def _exported(fitted, out, opset, atol, sign_key, model_version, lecture):
    """(opset, the file's bytes) once written to `out`, with its final loss and, for the lecture, its two answers."""
    from edge_predict import Predictor

    from . import summary
    from .graph import OPSET
    from .run import export_fitted

    opset = opset or OPSET
    model_bytes = export_fitted(fitted, out, opset=opset, atol=atol, sign_key=sign_key, model_version=model_version)
    line = summary.loss_line(fitted)
    if lecture:
        p1, p7 = Predictor.from_bytes(model_bytes).predict_proba([1.0, 7.0])[:, 1]
        line += f"; p(pass | 1h) = {p1:.4f}, p(pass | 7h) = {p7:.4f}"
    click.echo(line)
    click.echo(f"wrote {out} ({len(model_bytes)} bytes, opset {opset}, golden vectors verified with onnxruntime)")
    return opset, model_bytes


def _report(report, fitted, model_bytes, data, out, *, kind, threshold, opset):
    """The report into `report`: the options as run (with what was settled: model, threshold, opset), without
    --sign-key; ClickException if it cannot be written (the model was)."""
    from .report import LECTURE_MARKS, write_report

    params = click.get_current_context().params
    options = {k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v for k, v in params.items()}
    options.update(model=kind, threshold=threshold, opset=opset, out=str(out))
    options.pop("kind")
    options.pop("sign_key")  # how the file was signed is not how the model was trained
    try:
        paths = write_report(
            report, fitted, model_bytes, config=options, data_file=data, marks=() if data else LECTURE_MARKS
        )
    except OSError as exc:
        raise click.ClickException(
            f"wrote {out}, but cannot write the report into {report}: {exc.strerror or exc}"
        ) from None
    click.echo("report: " + ", ".join(str(p) for p in paths))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one-line errors, documented exit codes."""
    cli.main(argv, prog_name="edge-train")
