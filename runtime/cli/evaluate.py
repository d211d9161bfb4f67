"""edge-predict evaluate: score a labelled table and print the task's metrics (Predictor.evaluate)."""

from __future__ import annotations

import contextlib
import json

import click

from edge_predict.errors import InputError
from edge_predict.cli.boundary import one_line
from edge_predict.cli.params import (
    engine_option,
    graph_options,
    model_options,
    no_verify_option,
    public_key_option,
    rollback_options,
    threads_option,
)


@click.command()
@click.option(
    "-i", "--input", "input_path", required=True, metavar="FILE", help="A CSV table with a header ('-': stdin)."
)
@click.option(
    "--label",
    "label_columns",
    required=True,
    multiple=True,
    metavar="COL",
    help="The column holding the truth: the model's labels, or a regression target's values (one --label per "
    "target, in the model's target order).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.option(
    "-k",
    "--keep-going",
    is_flag=True,
    help="Leave out rows whose features cannot be scored (each named on stderr); exit 2 after the report.",
)
@model_options
@public_key_option
@rollback_options
@graph_options
@threads_option
@no_verify_option
@engine_option
def evaluate(
    input_path,
    label_columns,
    as_json,
    keep_going,
    model,
    max_model_bytes,
    public_key,
    threads,
    no_verify,
    engine,
    **checks,
) -> None:
    """Score the labelled table in --input and compare with its --label column: accuracy, log loss, ROC AUC,
    macro-F1 and the confusion matrix (classifiers), R², MAE and RMSE (regression), beside the model's training
    record."""
    from edge_predict.cli.commands import load
    from edge_predict.tables.reader import read_batches
    from edge_predict.tables.source import open_input

    predictor = load(
        model, max_model_bytes, public_key=public_key, threads=threads, verify=not no_verify, engine=engine, **checks
    )
    regression = predictor.task == "regression"
    if len(label_columns) != (len(predictor.targets) if regression else 1):
        raise click.UsageError(
            f"give one --label per target ({', '.join(predictor.targets)})"
            if regression
            else "give one --label column for a classifier"
        )
    report = (lambda e: click.echo(f"edge-predict: skipped {one_line(str(e))}", err=True)) if keep_going else None
    with open_input(input_path) as stream:
        batches = read_batches(stream, predictor.feature_names, keep=keep_going)
        with contextlib.closing(batches):
            x, truth, lines, skipped = _labelled_rows(predictor, batches, label_columns, regression, report)
    if not lines:
        raise InputError(f"no row could be scored (skipped {skipped})")
    try:
        result = predictor.evaluate(x, truth)
    except InputError as exc:
        if getattr(exc, "values", None) is not None:  # labels that are not the model's
            raise InputError(f"--label {label_columns[0]}: {exc}") from None
        if exc.row is not None:
            raise InputError(f"line {lines[exc.row]}: {exc.problem or exc}", line=lines[exc.row]) from None
        raise
    result["skipped"] = skipped
    click.echo(json.dumps(result) if as_json else "\n".join(report_lines(result, predictor)))
    if skipped:
        raise InputError(
            f"skipped {skipped} bad row{'s' if skipped > 1 else ''} (each named above); evaluated {len(lines)}"
        )


def _labelled_rows(predictor, batches, label_columns, regression, report):
    """The feature values, truth texts (regression: numbers) and line numbers of every row that can be scored, and
    how many were left out (with --keep-going, each handed to `report`)."""
    import numpy as np

    from edge_predict.tables.grammar import SPACE, parse_number

    k = len(predictor.feature_names)
    xs, truth, lines, skipped, where = [], [], [], 0, None
    for batch in batches:
        if where is None:
            missing = [c for c in label_columns if c not in batch.extra]
            if missing:
                raise click.UsageError(
                    f"--label {missing[0]}: the input has no such column (its other columns: "
                    f"{', '.join(batch.extra) or 'none, or no header'}; its features: {', '.join(predictor.feature_names)})"
                )
            where = [k + batch.extra.index(c) for c in label_columns]
        bad = dict(batch.errors)
        good = [i for i in range(len(batch.lines)) if i not in bad]
        if report is not None and good:
            for error in predictor.input_errors(batch.values[good]):
                bad[good[error.row]] = batch.locate(error, good[error.row])
            good = [i for i in good if i not in bad]
        for row in sorted(bad):
            report(bad[row])
        skipped += len(bad)
        texts = [batch.texts[i] for i in good]
        if regression:
            kept = []
            for i, text in zip(good, texts):
                try:
                    truth.append(
                        [parse_number(text[j], f"{batch.where(i)}, column {c!r}") for j, c in zip(where, label_columns)]
                    )
                except InputError as exc:  # a truth that is not a number: the row is bad, as a bad feature is
                    if report is None:
                        raise
                    report(exc)
                    skipped += 1
                    continue
                kept.append(i)
            good = kept
        else:
            truth.extend(text[where[0]].strip(SPACE) for text in texts)
        xs.append(batch.values[good])
        lines.extend(batch.lines[i] for i in good)
    x = np.concatenate(xs) if xs else np.empty((0, k))
    return x, truth, lines, skipped


def report_lines(result: dict, predictor) -> list[str]:
    """The report as text: one metric a line beside the training record's figures, then the confusion matrix."""
    m, training = result["metrics"], result["training"]
    names = {"accuracy": "accuracy", "log_loss": "log loss", "roc_auc": "ROC AUC", "macro_f1": "macro-F1"}
    names |= {"r2": "R²", "mae": "MAE", "rmse": "RMSE"}
    out = [f"rows: {result['rows']:,} evaluated" + (f", {result['skipped']:,} skipped" if result["skipped"] else "")]
    for key, title in names.items():
        if key not in m:
            continue
        value = "n/a (the truth holds one class)" if m[key] is None else f"{m[key]:.6f}"
        record = training.get(key)
        seen = ", ".join(f"{part} {v:.6f}" for part, v in record.items()) if record else ""
        out.append(f"{title:<10} {value}" + (f"   (training record: {seen})" if seen else ""))
    if "confusion_matrix" in m:
        labels = list(predictor.labels)
        width = max(8, *(len(label) + 2 for label in labels))
        out.append("confusion matrix (rows: truth, columns: predicted):")
        out.append(" " * width + "".join(f"{label:>{width}}" for label in labels))
        for label, counts in zip(labels, m["confusion_matrix"]):
            out.append(f"{label:>{width}}" + "".join(f"{c:>{width},}" for c in counts))
    for target, values in m.get("targets", {}).items():
        out.append(f"{target}: " + ", ".join(f"{names[k]} {v:.6f}" for k, v in values.items()))
    return out
