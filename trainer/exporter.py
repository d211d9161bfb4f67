"""export(): a torch module as its author wrote it to one self-verifying ONNX file (manifest format 3), measured before
it is written."""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import onnx
import torch

from edge_predict import __version__, signing
from edge_predict.authoring import (
    FORMAT_VERSION,
    METADATA_KEY,
    SPACE,
    TASKS,
    names_a_column,
    operator_name,
    operators_outside,
    parse_operators,
    seal,
    shortest_float32,
    too_loose,
    write_atomic,
)

from .checks import batch_sizes, engines_reproducing, measure, measure_values, probes, verify_file
from .golden import checked_inputs, default_inputs, domain_bounds, torch_outputs
from .graph import (
    EXPORTERS,
    OPSET,
    ExportError,
    ExportWarning,
    check_activation,
    head,
    encode_categories,
    in_training_mode,
    output_shape,
    to_onnx,
)
from .encoding import Encoding, encoded_rows, observed_ranges
from .layout import Argument, arguments, default_rows, tensors, typed_rows

# Probabilities: torch's and onnxruntime's float32 sigmoid/softmax kernels differ in the last bits (measured
# at most 1.8e-7 on sigmoids); 1e-6 leaves margin and a wrong weight moves far more. Regression values differ by
# float32 rounding of the sums behind them, so by up to a few ulps of the largest value, also where a value near 0
# comes out of cancellation: atol = 1e-6 + 1e-5 * max |golden output| and rtol = 1e-5 (figures: docs/training.md).
PARITY_ATOL = 1e-6
REGRESSION_RTOL = 1e-5
ENCODED = "encoded"  # the module's input behind an encoding: an inner name of the graph
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
    inputs: Any = None,
    categories: Mapping[str, Sequence] | None = None,
    output: int | str | None = None,
    onnx_exporter: str = "auto",
    model_name: str | None = None,
    model_version: int | None = None,
    exporter: str = "export()",
    encoding: Encoding | None = None,
    allow_ops: Sequence[str] = (),
) -> bytes:
    """Export `module` to `path`; return the file's bytes. docs/training.md ("Your own model") documents each argument.

    The module maps its inputs (`inputs`: one argument of all features by default; a list of feature-name lists, one
    per positional argument, or a dict by forward parameter name; numbers float32, `categories` int64 codes) to one
    tensor, or a tuple, list or dict of them (`output` picks one). task "binary": (batch,), (batch, 1) or (batch, 2),
    probabilities or logits; "multiclass": (batch, len(labels)), two labels being binary; "regression": (batch,) or
    (batch, len(targets)). outputs "probabilities" (default for classifiers) or "logits": then sigmoid / softmax goes
    inside the graph. Every check runs before anything is written, the graph measured against torch at several batch
    sizes; a failure is an ExportError and `path` is untouched. With `sign_key` PATH.sig is written too.
    `encoding` (an Encoding: trainer/encoding.py): the module takes one float32 input made from raw features (numbers,
    text and integer categories, gaps) by the encoding, which goes into the graph in front of it; x_train and
    golden_inputs are then raw rows (None for a gap) or a DataFrame.
    `allow_ops` ('Sin', 'com.microsoft:Gelu'): operators outside the set the runtime runs (docs/security.md) that the
    graph may use; a device loads such a file only when it allows them too. Without it such a graph is an ExportError.
    `model_name` (default: the file's stem) and `model_version` (a whole number, larger for a newer export; default
    $SOURCE_DATE_EPOCH, else the time in seconds) are what a device that checks signatures compares to refuse a
    rollback (docs/signing.md).
    """
    identity = _identity(model_name, model_version, path)
    if onnx_exporter not in EXPORTERS:
        raise ExportError(f"onnx_exporter {onnx_exporter!r}: expected one of {', '.join(map(repr, EXPORTERS))}")
    names = _feature_names(feature_names)
    task, outputs, labels, targets = _outputs(task, outputs, labels, targets)
    _check_options(module, names, task, labels, targets, threshold)
    bounds = domain_bounds(domain, names)
    golden = _golden(module, names, bounds, encoding, inputs, categories, x_train, golden_inputs)
    width = 1 if task == "binary" else len(labels or targets)
    graph_module, expected = _expected(module, golden, task, outputs, width, output)
    atol, rtol = _tolerance(task, expected, atol, rtol)
    output_name = OUTPUT_NAMES[task] if task != "regression" or len(targets) == 1 else "values"
    front = (
        _encoding_front(encoding, golden, bounds) if encoding is not None else _argument_front(golden, names, bounds)
    )
    traced, largest = _traced(
        graph_module, front, golden.codes, expected, atol, rtol, output_name, opset, onnx_exporter
    )
    allowed = _check_operators(traced.proto, allow_ops)
    engines = engines_reproducing(  # `feed`: the golden rows as the graph takes them (any front)
        traced.proto.SerializeToString(), front.feed, output_name, expected, atol, rtol
    )
    manifest = _manifest(
        task=task,
        identity=identity,
        exporter=exporter,
        encoding=encoding,
        golden=golden,
        names=names,
        bounds=bounds,
        output_name=output_name,
        labels=labels,
        targets=targets,
        threshold=threshold,
        training=training,
        traced=traced,
        expected=expected,
        atol=atol,
        rtol=rtol,
        engines=engines,
    )
    data = _sealed(traced.proto, manifest, atol, allowed)
    _show_flagged(traced.flagged, len(golden.rows), largest)
    _write(path, data, sign_key)
    return data


