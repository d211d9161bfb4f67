"""The onnxruntime boundary: a session from checked bytes, its signature, and onnxruntime's errors worded.

onnxruntime is imported when a session is made, not before: the numpy engine (engines/numpy) runs where it is not
installed, through the same checks (open_model's `make`)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import TYPE_CHECKING, Callable

import numpy as np

from edge_predict.errors import ModelError
from edge_predict.model import integrity
from edge_predict.model._fast import binding
from edge_predict.model.manifest import METADATA_KEY, Manifest
from edge_predict.model.file import FileFacts, check_size, scan
from edge_predict.model import graph, proofs
from edge_predict.model.limits import DEFAULT, GraphLimits

if TYPE_CHECKING:
    import onnxruntime as ort


def open_model(
    data: bytes,
    source: str,
    threads: int | None,
    max_bytes: int,
    limits: GraphLimits = DEFAULT,
    allowed: frozenset[tuple[str, str]] = frozenset(),
    make: Callable | None = None,
) -> tuple[ort.InferenceSession, Manifest, bool]:
    """A session, the checked manifest for a model file's bytes, and whether the graph's structure proves that its
    output rows sum to 1 (proofs.rows_sum_to_one: format 3's binary [1 - p, p]); or ModelError saying what is wrong.

    The bytes are checked before onnxruntime sees them: size, protobuf framing, no external data, the exporter's
    integrity digest, and the graph (graph.check: the documented operators and limits, no arithmetic on shapes).
    `make` is the engine's session factory (make_session's arguments; engines.factory), onnxruntime's by default.
    """
    check_size(len(data), max_bytes, source)
    facts = scan(data, source, limits)  # onnxruntime must never open another file
    sealed = integrity.check(data, source)
    graph.check(facts, source, limits, allowed)
    session = (make or make_session)(data, source, threads, facts)
    manifest = Manifest.from_json(manifest_text(session, source), source)
    if not sealed and manifest.format >= 2:  # format 1 files predate the digest
        raise integrity.missing(source)
    try:
        if manifest.format >= 3:
            check_graph_inputs(session, manifest, source)
        else:
            check_graph_types(session, source)
            check_width(session, len(manifest.feature_names), source)
    except UnicodeDecodeError as exc:  # a damaged name in the graph: onnxruntime hands its bytes to Python as is
        raise ModelError(f"{source}: the graph's input or output names are corrupt; re-copy or re-export it") from exc
    pair = manifest.task == "binary" and manifest.width == 2 and proofs.rows_sum_to_one(facts, manifest.output)
    return session, manifest, pair


class Runner:
    """Runs a session on checked input, the float32 (n, k) array of a numeric model or the feed of a typed one
    ({graph input name: array}): the named output, as session.run returns it."""

    def __init__(self, session: ort.InferenceSession, output: str, width: int):
        self._session = session
        self._input, self._outputs = session.get_inputs()[0].name, [output]
        if getattr(session, "engine", "onnxruntime") != "onnxruntime":  # the numpy engine: its plain run
            self._options, self._bound = None, _UNBOUND
            return
        import onnxruntime as ort

        self._options = ort.RunOptions()  # passing one spares onnxruntime building one per call
        # run_with_iobinding reads this entry on every call; a missing one costs onnxruntime a C++ exception
        # (-1: no graph capture, which only WebGPU does)
        self._options.add_run_config_entry("gpu_graph_id", "-1")
        self._bound = binding.Bindings(session, self._options, output, width)

    def run(self, x: np.ndarray) -> np.ndarray:
        """The output for x; onnxruntime's exceptions pass through (the caller words them: run_failure)."""
        if type(x) is dict:  # a typed model's feed: one array per graph input
            return self._session.run(self._outputs, x, self._options)[0]
        out = self._bound.run(x)  # None: not for this batch
        if out is None:
            out = self._session.run(self._outputs, {self._input: x}, self._options)[0]
        return out


class _Unbound:
    """No bound call (another engine than onnxruntime): run() always takes the plain call."""

    @staticmethod
    def run(x):
        return None


_UNBOUND = _Unbound()


def describe_plain(
    data: bytes,
    source: str,
    max_bytes: int,
    limits: GraphLimits = DEFAULT,
    allowed: frozenset[tuple[str, str]] = frozenset(),
    make: Callable | None = None,
) -> dict | None:
    """What a plain ONNX model (no edge-predict manifest) declares: inputs, outputs, opsets, IR version, producer;
    None if it has a manifest. Checked as for scoring before onnxruntime opens it (size, framing, no external data,
    the graph)."""
    check_size(len(data), max_bytes, source)
    facts = scan(data, source, limits)
    graph.check(facts, source, limits, allowed)
    session = (make or make_session)(data, source, 1, facts)
    if manifest_text(session, source) is not None:
        return None
    try:
        args = {
            kind: [{"name": a.name, "type": a.type, "shape": list(a.shape)} for a in getter()]
            for kind, getter in (("inputs", session.get_inputs), ("outputs", session.get_outputs))
        }
        producer = session.get_modelmeta().producer_name
    except UnicodeDecodeError as exc:
        raise ModelError(f"{source}: the graph's names are corrupt; re-copy or re-export it") from exc
    return {**args, "opsets": dict(facts.opsets), "ir_version": facts.ir_version, "producer": producer}


