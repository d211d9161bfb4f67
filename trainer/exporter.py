"""export(): any torch module to one self-verifying ONNX file (manifest format 3), checked before it is written."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
import torch

from edge_predict import __version__

from edge_predict.signing import files as sigfiles

from edge_predict import signing
from edge_predict.atomicfile import write_atomic
from edge_predict.model.integrity import seal
from edge_predict.model.manifest import FORMAT_VERSION, METADATA_KEY, TASKS
from edge_predict.tables.grammar import SPACE, names_a_column
from edge_predict.float32 import shortest_float32
from edge_predict.model.golden import too_loose

from .checks import verify_export
from .golden import checked_inputs, default_inputs, domain_bounds, forward, torch_outputs
from .graph import OPSET, BinaryPair, ExportError, check_activation, in_training_mode, output_module, to_onnx

# Probabilities: torch's and onnxruntime's float32 sigmoid/softmax kernels differ in the last bits (measured
# at most 1.8e-7 on sigmoids); 1e-6 leaves margin and a wrong weight moves far more. Regression values differ by
# float32 rounding of the sums behind them, so by up to a few ulps of the largest value, also where a value near 0
# comes out of cancellation: atol = 1e-6 + 1e-5 * max |golden output| and rtol = 1e-5 (figures: docs/training.md).
PARITY_ATOL = 1e-6
REGRESSION_RTOL = 1e-5
OUTPUT_NAMES = {"binary": "probabilities", "multiclass": "probabilities", "regression": "value"}


def export(
    module: torch.nn.Module,
    path: str | os.PathLike,
    *,
    feature_names: Sequence[str],
    task: str = "binary",
    labels: Sequence[str] | None = None,
    outputs: str | None = None,
    targets: Sequence[str] | None = None,
    threshold: float = 0.5,
    domain: Any = None,
    golden_inputs: Any = None,
    x_train: Any = None,
    training: dict[str, Any] | None = None,
    opset: int = OPSET,
    atol: float | None = None,
    rtol: float | None = None,
    sign_key: str | os.PathLike | bytes | None = None,
    model_name: str | None = None,
    model_version: int | None = None,
    exporter: str = "export()",
) -> bytes:
    """Export `module`, a float32 (batch, k) -> (batch, width) map, to `path`; return the file's bytes.

    task "binary": width 1, P(labels[1]) (labels default ("0", "1")); "multiclass": width len(labels), class
    probabilities; "regression": width len(targets) (default ["value"]). outputs "probabilities" (default for
    classifiers) or "logits": then sigmoid / softmax is appended inside the graph. `domain` is what the runtime
    refuses values outside of (None, per-feature {"min", "max"} or (min, max), or a dict by name). Golden
    inputs default to distinct rows of `x_train` plus each feature's low end, middle and high end. Every check
    (arguments, eval mode, tracing, output width, finite outputs, onnx checker, onnxruntime against torch on the
    golden inputs, then each golden input scored alone by torch and onnxruntime as in the batch) runs before anything
    is written; a failure is an ExportError and `path` is untouched.
    With `sign_key` (a private key's PEM path or bytes) PATH.sig is written too, replaced together with the
    model (signing/files.py). `model_name` (default: the file's stem) and `model_version` (a whole number, larger
    for a newer export; default $SOURCE_DATE_EPOCH, else the time in seconds) are what a device that checks
    signatures compares to refuse a rollback (docs/signing.md).
    """
    identity = _identity(model_name, model_version, path)
    names = _feature_names(feature_names)
    task, outputs, labels, targets = _outputs(task, outputs, labels, targets)
    added = {"probability", "label"} if task == "binary" else {"label", *(f"p_{n}" for n in labels or ())}
    if clash := sorted((set(targets) if targets else added) & set(names)):  # the runtime would refuse the manifest
        other = "targets" if targets else "labels"
        raise ExportError(f"feature {clash[0]!r} has the name of an output column; rename the feature or the {other}")
    if task == "binary" and not (isinstance(threshold, (int, float)) and 0 <= threshold <= 1):
        raise ExportError(f"threshold {threshold!r}: expected a number in [0, 1]")
    left_on = in_training_mode(module)
    if left_on:
        raise ExportError(
            f"the module is in training mode ({', '.join(n or 'the module' for n in left_on[:3])}): "
            "Dropout and BatchNorm would compute differently; call module.eval() before export"
        )
    bounds = domain_bounds(domain, names)
    observed = None if x_train is None else checked_inputs(x_train, [(None, None)] * len(names), names, "x_train")
    golden = default_inputs(bounds, observed) if golden_inputs is None else checked_inputs(golden_inputs, bounds, names)
    graph_module = output_module(module, task, outputs)
    width = 1 if task == "binary" else len(labels or targets)
    expected = torch_outputs(graph_module, golden, task, outputs, width)
    check_activation(module, golden, task, outputs)
    if task == "binary":  # the graph emits [1 - p, p] itself (format 3): nothing is built per call on the device
        graph_module = BinaryPair(graph_module).eval()
        expected = forward(graph_module, golden)
    if atol is None:  # regression: float32 rounding scales with the size of the values computed, not each value
        atol = PARITY_ATOL + (REGRESSION_RTOL * float(np.abs(expected).max()) if task == "regression" else 0.0)
    rtol = (REGRESSION_RTOL if task == "regression" else 0.0) if rtol is None else rtol
    if not (np.isfinite([atol, rtol]).all() and atol > 0 and rtol >= 0):
        raise ExportError(f"atol {atol!r} and rtol {rtol!r}: expected atol > 0 and rtol >= 0, finite")
    if loose := too_loose(task, expected, atol, rtol):  # a check that loose would prove nothing on the device
        raise ExportError(
            f"{loose}; nothing was written. Pass a smaller atol: torch and onnxruntime differ that much only on large "
            "unscaled features, so standardize them (edge-train --standardize)"
        )
    input_name = "features" if len(names) > 1 else names[0]
    output_name = OUTPUT_NAMES[task] if task != "regression" or len(targets) == 1 else "values"
    manifest = {
        "format": FORMAT_VERSION,
        "task": task,
        "model": identity,
        "exporter": {"name": exporter, "edge_predict": __version__, "onnx_exporter": "torchscript"},
        "features": _feature_entries(names, bounds, observed),
        "inputs": [{"name": input_name, "type": "float32", "features": list(names)}],
        "output": output_name,
        **({"labels": list(labels)} if labels else {"targets": list(targets)}),
        **({"threshold": threshold} if task == "binary" else {}),
        "training": training or {},
        "versions": {
            "edge_predict": __version__,
            "torch": torch.__version__.split("+")[0],
            "onnx": onnx.__version__,
            "opset": opset,
        },
        "golden": {
            "inputs": [[shortest_float32(v) for v in row] for row in golden],
            "outputs": [[shortest_float32(v) for v in row] for row in expected],
            "atol": atol,
            "rtol": rtol,
            "engines": ["onnxruntime"],
        },
    }
    try:  # NaN or inf would be written as bare NaN/Infinity: not JSON, and no reader agrees on it
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ExportError(
            f"the manifest holds a value that is not a finite number ({exc}); nothing was written"
        ) from None
    proto = to_onnx(graph_module, torch.from_numpy(golden), input_name, output_name, opset)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, text
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"the exported graph is not valid ONNX: {exc}") from exc
    data = seal(proto.SerializeToString())  # the integrity digest: any byte changed later is refused
    verify_export(data, lambda x: forward(graph_module, x), golden, expected, atol, rtol)
    sig = (
        None
        if sign_key is None
        else signing.sign(data, signing.read_key(sign_key, "signing key"), os.path.basename(path))
    )
    try:
        write_atomic(path, data) if sig is None else sigfiles.write_signed(path, data, sig)
    except OSError as exc:
        raise ExportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None
    return data


def _identity(name: str | None, version: int | None, path: str | os.PathLike) -> dict[str, Any]:
    """The manifest's model name and version, checked, with their defaults."""
    name = Path(path).stem if name is None else name
    if not (isinstance(name, str) and name and "\0" not in name):
        raise ExportError(f"model_name {name!r}: expected a non-empty string without NUL characters")
    if version is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
        version = int(epoch) if epoch.isdigit() else int(time.time())
    if type(version) is not int or version < 0:
        raise ExportError(f"model_version {version!r}: expected a whole number >= 0 (larger for a newer export)")
    return {"name": name, "version": version}


def _feature_names(names: Sequence[str]) -> list[str]:
    names = list(names) if not isinstance(names, str) else [names]
    if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise ExportError(f"feature_names {names!r}: expected one distinct, non-empty name per input column")
    if not any(names_a_column(n.strip(SPACE)) for n in names):  # edge-predict's header rule (docs/input.md)
        raise ExportError(
            f"feature_names {names!r}: no name starts with a letter (and is not a number), so edge-predict would not "
            "know a CSV header naming them from a row of data (and read '2,1' as one, the columns in model order); "
            "start a name with a letter, e.g. 'x1'"
        )
    return names


def _outputs(task, outputs, labels, targets):
    """(task, outputs, labels, targets) checked, with their defaults."""
    if task not in TASKS:
        raise ExportError(f"task {task!r}: expected one of {', '.join(TASKS)}")
    if task == "regression":
        if outputs not in (None, "values") or labels is not None:
            raise ExportError("a regression model has targets, not labels or outputs='probabilities'/'logits'")
        targets = list(targets) if targets is not None else ["value"]
        _distinct(targets, "targets", 1)
        return task, "values", None, targets
    if targets is not None:
        raise ExportError(f"targets name regression outputs; a {task} model has labels")
    outputs = outputs or "probabilities"
    if outputs not in ("probabilities", "logits"):
        raise ExportError(f"outputs {outputs!r}: expected 'probabilities' or 'logits'")
    labels = list(labels) if labels is not None else (["0", "1"] if task == "binary" else None)
    if labels is None:
        raise ExportError("a multiclass model needs labels: the class names, in output order")
    _distinct(labels, "labels", 2 if task == "binary" else 3, exact=task == "binary")
    return task, outputs, labels, None


def _distinct(names, what, least, exact=False):
    if (
        not all(isinstance(n, str) and n and "\0" not in n for n in names)  # numpy drops trailing NULs: a == a\0
        or len(set(names)) != len(names)
        or len(names) < least
        or (exact and len(names) != least)
    ):
        count = f"exactly {least}" if exact else f"at least {least}"
        raise ExportError(f"{what} {names!r}: expected {count} distinct, non-empty strings without NUL characters")


def _feature_entries(names, bounds, observed) -> list[dict[str, Any]]:
    """The manifest's features: name, domain bounds (None: unbounded) and, if known, the training range."""
    entries = [
        {"name": n, "type": "number", "min": lo, "max": hi, "missing": "refuse"} for n, (lo, hi) in zip(names, bounds)
    ]
    if observed is not None:
        for entry, lo, hi in zip(entries, observed.min(axis=0), observed.max(axis=0)):
            entry["observed"] = [shortest_float32(lo), shortest_float32(hi)]
    return entries