@dataclass(frozen=True)
class _Golden:
    """The golden rows (feature order, as the manifest stores them) and what the module takes for them, with what the
    training rows showed of the features."""

    rows: list[list]
    codes: list[np.ndarray]  # per forward argument, what the module takes (float32, or int64 codes)
    observed: Any  # the training rows' numbers (encoded, behind an encoding), None without x_train
    args: list[Argument] | None = None  # the forward arguments; None behind an encoding
    raw: list[np.ndarray] | None = None  # per argument, what the graph takes; None behind an encoding
    vocab: dict[str, tuple] = field(default_factory=dict)  # a category feature's vocabulary (arguments' only)


@dataclass(frozen=True)
class _Front:
    """What goes in front of the traced module and how the graph is fed: the traced module's input names,
    `prepare(proto)` (category codes, an encoding), the golden feed, the probe batches ((feed, codes, describe row i))
    and `describe(i)`: golden row i for messages."""

    traced_names: list[str]
    prepare: Callable[[onnx.ModelProto], None]
    feed: dict[str, np.ndarray]
    batches: list[tuple]
    describe: Callable[[int], str]


def _check_options(module, names, task, labels, targets, threshold) -> None:
    """ExportError for a feature named as an output column, a threshold outside [0, 1], a module in training mode."""
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


def _golden(module, names, bounds, encoding, inputs, categories, x_train, golden_inputs) -> _Golden:
    """The golden rows and the training range, read as the runtime reads rows: behind an encoding, or by argument."""
    if encoding is None:
        return _argument_golden(module, names, bounds, inputs, categories, x_train, golden_inputs)
    if inputs is not None or categories is not None:
        raise ExportError("encoding= says how the module's one input is made; leave inputs= and categories= out")
    if encoding.names != names:
        raise ExportError(f"encoding's columns {encoding.names} are not feature_names {names}, in that order")
    if bad := [c.name for c, b in zip(encoding.columns, bounds) if c.type == "category" and b != (None, None)]:
        raise ExportError(f"domain of {bad[0]!r}: a category has its categories, not a domain")
    train = None if x_train is None else encoded_rows(x_train, encoding, [(None, None)] * len(names), "x_train")
    observed = None if train is None else observed_ranges(encoding, train)
    rows = (
        encoding.golden_rows(train, bounds)
        if golden_inputs is None
        else encoded_rows(golden_inputs, encoding, bounds, "golden_inputs")
    )
    return _Golden(rows, [encoding.transform(rows)], observed)


def _argument_golden(module, names, bounds, inputs, categories, x_train, golden_inputs) -> _Golden:
    """The golden rows of a module that takes its features as arguments (numbers, category codes)."""
    args = arguments(module, names, inputs, categories)
    vocab = {n: v for a in args if a.vocabularies for n, v in zip(a.features, a.vocabularies)}
    if bad := [n for n, b in zip(names, bounds) if n in vocab and b != (None, None)]:
        raise ExportError(f"domain of {bad[0]!r}: a category has its categories, not a domain")
    if len(args) == 1 and args[0].vocabularies is None:  # one float32 input: rows read as the runtime reads them
        observed = None if x_train is None else checked_inputs(x_train, [(None, None)] * len(names), names, "x_train")
        golden = (
            default_inputs(bounds, observed) if golden_inputs is None else checked_inputs(golden_inputs, bounds, names)
        )
        return _Golden(golden.tolist(), [golden], observed, args, [golden], vocab)
    unbounded = [(None, None)] * len(names)
    train = None if x_train is None else typed_rows(x_train, names, unbounded, vocab, "x_train")
    observed = (
        None if train is None else np.float32([[v if n not in vocab else 0 for n, v in zip(names, r)] for r in train])
    )
    rows = (
        default_rows(names, bounds, vocab, train)
        if golden_inputs is None
        else typed_rows(golden_inputs, names, bounds, vocab, "golden_inputs")
    )
    raw, codes = tensors(rows, names, args)
    return _Golden(rows, codes, observed, args, raw, vocab)