def make_session(data: bytes, source: str, threads: int | None, facts: FileFacts) -> ort.InferenceSession:
    """An InferenceSession on the CPU with the measured defaults, or ModelError saying why not."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # fatal only: onnxruntime's own log lines would break the one-line contract
    # Defaults measured by `make bench` (see bench/results.md): one thread is as fast at batch 1 and fastest at
    # 1e6 rows on a small shared CPU; with more threads, spin-waiting only burns the cores others need.
    cpus = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= cpus:  # thousands of threads take minutes to start
        raise ValueError(
            f"threads={threads!r}: expected 1 to {cpus} (this machine's CPUs); "
            "more threads than CPUs only slow onnxruntime down"
        )
    options.intra_op_num_threads = 1 if threads is None else int(threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # onnxruntime's Python layer prints some failures (an "EP Error" banner) on stdout, where they would
    # corrupt JSON or CSV output: whatever it prints is dropped, and its exception is worded below.
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind classes; one boundary wraps them all
        raise ModelError(_load_failure(str(exc), source, facts)) from exc


def manifest_text(session: ort.InferenceSession, source: str) -> str | None:
    """The manifest JSON in the model's metadata, or None if there is none."""
    try:
        return session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    except Exception as exc:  # bytes that are not UTF-8 (a damaged file), or onnxruntime's own error
        raise ModelError(
            f"{source}: the model's metadata is corrupt ({type(exc).__name__}); re-export or re-copy it"
        ) from exc


def check_graph_types(session: ort.InferenceSession, source: str) -> None:
    """Refuse graphs that are not one float32 (batch, features) input to one float32 output."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{source}: the model has {len(inputs)} inputs and {len(outputs)} outputs, "
            "but edge-predict scores models with exactly one of each"
        )
    arg = inputs[0]
    if arg.type != "tensor(float)" or len(arg.shape) != 2:
        raise ModelError(
            f"{source}: input {arg.name!r} is {arg.type} of rank {len(arg.shape)}, "
            "but edge-predict expects a float32 tensor of shape (batch, features)"
        )
    if outputs[0].type != "tensor(float)":
        raise ModelError(
            f"{source}: output {outputs[0].name!r} is {outputs[0].type}, but edge-predict expects float32 outputs"
        )


_ORT_TYPES = {"float32": "tensor(float)", "int64": "tensor(int64)", "string": "tensor(string)"}


def check_graph_inputs(session: ort.InferenceSession, manifest: Manifest, source: str) -> None:
    """Refuse a graph whose inputs are not the manifest's (names, element types, (batch, columns)) or that lacks
    the float32 output the manifest names (format 3)."""
    graph = {arg.name: arg for arg in session.get_inputs()}
    wanted = {spec.name: spec for spec in manifest.inputs}
    if set(graph) != set(wanted):
        raise ModelError(
            f"{source}: the graph's inputs are {sorted(graph)}, but the manifest maps features to {sorted(wanted)}; "
            "re-export the model"
        )
    for name, spec in wanted.items():
        arg = graph[name]
        if arg.type != _ORT_TYPES[spec.type] or len(arg.shape) != 2:
            raise ModelError(
                f"{source}: input {name!r} is {arg.type} of rank {len(arg.shape)}, but the manifest describes "
                f"{spec.type} (batch, {len(spec.features)}); re-export the model"
            )
        if isinstance(arg.shape[1], int) and arg.shape[1] != len(spec.features):
            raise ModelError(
                f"{source}: input {name!r} takes {arg.shape[1]} columns but the manifest maps "
                f"{len(spec.features)} features to it; re-export the model"
            )
    outputs = {arg.name: arg for arg in session.get_outputs()}
    if manifest.output not in outputs:
        raise ModelError(
            f"{source}: the graph has no output {manifest.output!r} (it has {sorted(outputs)}), which the manifest "
            "names; re-export the model"
        )
    if outputs[manifest.output].type != "tensor(float)":
        raise ModelError(
            f"{source}: output {manifest.output!r} is {outputs[manifest.output].type}, but edge-predict expects "
            "float32 outputs"
        )


def check_width(session: ort.InferenceSession, n_features: int, source: str) -> None:
    """Refuse a graph whose input width is not the manifest's number of features."""
    width = session.get_inputs()[0].shape[1]
    if isinstance(width, int) and width != n_features:
        raise ModelError(
            f"{source}: the graph takes {width} features but the manifest names {n_features}; re-export the model"
        )


def run_failure(exc: Exception, source: str, engine: str = "onnxruntime") -> ModelError:
    """The engine failed while scoring: the model's fault (exit 1), said in one line."""
    engine = "the numpy engine" if engine == "numpy" else engine
    return ModelError(
        f"{source}: {engine} failed to score with this model ({_first_line(str(exc))}); re-export or re-copy it"
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _load_failure(text: str, source: str, facts: FileFacts) -> str:
    """One line on why onnxruntime refused the model, and what to do when the cause is a version."""
    import onnxruntime as ort

    ir = re.search(r"max supported IR version: (\d+)", text)
    if ir:
        return (
            f"{source}: the model is ONNX IR version {facts.ir_version}, but onnxruntime {ort.__version__} "
            f"reads IR versions up to {ir.group(1)}; upgrade onnxruntime (pip install -U onnxruntime) "
            "or re-export the model with an older onnx (edge-train --opset 17)"
        )
    opset = re.search(r"support for domain (\S+) is till opset (\d+)", text)
    if opset:
        needed = facts.opsets.get(opset.group(1), "?")
        return (
            f"{source}: the model needs opset {needed} of {opset.group(1)}, but onnxruntime {ort.__version__} "
            f"supports up to opset {opset.group(2)}; upgrade onnxruntime (pip install -U onnxruntime) "
            f"or re-export the model with edge-train --opset {min(int(opset.group(2)), 17)}"
        )
    return f"{source}: onnxruntime cannot load this model ({_first_line(text)}); re-export or re-copy it"
