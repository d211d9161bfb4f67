"""The manifest an edge-predict model carries in its ONNX metadata_props, and its checks."""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

from edge_predict.errors import ModelError
from edge_predict.float32 import F32_MAX

METADATA_KEY = "edge_predict"
FORMAT_VERSION = 3  # what exporters write; formats 1 (binary only) and 2, on devices already, are still read
READS = (1, 2, 3)
TASKS = ("binary", "multiclass", "regression")
FEATURE_TYPES = ("number", "category")
INPUT_TYPES = ("float32", "int64", "string")
UNKNOWN = ("refuse", "encode")  # a category outside the vocabulary: an input error, or the graph's own policy
MISSING = ("refuse", "impute")  # a missing value: an input error, or passed to the graph, which imputes it
# Texts that are a missing value on every surface (a CSV field, a string in a DataFrame), unless they are a category
MISSING_TEXTS = frozenset({"", "nan", "NaN", "NA", "N/A", "null"})
ENGINES = ("onnxruntime", "numpy")


# Records are NamedTuples: immutable and compared by value as frozen dataclasses are, but made without a compile() per
# generated method at import, which every cold start paid (bench/goals.py's coldstart row).
class Feature(NamedTuple):
    """One feature of the manifest: a number within its domain, or a category of a fixed vocabulary."""

    name: str
    type: str  # "number" or "category"
    min: float | None = None  # numbers: the domain (None: unbounded)
    max: float | None = None
    categories: tuple[str | int, ...] = ()  # categories: the vocabulary, all strings or all integers
    unknown: str = "refuse"
    unknown_policy: str | None = None  # with unknown "encode": what the graph does with an unseen value
    missing: str = "refuse"
    missing_value: str | int | None = None  # what a missing category is passed to the graph as
    impute: Any = None  # the value the graph imputes, as recorded at export (shown, never used)


class GraphInput(NamedTuple):
    """One input of the graph: its name, element type, and the features it carries as its columns, in order."""

    name: str
    type: str  # "float32", "int64" or "string"
    features: tuple[str, ...]


class _Invalid(Exception):
    """One thing wrong with the manifest, worded for the user."""