def _expected(module, golden: _Golden, task, outputs, width, output) -> tuple[torch.nn.Module, np.ndarray]:
    """The module whose output is the file's (the author's tensor picked, an activation added) and what torch computes
    with it for the golden rows; ExportError when the module's output does not fit the task."""
    n = len(golden.rows)
    with torch.no_grad():
        out = module(*(torch.from_numpy(c) for c in golden.codes))
    shape = output_shape(out, n, task, width, output)
    chosen = out if shape.select is None else out[shape.select]
    check_activation(module, chosen.reshape(n, -1).numpy(), task, outputs, shape.columns)
    graph_module = head(module, task, outputs, shape)
    expected = torch_outputs(graph_module, golden.codes, task, outputs, width, chosen.reshape(n, -1).numpy())
    return graph_module, expected


def _tolerance(task, expected, atol, rtol) -> tuple[float, float]:
    """(atol, rtol) of the golden check, with their defaults; ExportError when one is not a bound or proves nothing."""
    if atol is None:  # regression: float32 rounding scales with the size of the values computed, not each value
        atol = PARITY_ATOL + (REGRESSION_RTOL * float(np.abs(expected).max()) if task == "regression" else 0.0)
    rtol = (REGRESSION_RTOL if task == "regression" else 0.0) if rtol is None else rtol
    if not (np.isfinite([atol, rtol]).all() and atol > 0 and rtol >= 0):
        raise ExportError(f"atol {atol!r} and rtol {rtol!r}: expected atol > 0 and rtol >= 0, finite")
    if loose := too_loose(task, expected, atol, rtol):  # a check that loose would prove nothing on the device
        raise ExportError(
            f"{loose}; nothing was written. Pass a smaller atol: torch and onnxruntime differ that much only on large "
            "unscaled features, so standardize them in the module",
            cli=f"{loose}; nothing was written. Pass a smaller --atol: torch and onnxruntime differ that much only on "
            "large unscaled features, so train with --standardize",
        )
    return atol, rtol


def _manifest(
    *,
    task,
    identity,
    exporter,
    encoding,
    golden: _Golden,
    names,
    bounds,
    output_name,
    labels,
    targets,
    threshold,
    training,
    traced,
    expected,
    atol,
    rtol,
    engines,
) -> dict[str, Any]:
    """The file's manifest (format 3, docs/artifact.md)."""
    if encoding is not None:
        features = encoding.feature_entries(bounds, golden.observed)
        graph_inputs = [{"name": n, "type": k, "features": [c.name for c in cols]} for n, k, cols in encoding.inputs()]
    else:
        features = _feature_entries(names, bounds, golden.observed, golden.vocab)
        graph_inputs = [{"name": a.name, "type": a.kind, "features": list(a.features)} for a in golden.args]
    return {
        "format": FORMAT_VERSION,
        "task": task,
        "model": identity,
        "exporter": {
            "name": exporter,
            "edge_predict": __version__,
            "onnx_exporter": traced.exporter,
            **(encoding.exporter_record() if encoding is not None else {}),
        },
        "features": features,
        "inputs": graph_inputs,
        "output": output_name,
        **({"labels": list(labels)} if labels else {"targets": list(targets)}),
        **({"threshold": threshold} if task == "binary" else {}),
        "training": training or {},
        "versions": {
            "edge_predict": __version__,
            "torch": torch.__version__.split("+")[0],
            "onnx": onnx.__version__,
            "opset": next(o.version for o in traced.proto.opset_import if o.domain in ("", "ai.onnx")),
        },
        "golden": {
            "inputs": [
                [v if v is None or isinstance(v, (str, int)) else shortest_float32(v) for v in row]
                for row in golden.rows
            ],
            "outputs": [[shortest_float32(v) for v in row] for row in expected],
            "atol": atol,
            "rtol": rtol,
            "engines": engines,
        },
    }


