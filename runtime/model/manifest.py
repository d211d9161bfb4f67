"""The manifest an edge-predict model carries in its ONNX metadata_props, and its checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from edge_predict.errors import ModelError
from edge_predict.float32 import F32_MAX

METADATA_KEY = "edge_predict"
FORMAT_VERSION = 2  # what exporters write; format 1 (binary only, models already on devices) is still read
READS = (1, 2)
TASKS = ("binary", "multiclass", "regression")


class _Invalid(Exception):
    """One thing wrong with the manifest, worded for the user."""


@dataclass(frozen=True)
class Manifest:
    """The parts of a model's manifest the runtime relies on; `raw` keeps the whole document."""

    task: str
    feature_names: tuple[str, ...]
    domain: tuple[tuple[float | None, float | None], ...]
    labels: tuple[str, ...]  # classifiers: the classes in output order; () for regression
    targets: tuple[str, ...]  # regression: the output names; () for classifiers
    threshold: float | None  # binary only
    golden_inputs: tuple[tuple[float, ...], ...]
    golden_outputs: tuple[tuple[float, ...], ...]  # the graph's raw output rows
    golden_atol: float
    golden_rtol: float
    raw: Mapping[str, Any]

    @property
    def width(self) -> int:
        """Columns of the graph's output: 1 for binary (P(labels[1])), C for multiclass, t for regression."""
        return 1 if self.task == "binary" else len(self.labels) if self.task == "multiclass" else len(self.targets)

    @classmethod
    def from_json(cls, text: str | None, source: str) -> "Manifest":
        """Parse and check the manifest JSON found in model `source`: every field anyone reads, typed."""
        if text is None:
            raise ModelError(
                f"{source}: no edge-predict manifest (metadata key {METADATA_KEY!r}); a plain ONNX model has no "
                "golden vectors or feature domains, so it is not scored: export it with "
                "edge_predict.trainer.export or edge-train"
            )
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ModelError(
                f"{source}: the edge-predict manifest is corrupt ({type(exc).__name__}: {exc}); re-export the model"
            ) from exc
        fmt = raw.get("format") if isinstance(raw, dict) else None
        if _is_int(fmt) and fmt not in READS:
            raise ModelError(
                f"{source}: manifest format {fmt!r} is not supported (this edge-predict reads formats "
                f"{', '.join(map(str, READS))}); upgrade edge-predict or re-export the model"
            )
        try:
            return _parse(raw)
        except _Invalid as exc:
            raise ModelError(f"{source}: the edge-predict manifest is invalid ({exc}); re-export the model") from None


def _parse(raw: Any) -> Manifest:
    """The Manifest in `raw`, or _Invalid naming the first field that is missing or wrong."""
    _need(isinstance(raw, dict), "not a JSON object")
    _need(_is_int(raw.get("format")), "format is missing or not an integer")
    v1 = raw["format"] == 1
    task = "binary" if v1 else raw.get("task")
    _need(task in TASKS, f"task is {task!r}, expected one of {', '.join(TASKS)}")
    names, domain = _features(_field(raw, "features", list))
    labels, targets, threshold = (), (), None
    if task == "regression":
        _need("labels" not in raw and "threshold" not in raw, "a regression model has no labels or threshold")
        targets = _names(raw, "targets", 1)
    else:
        labels = _names(raw, "labels", 2 if task == "binary" else 3)
        _need(task == "multiclass" or len(labels) == 2, f"labels has {len(labels)} names, a binary model has 2")
        if task == "binary":
            threshold = raw.get("threshold")
            _need(
                _finite(threshold) and 0 <= threshold <= 1, f"threshold is {threshold!r}, expected a number in [0, 1]"
            )
        else:
            _need("threshold" not in raw, "a multiclass model has no threshold")
    outputs = set(targets) | (
        {"probability", "label"}
        if task == "binary"
        else {"label", *(f"p_{label}" for label in labels)}
        if labels
        else set()
    )
    clash = sorted(outputs & set(names))
    _need(not clash, f"feature {clash[0] if clash else ''!r} has the name of an output column")
    _field(raw, "training", dict)
    _field(raw, "versions", dict)
    golden = _field(raw, "golden", dict)
    inputs = _field(golden, "inputs", list)
    _need(len(inputs) > 0, "golden.inputs is empty")
    for i, row in enumerate(inputs):
        _need(
            isinstance(row, list) and len(row) == len(names) and all(_finite(v) for v in row),
            f"golden.inputs[{i}] is not a row of {len(names)} finite float32 numbers",
        )
    if v1:
        outputs_rows = [[p] for p in _field(golden, "probabilities", list)]
    else:
        outputs_rows = _field(golden, "outputs", list)
    width = {"binary": 1, "multiclass": len(labels), "regression": len(targets)}[task]
    _need(len(outputs_rows) == len(inputs), f"golden has {len(inputs)} inputs but {len(outputs_rows)} outputs")
    for i, row in enumerate(outputs_rows):
        _need(
            isinstance(row, list) and len(row) == width and all(_finite(v) for v in row),
            f"golden output {i} is not a row of {width} finite float32 numbers",
        )
        _need(
            task == "regression" or all(0 <= v <= 1 for v in row),
            f"golden output {i} holds a probability outside [0, 1]",
        )
    atol, rtol = golden.get("atol"), golden.get("rtol", 0)
    _need(_finite(atol) and atol > 0, f"golden.atol is {atol!r}, expected a positive number")
    _need(_finite(rtol) and rtol >= 0, f"golden.rtol is {rtol!r}, expected a number >= 0")
    return Manifest(
        task=task,
        feature_names=names,
        domain=domain,
        labels=labels,
        targets=targets,
        threshold=None if threshold is None else float(threshold),
        golden_inputs=tuple(tuple(float(v) for v in row) for row in inputs),
        golden_outputs=tuple(tuple(float(v) for v in row) for row in outputs_rows),
        golden_atol=float(atol),
        golden_rtol=float(rtol),
        raw=raw,
    )


def _features(features: list) -> tuple[tuple[str, ...], tuple[tuple[float | None, float | None], ...]]:
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
            _need(
                bound is None or _finite(bound), f"features[{i}].{key} is {bound!r}, expected a finite number or null"
            )
        _need(lo is None or hi is None or lo <= hi, f"features[{i}] has min {lo!r} > max {hi!r}")
        names.append(name)
        domain.append((None if lo is None else float(lo), None if hi is None else float(hi)))
    return tuple(names), tuple(domain)


def _names(raw: dict, key: str, least: int) -> tuple[str, ...]:
    """A list of at least `least` different non-empty strings without NUL: numpy drops trailing NULs, so labels
    'a' and 'a\\0' would both be classes_ 'a'."""
    value = raw.get(key)
    _need(
        isinstance(value, list)
        and len(value) >= least
        and all(isinstance(v, str) and v and "\0" not in v for v in value)
        and len(set(value)) == len(value),
        f"{key} is {value!r}, expected {least} or more different names without NUL characters",
    )
    return tuple(value)


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