class Manifest(NamedTuple):
    """The parts of a model's manifest the runtime relies on; `raw` keeps the whole document."""

    format: int
    task: str
    feature_names: tuple[str, ...]
    domain: tuple[tuple[float | None, float | None], ...]
    features: tuple[Feature, ...]
    inputs: tuple[GraphInput, ...]  # format 3; () for formats 1 and 2: one float32 (batch, features) input
    output: str | None  # the graph output to read (format 3); None: the graph's only output
    model_name: str | None  # format 3: the name and version rollback protection compares
    model_version: int | None
    engines: tuple[str, ...]  # the engines that reproduced the golden vectors at export
    labels: tuple[str, ...]  # classifiers: the classes in output order; () for regression
    targets: tuple[str, ...]  # regression: the output names; () for classifiers
    threshold: float | None  # binary only
    golden_inputs: tuple[tuple[Any, ...], ...]  # numbers as floats; format 3 also category values and None
    golden_outputs: tuple[tuple[float, ...], ...]  # the graph's raw output rows
    golden_atol: float
    golden_rtol: float
    raw: Mapping[str, Any]

    @property
    def width(self) -> int:
        """Columns of the graph's output: binary 2 ([P(labels[0]), P(labels[1])]; formats 1 and 2: 1, P(labels[1])),
        multiclass C, regression t."""
        if self.task == "binary":
            return 2 if self.format >= 3 else 1
        return len(self.labels) if self.task == "multiclass" else len(self.targets)

    @property
    def numeric(self) -> bool:
        """Every feature a number that may not be missing, fed as one float32 (batch, features) input."""
        return all(f.type == "number" and f.missing == "refuse" for f in self.features) and len(self.inputs) <= 1

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
    fmt = raw["format"]
    v1 = fmt == 1
    task = "binary" if v1 else raw.get("task")
    _need(task in TASKS, f"task is {task!r}, expected one of {', '.join(TASKS)}")
    features = _features(_field(raw, "features", list), typed=fmt >= 3)
    names = tuple(f.name for f in features)
    domain = tuple((f.min, f.max) for f in features)
    inputs, output, model_name, model_version, engines = (), None, None, None, ("onnxruntime",)
    if fmt >= 3:
        inputs = _inputs(_field(raw, "inputs", list), features)
        output = raw.get("output")
        _need(isinstance(output, str) and output != "", f"output is {output!r}, expected the graph output's name")
        model = _field(raw, "model", dict)
        model_name, model_version = model.get("name"), model.get("version")
        _need(_text(model_name), f"model.name is {model_name!r}, expected a non-empty string without NUL")
        _need(
            _is_int(model_version) and model_version >= 0,
            f"model.version is {model_version!r}, expected a whole number >= 0",
        )
        _field(raw, "exporter", dict)
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
    rows = _field(golden, "inputs", list)
    _need(len(rows) > 0, "golden.inputs is empty")
    for i, row in enumerate(rows):
        if fmt < 3:
            _need(
                isinstance(row, list) and len(row) == len(names) and all(_finite(v) for v in row),
                f"golden.inputs[{i}] is not a row of {len(names)} finite float32 numbers",
            )
            continue
        _need(
            isinstance(row, list) and len(row) == len(names), f"golden.inputs[{i}] is not a row of {len(names)} values"
        )
        for feature, value in zip(features, row):
            _need(
                _valid(feature, value), f"golden.inputs[{i}] holds {value!r} for {feature.name!r}: {_expected(feature)}"
            )
    if fmt >= 3:
        engines = _field(golden, "engines", list)
        _need(
            len(engines) > 0 and all(e in ENGINES for e in engines) and len(set(engines)) == len(engines),
            f"golden.engines is {engines!r}, expected distinct names among {', '.join(ENGINES)}",
        )
        engines = tuple(engines)
    if v1:
        outputs_rows = [[p] for p in _field(golden, "probabilities", list)]
    else:
        outputs_rows = _field(golden, "outputs", list)
    width = {"binary": 2 if fmt >= 3 else 1, "multiclass": len(labels), "regression": len(targets)}[task]
    _need(len(outputs_rows) == len(rows), f"golden has {len(rows)} inputs but {len(outputs_rows)} outputs")
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
        format=fmt,
        task=task,
        feature_names=names,
        domain=domain,
        features=features,
        inputs=inputs,
        output=output,
        model_name=model_name,
        model_version=model_version,
        engines=engines,
        labels=labels,
        targets=targets,
        threshold=None if threshold is None else float(threshold),
        golden_inputs=tuple(tuple(_golden_value(f, v) for f, v in zip(features, row)) for row in rows),
        golden_outputs=tuple(tuple(float(v) for v in row) for row in outputs_rows),
        golden_atol=float(atol),
        golden_rtol=float(rtol),
        raw=raw,
    )