def _sealed(proto: onnx.ModelProto, manifest: dict[str, Any], atol: float, allow_ops: Sequence[str]) -> bytes:
    """The file's bytes: the graph with its manifest, checked as ONNX, sealed, and loaded as the device will."""
    try:  # NaN or inf would be written as bare NaN/Infinity: not JSON, and no reader agrees on it
        text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:
        raise ExportError(
            f"the manifest holds a value that is not a finite number ({exc}); nothing was written"
        ) from None
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, text
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(f"the exported graph is not valid ONNX: {exc}") from exc
    data = seal(proto.SerializeToString())  # the integrity digest: any byte changed later is refused
    verify_file(
        data, atol, allow_ops
    )  # as the device will: the runtime's checks and golden vectors, typed inputs included
    return data


def _check_operators(proto: onnx.ModelProto, allow_ops: Sequence[str]) -> list[str]:
    """`allow_ops` checked, as names; ExportError naming the graph's operators outside the runtime's set and not in it
    (the main graph's, its subgraphs' and any model-local function's nodes)."""
    try:
        allowed = parse_operators([allow_ops] if isinstance(allow_ops, str) else allow_ops)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    graphs, used = [proto.graph], set()
    while graphs:
        graph = graphs.pop()
        for node in graph.node:
            used.add((node.domain, node.op_type))
            graphs.extend(a.g for a in node.attribute if a.type == onnx.AttributeProto.GRAPH)
            graphs.extend(g for a in node.attribute if a.type == onnx.AttributeProto.GRAPHS for g in a.graphs)
    used |= {(n.domain, n.op_type) for f in proto.functions for n in f.node}
    if found := operators_outside(used, allowed):
        raise ExportError(
            f"the exported graph uses operators outside the set edge-predict runs ({', '.join(found)}; docs/security.md "
            f"lists the set): write the module with others, or pass allow_ops={found!r} if your devices allow them "
            f"(Predictor allow_ops=, edge-predict --allow-op); nothing was written"
        )
    return sorted(operator_name(d, op) for d, op in allowed)


def _show_flagged(flagged: Sequence[str], golden_rows: int, largest: float) -> None:
    """An ExportWarning per place the tracer flagged: measured equal at every batch size, so shown, not fatal."""
    for place in flagged:
        warnings.warn(
            f"the tracer flagged {place}; the graph was measured equal to torch at batch sizes "
            f"{', '.join(map(str, batch_sizes(golden_rows)))} (largest difference {largest:.3g})",
            ExportWarning,
            stacklevel=3,  # export()'s caller
        )


def _write(path: str | os.PathLike, data: bytes, sign_key) -> None:
    """`data` to `path` atomically, and with `sign_key` its signature to PATH.sig; ExportError if it cannot be."""
    sig = (
        None
        if sign_key is None
        else signing.sign(data, signing.read_key(sign_key, "signing key"), os.path.basename(path))
    )
    try:
        write_atomic(path, data) if sig is None else signing.write_signed(path, data, sig)
    except OSError as exc:
        raise ExportError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from None


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


def _bounds_of(argument, names, bounds):
    """(lo, hi) float32 arrays of a numeric argument's features (inf where unbounded); None for categories."""
    if argument.vocabularies is not None:
        return None
    pairs = [bounds[names.index(n)] for n in argument.features]
    lo = np.float32([-np.inf if b[0] is None else b[0] for b in pairs])
    return lo, np.float32([np.inf if b[1] is None else b[1] for b in pairs])


