"""Export a trained model to one ONNX file that carries its manifest and golden vectors."""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx
import torch

from edge_predict import Predictor, __version__, sigfiles, signing
from edge_predict.atomicfile import write_atomic
from edge_predict.errors import EdgePredictError, VerificationError
from edge_predict.integrity import seal
from edge_predict.manifest import FORMAT_VERSION, METADATA_KEY, shortest_float32

OPSET = 17
# torch and onnxruntime use different sigmoid kernels that differ in the last bits of a float32;
# measured on the default model the largest difference is ~1.8e-7, so 1e-6 leaves margin and still
# catches any real divergence (a wrong weight moves probabilities by far more).
PARITY_ATOL = 1e-6


class ExportError(EdgePredictError):
    """The export failed a check; nothing was written."""


def golden_inputs(x_train: np.ndarray) -> np.ndarray:
    """Inputs whose torch outputs go into the manifest: the training rows plus edge cases."""
    rows = np.unique(np.asarray(x_train, np.float32), axis=0)[:16]
    k = rows.shape[1]
    extra = np.array([[0.0], [0.5], [2.5], [100.0], [-1.0]], np.float32) * np.ones((1, k), np.float32)
    return np.concatenate([rows, extra]).astype(np.float32)


def to_onnx(model: torch.nn.Module, n_features: int, input_name: str, output_name: str,
            opset: int = OPSET) -> onnx.ModelProto:
    """Trace `model` with the TorchScript exporter: small Gemm+Sigmoid graph, dynamic batch."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy-exporter deprecation notice is expected
        torch.onnx.export(
            model, (torch.zeros(1, n_features),), buffer, dynamo=False, opset_version=opset,
            input_names=[input_name], output_names=[output_name],
            dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
        )
    return onnx.load_from_string(buffer.getvalue())


def export_model(model: torch.nn.Module, path: str | os.PathLike, *, feature_names: Sequence[str],
                 training: dict[str, Any], golden_x: np.ndarray, threshold: float = 0.5,
                 labels: Sequence[str] = ("fail", "pass"), domain: Sequence[dict] | None = None,
                 observed: np.ndarray | None = None, opset: int = OPSET, atol: float = PARITY_ATOL,
                 sign_key: str | os.PathLike | bytes | None = None) -> bytes:
    """Export, check with onnx and onnxruntime against torch, then write `path` atomically.

    With `sign_key` (a private key's PEM path or bytes) PATH.sig is written too, replaced together with the
    model so that a reader never accepts a new model with an old signature or the reverse (sigfiles.py).

    `domain` (per feature {"min", "max"}) is what the runtime refuses values outside of; `observed`
    (the training rows) only records the range each feature had in training, for people to read.
    """
    model.eval()
    golden_x = np.asarray(golden_x, np.float32)
    with torch.no_grad():
        expected = model(torch.from_numpy(golden_x)).numpy().reshape(-1)
    manifest = {
        "format": FORMAT_VERSION,
        "task": "binary",
        "features": feature_entries(feature_names, domain, observed),
        "threshold": threshold,
        "labels": list(labels),
        "training": training,
        "versions": {"edge_predict": __version__, "torch": torch.__version__.split("+")[0],
                     "onnx": onnx.__version__, "opset": opset},
        "golden": {
            "inputs": [[shortest_float32(v) for v in row] for row in golden_x],
            "outputs": [[shortest_float32(p)] for p in expected],
            "atol": atol,
        },
    }
    try:  # NaN or inf would be written as bare NaN/Infinity: not JSON, and no reader agrees on it
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ExportError(f"the manifest holds a value that is not a finite number ({exc}); nothing was written") \
            from None
    proto = to_onnx(model, len(feature_names), "features" if len(feature_names) > 1 else feature_names[0],
                    "probability", opset)
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, text
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"the exported graph is not valid ONNX: {exc}") from exc
    data = seal(proto.SerializeToString())  # the integrity digest: any byte changed later is refused
    try:
        Predictor.from_bytes(data, source="<export>")  # scores the golden vectors with onnxruntime
    except VerificationError as exc:
        raise ExportError(
            f"onnxruntime disagrees with torch on the golden vectors: largest difference {exc.difference:.3g} "
            f"> {atol:g}; nothing was written. With large unscaled features the two sum in float32 in "
            "different orders: train with --standardize, or accept the difference with --atol"
        ) from None
    sig = None if sign_key is None else signing.sign(data, signing.read_key(sign_key, "signing key"), Path(path).name)
    try:
        if sig is None:
            write_atomic(Path(path), data)
        else:
            sigfiles.write_signed(path, data, sig)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return data


def feature_entries(names: Sequence[str], domain: Sequence[dict] | None,
                    observed: np.ndarray | None) -> list[dict[str, Any]]:
    """The manifest's features: name, domain bounds (None: unbounded) and, if known, the training range."""
    domain = domain or [{} for _ in names]
    entries = [{"name": n, "min": d.get("min"), "max": d.get("max")} for n, d in zip(names, domain)]
    if observed is not None:
        x = np.asarray(observed, np.float32)
        for entry, lo, hi in zip(entries, x.min(axis=0), x.max(axis=0)):
            entry["observed"] = [shortest_float32(lo), shortest_float32(hi)]
    return entries