def _features(entries: list, typed: bool) -> tuple[Feature, ...]:
    """The features, checked; `typed` (format 3) reads type, categories and the unknown and missing rules."""
    _need(len(entries) > 0, "features is empty")
    features: list[Feature] = []
    for i, entry in enumerate(entries):
        _need(isinstance(entry, dict), f"features[{i}] is not an object")
        name = entry.get("name")
        _need(_text(name), f"features[{i}].name is missing or not a string")
        # The CSV reader maps columns by name: a repeated name would feed both features from one column.
        _need(name not in {f.name for f in features}, f"feature name {name!r} appears twice")
        kind = entry.get("type", "number") if typed else "number"
        _need(kind in FEATURE_TYPES, f"features[{i}].type is {kind!r}, expected one of {', '.join(FEATURE_TYPES)}")
        missing = entry.get("missing", "refuse") if typed else "refuse"
        _need(missing in MISSING, f"features[{i}].missing is {missing!r}, expected one of {', '.join(MISSING)}")
        if kind == "number":
            lo, hi = (entry.get(key) for key in ("min", "max"))
            for key, bound in (("min", lo), ("max", hi)):
                _need(
                    bound is None or _finite(bound),
                    f"features[{i}].{key} is {bound!r}, expected a finite number or null",
                )
            _need(lo is None or hi is None or lo <= hi, f"features[{i}] has min {lo!r} > max {hi!r}")
            _need("categories" not in entry, f"features[{i}] is a number but lists categories")
            features.append(
                Feature(
                    name,
                    "number",
                    min=None if lo is None else float(lo),
                    max=None if hi is None else float(hi),
                    missing=missing,
                    impute=entry.get("impute"),
                )
            )
            continue
        categories = entry.get("categories")
        _need(
            isinstance(categories, list)
            and len(categories) > 0
            and (all(_text(c) for c in categories) or all(_is_int(c) for c in categories))
            and len(set(categories)) == len(categories),
            f"features[{i}].categories is {categories!r}, expected distinct non-empty strings or distinct integers",
        )
        unknown = entry.get("unknown", "refuse")
        _need(unknown in UNKNOWN, f"features[{i}].unknown is {unknown!r}, expected one of {', '.join(UNKNOWN)}")
        policy = entry.get("unknown_policy")
        _need(
            unknown == "refuse" or _text(policy),
            f"features[{i}] has unknown 'encode' but no unknown_policy saying what the graph does with an unseen value",
        )
        text = isinstance(categories[0], str)
        marker = entry.get("missing_value", "" if text else -1)
        _need(
            (isinstance(marker, str) and "\0" not in marker) if text else _is_int(marker),
            f"features[{i}].missing_value is {marker!r}, expected a {'string' if text else 'whole number'}",
        )
        _need(marker not in categories, f"features[{i}].missing_value {marker!r} is one of its categories")
        features.append(
            Feature(
                name,
                "category",
                categories=tuple(categories),
                unknown=unknown,
                unknown_policy=policy,
                missing=missing,
                missing_value=marker,
                impute=entry.get("impute"),
            )
        )
    return tuple(features)


def _inputs(entries: list, features: tuple[Feature, ...]) -> tuple[GraphInput, ...]:
    """The graph inputs of a format 3 manifest: each feature in exactly one, of the type its features need."""
    _need(len(entries) > 0, "inputs is empty")
    by_name = {f.name: f for f in features}
    inputs, seen = [], []
    for i, entry in enumerate(entries):
        _need(isinstance(entry, dict), f"inputs[{i}] is not an object")
        name, kind, carried = entry.get("name"), entry.get("type"), entry.get("features")
        _need(
            _text(name) and name not in {g.name for g in inputs}, f"inputs[{i}].name is {name!r}, expected a new name"
        )
        _need(kind in INPUT_TYPES, f"inputs[{i}].type is {kind!r}, expected one of {', '.join(INPUT_TYPES)}")
        _need(
            isinstance(carried, list) and len(carried) > 0 and all(c in by_name for c in carried),
            f"inputs[{i}].features is {carried!r}, expected names of features",
        )
        for feature in (by_name[c] for c in carried):
            want = (
                "float32"
                if feature.type == "number"
                else "string"
                if isinstance(feature.categories[0], str)
                else "int64"
            )
            _need(kind == want, f"inputs[{i}] is {kind} but carries {feature.type} feature {feature.name!r} ({want})")
        seen += carried
        inputs.append(GraphInput(name, kind, tuple(carried)))
    _need(
        sorted(seen) == sorted(by_name) and len(seen) == len(set(seen)),
        "inputs does not carry every feature exactly once",
    )
    return tuple(inputs)


def _valid(feature: Feature, value: Any) -> bool:
    """A golden input value the feature accepts: a finite float32 in its domain's type, a category, or null where
    the feature may be missing."""
    if value is None:
        return feature.missing == "impute"
    if feature.type == "number":
        return _finite(value)
    if isinstance(feature.categories[0], str):
        return isinstance(value, str) and (value in feature.categories or feature.unknown == "encode")
    return _is_int(value) and (value in feature.categories or feature.unknown == "encode")


def _expected(feature: Feature) -> str:
    what = "a finite float32 number" if feature.type == "number" else "one of its categories"
    return "expected " + what + (" or null" if feature.missing == "impute" else "")


def _golden_value(feature: Feature, value: Any) -> Any:
    return float(value) if feature.type == "number" and value is not None else value


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != "" and "\0" not in value


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