def _traced(graph_module, front: _Front, codes, expected, atol, rtol, output_name, opset, onnx_exporter):
    """The graph, by the TorchScript exporter or, where it fails or is measured wrong, the dynamo one, with what the
    graph takes in front (`front.prepare(proto)`: category codes, an encoding); measured against torch at every batch
    size on the golden rows (`front.feed`: what the graph takes, `codes`: what the module takes) and on the probe
    batches. (Traced, the largest difference)."""
    examples = [torch.from_numpy(c) for c in codes]
    order = ["torchscript", "dynamo"] if onnx_exporter == "auto" else [onnx_exporter]
    failures = []
    for exporter in order:
        try:
            traced = to_onnx(graph_module, examples, front.traced_names, output_name, opset, exporter)
        except ExportError as exc:
            failures.append(exc)
            continue
        front.prepare(
            traced.proto
        )  # what goes in front of the module (its errors are no exporter's: raised as they are)
        try:
            session = _session(traced.proto)

            def graph_outputs(batch, session=session):
                return session.run(None, {name: r[batch] for name, r in front.feed.items()})[0]

            def module_outputs(batch):
                with torch.no_grad():
                    return graph_module(*(torch.from_numpy(c[batch]) for c in codes)).numpy()

            largest = measure(module_outputs, graph_outputs, expected, atol, rtol, traced.flagged, front.describe)

            for probe_feed, probe_codes, probe_row in front.batches:

                def probe_module(probe_codes=probe_codes):
                    with torch.no_grad():
                        return graph_module(*(torch.from_numpy(c) for c in probe_codes)).numpy()

                def probe_graph(session=session, probe_feed=probe_feed):
                    return session.run(None, probe_feed)[0]

                measure_values(probe_module, probe_graph, atol, rtol, traced.flagged, probe_row)
            return traced, largest
        except ExportError as exc:
            if str(exc).startswith(("the module computes", "the module fails")):  # the module's own: no exporter helps
                raise
            failures.append(exc)
    if len(failures) > 1:  # the TorchScript graph measured wrong (or failed) and the dynamo exporter failed too
        raise ExportError(f"{failures[0]} (torch's dynamo exporter, tried next: {failures[1]})") from failures[1]
    raise failures[0]


def _encoding_front(encoding: Encoding, golden: _Golden, bounds) -> _Front:
    """The front of a module behind an encoding: the graph takes the raw features by kind."""
    rows = golden.rows

    def prepare(proto):
        encoding.prepend(proto, ENCODED)

    batches = []
    for seed in (0, 1):
        probe = encoding.probe_rows(rows, bounds, seed=seed)
        batches.append((encoding.feed(probe), [encoding.transform(probe)], lambda i, probe=probe: repr(probe[i])))
    return _Front([ENCODED], prepare, encoding.feed(rows), batches, lambda i: repr(rows[i]))


def _argument_front(golden: _Golden, names, bounds) -> _Front:
    """The front of a module that takes its features as arguments (numbers, category codes)."""
    args, raw, rows = golden.args, golden.raw, golden.rows
    plain = len(args) == 1 and args[0].vocabularies is None
    traced_names = [a.name if a.vocabularies is None else f"{a.name}.codes" for a in args]

    def prepare(proto):
        for a, name in zip(args, traced_names):
            if a.vocabularies is not None:
                encode_categories(proto, name, a.name, [list(v) for v in a.vocabularies])

    batches = []
    for probe_raw, probe_codes in probes(raw, golden.codes, [_bounds_of(a, names, bounds) for a in args]):

        def probe_row(i, probe_raw=probe_raw):
            return str([r[i].tolist() for r in probe_raw] if len(args) > 1 else probe_raw[0][i].tolist())

        batches.append(({a.name: r for a, r in zip(args, probe_raw)}, probe_codes, probe_row))
    describe = (lambda i: str(rows[i])) if plain else (lambda i: repr(rows[i]))
    return _Front(traced_names, prepare, {a.name: r for a, r in zip(args, raw)}, batches, describe)


def _session(proto: onnx.ModelProto):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # a batch size the graph fails at is measured and reported, not logged to stderr
    try:
        return onnxruntime.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's own refusal of the graph
        raise ExportError(f"onnxruntime cannot load the exported graph: {str(exc).splitlines()[0]}") from exc


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
    if task == "multiclass" and len(labels) == 2:  # two classes are a binary model: P(labels[1]), a threshold
        task = "binary"
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


def _feature_entries(names, bounds, observed, vocab) -> list[dict[str, Any]]:
    """The manifest's features, typed: a number's domain bounds (None: unbounded) and, if known, its training range;
    a category's vocabulary; missing values refused."""
    entries = []
    for j, (name, (lo, hi)) in enumerate(zip(names, bounds)):
        if name in vocab:
            entries.append(
                {
                    "name": name,
                    "type": "category",
                    "categories": list(vocab[name]),
                    "unknown": "refuse",
                    "missing": "refuse",
                }
            )
            continue
        entry = {"name": name, "type": "number", "min": lo, "max": hi, "missing": "refuse"}
        if observed is not None:
            entry["observed"] = [shortest_float32(observed[:, j].min()), shortest_float32(observed[:, j].max())]
        entries.append(entry)
    return entries
