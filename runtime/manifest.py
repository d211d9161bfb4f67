"""The manifest an edge-predict model carries in its ONNX metadata_props, and its checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ModelError

METADATA_KEY = "edge_predict"
FORMAT_VERSION = 1
F32_MAX = 3.4028234663852886e38  # float32's largest finite value (a literal: numpy stays unimported here)


class _Invalid(Exception):
    """One thing wrong with the manifest, worded for the user."""


@dataclass(frozen=True)
class Manifest:
    """The parts of a model's manifest the runtime relies on; `raw` keeps the whole document."""

    feature_names: tuple[str, ...]
    threshold: float
    labels: tuple[str, str]
    domain: tuple[tuple[float | None, float | None], ...]
    golden_inputs: tuple[tuple[float, ...], ...]
    golden_probabilities: tuple[float, ...]
    golden_atol: float
    raw: Mapping[str, Any]

    @classmethod
    def from_json(cls, text: str | None, source: str) -> "Manifest":
        """Parse and check the manifest JSON found in model `source`: every field anyone reads, typed."""
        if text is None:
            raise ModelError(
                f"{source}: no edge-predict manifest (metadata key {METADATA_KEY!r}); a plain ONNX model has no "
                "golden vectors or feature domains, so it is not scored: export it with edge-train or "
                "edge_predict.trainer.export_model"
            )
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ModelError(f"{source}: the edge-predict manifest is corrupt ({type(exc).__name__}: {exc}); "
                             "re-export the model") from exc
        fmt = raw.get("format") if isinstance(raw, dict) else None
        if _is_int(fmt) and fmt != FORMAT_VERSION:
            raise ModelError(
                f"{source}: manifest format {fmt!r} is not supported (this edge-predict reads "
                f"format {FORMAT_VERSION}); upgrade edge-predict or re-export the model"
            )
        try:
            return _parse(raw)
        except _Invalid as exc:
            raise ModelError(f"{source}: the edge-predict manifest is invalid ({exc}); re-export the model") from None


def _parse(raw: Any) -> Manifest:
    """The Manifest in `raw`, or _Invalid naming the first field that is missing or wrong."""
    _need(isinstance(raw, dict), "not a JSON object")
    _need(_is_int(raw.get("format")), "format is missing or not an integer")
    features = _field(raw, "features", list)
    _need(len(features) > 0, "features is empty")
    names, domain = [], []
    for i, feature in enumerate(features):
        _need(isinstance(feature, dict), f"features[{i}] is not an object")
        name = feature.get("name")
        _need(isinstance(name, str) and name != "", f"features[{i}].name is missing or not a string")
        # The CSV reader maps columns by name: a repeated name would feed both features from one column.
        _need(name not in names, f"feature name {name!r} appears twice")
        lo, hi = (feature.get(key) for key in ("min", "max"))
        for key, bound in (("min", lo), ("max", hi)):
            _need(bound is None or _finite(bound), f"features[{i}].{key} is {bound!r}, expected a finite number or null")
        _need(lo is None or hi is None or lo <= hi, f"features[{i}] has min {lo!r} > max {hi!r}")
        names.append(name)
        domain.append((None if lo is None else float(lo), None if hi is None else float(hi)))
    threshold = raw.get("threshold")
    _need(_finite(threshold) and 0 <= threshold <= 1, f"threshold is {threshold!r}, expected a number in [0, 1]")
    labels = raw.get("labels")
    _need(isinstance(labels, list) and len(labels) == 2 and all(isinstance(v, str) for v in labels)
          and labels[0] != labels[1], f"labels is {labels!r}, expected two different strings")
    _field(raw, "training", dict)
    _field(raw, "versions", dict)
    golden = _field(raw, "golden", dict)
    inputs, probabilities = _field(golden, "inputs", list), _field(golden, "probabilities", list)
    _need(len(inputs) > 0, "golden.inputs is empty")
    for i, row in enumerate(inputs):
        _need(isinstance(row, list) and len(row) == len(names) and all(_finite(v) for v in row),
              f"golden.inputs[{i}] is not a row of {len(names)} finite float32 numbers")
    _need(len(probabilities) == len(inputs),
          f"golden has {len(inputs)} inputs but {len(probabilities)} probabilities")
    _need(all(_finite(p) and 0 <= p <= 1 for p in probabilities), "golden.probabilities are not all in [0, 1]")
    atol = golden.get("atol")
    _need(_finite(atol) and atol > 0, f"golden.atol is {atol!r}, expected a positive number")
    return Manifest(
        feature_names=tuple(names),
        threshold=float(threshold),
        labels=(labels[0], labels[1]),
        domain=tuple(domain),
        golden_inputs=tuple(tuple(float(v) for v in row) for row in inputs),
        golden_probabilities=tuple(float(p) for p in probabilities),
        golden_atol=float(atol),
        raw=raw,
    )


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise _Invalid(what)


def _field(parent: dict, key: str, kind: type) -> Any:
    value = parent.get(key)
    _need(isinstance(value, kind), f"{key} is missing or not {'a list' if kind is list else 'an object'}")
    return value


def _is_int(value: Any) -> bool:
    return type(value) is int  # not bool: JSON's true is no format number


def _finite(value: Any) -> bool:
    """A JSON number (not a boolean) that float32 holds as a finite value."""
    if type(value) not in (int, float):
        return False
    try:
        return abs(float(value)) <= F32_MAX  # also False for NaN
    except OverflowError:  # an integer beyond any float
        return False


def shortest_float32(value: float) -> float:
    """The float whose repr is the shortest decimal that reads back as the same float32."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
