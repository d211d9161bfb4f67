"""The export's checks that each sample is answered on its own: by the module, and by the graph onnxruntime runs."""

from __future__ import annotations

import numpy as np

from edge_predict import Predictor
from edge_predict.errors import InputError, ModelError, VerificationError

from .graph import ExportError


def alone_as_in_batch(
    outputs_of, golden: np.ndarray, expected: np.ndarray, atol: float, rtol: float, what: str
) -> None:
    """ExportError unless `outputs_of` gives each golden input alone what the whole batch gave it (`expected`).

    A module or graph whose answer for a sample depends on the other samples scored with it (x.mean(0), softmax over
    dim 0, a size the trace kept) passes a check on one batch, then answers each row by what the device reads with it.
    """
    alone = np.concatenate([_alone(outputs_of, golden[i : i + 1], expected.shape[1]) for i in range(len(golden))])
    bound = atol + rtol * np.abs(expected.astype(np.float64))
    outside = ~(np.abs(alone.astype(np.float64) - expected) <= bound)  # NaN alone is outside too
    if outside.any():
        i = int(np.flatnonzero(outside.any(axis=1))[0])
        raise ExportError(
            f"{what} computes {alone[i].tolist()} for golden input {i} {golden[i].tolist()} scored alone, but "
            f"{expected[i].tolist()} within the batch of all {len(golden)} (bound {atol:g}"
            f"{f' + {rtol:g} x |value|' if rtol else ''}): its output for a sample depends on the other samples scored "
            "with it (a statistic over dim 0 such as x.mean(0), softmax(dim=0), a batch size kept by the trace), so the "
            "device's answers would depend on which rows it reads together; compute each sample from its own features. "
            "If the difference is float32 rounding of large unscaled features, train with --standardize or accept it "
            "with --atol. Nothing was written"
        )


def _alone(outputs_of, row: np.ndarray, width: int) -> np.ndarray:
    """outputs_of(row) as one float32 row; NaN where it is not one row of `width` or the runtime refuses it."""
    try:
        out = np.asarray(outputs_of(row), np.float32)
    except (InputError, ModelError, RuntimeError):  # NaN or inf computed, another shape, or torch refuses one row
        out = np.empty(0, np.float32)
    return out.reshape(1, width) if out.size == width else np.full((1, width), np.nan, np.float32)


def verify_export(data: bytes, module_outputs, golden: np.ndarray, expected: np.ndarray, atol: float, rtol: float):
    """onnxruntime scores the golden inputs as the runtime does when it loads the file; then the module and the graph
    score each alone as in the batch (module_outputs: what the module computes for rows). ExportError otherwise."""
    try:
        predictor = Predictor.from_bytes(data, source="<export>")  # verifies the golden vectors with onnxruntime
    except VerificationError as exc:
        if exc.batch_sizes is not None:  # the graph answers by the batch: say which part does, as below
            predictor = Predictor.from_bytes(data, source="<export>", verify=False)
            alone_as_in_batch(module_outputs, golden, expected, atol, rtol, "the module")
            alone_as_in_batch(lambda x: raw_outputs(predictor, x), golden, expected, atol, rtol, "the exported graph")
            raise ExportError(f"{exc}; nothing was written") from None
        raise ExportError(
            f"onnxruntime disagrees with torch on the golden vectors: largest difference {exc.difference:.3g} "
            f"> {atol:g}; nothing was written. Large unscaled features (the two sum in float32 in different "
            "orders) or a normalization over a few nearly equal values (a LayerNorm of 2 units) do that: train with "
            "--standardize, or accept the difference with --atol (at most 1% of the outputs' scale)"
        ) from None
    alone_as_in_batch(module_outputs, golden, expected, atol, rtol, "the module")
    alone_as_in_batch(lambda x: raw_outputs(predictor, x), golden, expected, atol, rtol, "the exported graph")


def raw_outputs(predictor: Predictor, x: np.ndarray) -> np.ndarray:
    """The graph's output rows for `x`: the class probabilities (binary: [1 - p, p]), or the values."""
    if predictor.task == "regression":
        return predictor.predict(x).reshape(len(x), -1)
    return predictor.predict_proba(x)
