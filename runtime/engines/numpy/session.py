"""The numpy engine's session: the part of onnxruntime's InferenceSession the runtime uses, over reader's graph."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from edge_predict.engines.numpy import ops, reader
from edge_predict.errors import ModelError
from edge_predict.model import operators

_FEED_TYPES = {name: np.dtype(reader.DTYPES[code]) for code, name in reader.TYPE_NAMES.items()}


@dataclass(frozen=True)
class Meta:
    """What InferenceSession.get_modelmeta() gives that the runtime reads."""

    custom_metadata_map: dict
    producer_name: str


def unsupported(model: reader.Model) -> list[str]:
    """The names of the graph's operators the numpy engine does not run, sorted (as --allow-op spells them)."""
    used = {(node.domain or ops.ONNX, node.op_type) for node in model.nodes}
    return sorted(operators.name(d, op) for d, op in used if (d, op) not in ops.TABLE)


def make_session(data: bytes, source: str, threads: int | None, facts=None) -> "Session":
    """A numpy session for checked model bytes, or ModelError naming what it cannot run."""
    cpus = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= cpus:  # as for onnxruntime: the same option, the same range
        raise ValueError(f"threads={threads!r}: expected 1 to {cpus} (this machine's CPUs)")
    try:
        model = reader.read(data)
    except Exception as exc:  # the model layer checked the framing; what is left is a value this reader refuses
        raise ModelError(f"{source}: the numpy engine cannot read this model ({exc}); re-export or re-copy it") from exc
    missing = unsupported(model)
    if missing:
        raise ModelError(
            f"{source}: the numpy engine does not run the operator{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} of this graph; score it with onnxruntime (--engine onnxruntime, "
            "engine='onnxruntime') or re-export it without them (docs/engines.md lists the operators)"
        )
    return Session(model)


class Session:
    """Runs the graph's nodes in file order (ONNX files are topologically sorted) on numpy arrays."""

    engine = "numpy"

    def __init__(self, model: reader.Model):
        self._model = model
        self._steps = []  # (function, attributes, input names, output names, opset, names to drop afterwards)
        last_use: dict[str, int] = {}
        for i, node in enumerate(model.nodes):
            for name in node.inputs:
                last_use[name] = i
        kept = set(model.initializers) | {arg.name for arg in model.outputs} | {arg.name for arg in model.inputs}
        drops: dict[int, list[str]] = {}
        for name, i in last_use.items():
            if name and name not in kept:
                drops.setdefault(i, []).append(name)
        for i, node in enumerate(model.nodes):
            domain = node.domain or ops.ONNX
            attributes = dict(node.attributes)
            if node.op_type == "Split":
                attributes.setdefault("num_outputs", len(node.outputs))
            opset = model.opsets.get(domain, model.opsets.get("", 1) if domain == ops.ONNX else 1)
            self._steps.append(
                (ops.TABLE[(domain, node.op_type)], attributes, node.inputs, node.outputs, opset, drops.get(i, ()))
            )

    def get_inputs(self) -> list[reader.Arg]:
        return list(self._model.inputs)

    def get_outputs(self) -> list[reader.Arg]:
        return list(self._model.outputs)

    def get_modelmeta(self) -> Meta:
        return Meta(dict(self._model.metadata), self._model.producer)

    def run(self, output_names, feed: dict, run_options=None) -> list[np.ndarray]:
        """The named outputs for `feed` {input name: array}; ValueError for a feed the graph does not take."""
        values = dict(self._model.initializers)
        for arg in self._model.inputs:
            if arg.name not in feed:
                raise ValueError(f"input {arg.name!r} is missing from the feed ({sorted(feed)})")
            given = feed[arg.name]
            wanted = _FEED_TYPES.get(arg.type)
            if wanted is None or given.dtype != wanted or given.ndim != len(arg.shape):
                raise ValueError(f"input {arg.name!r} is {arg.type} of rank {len(arg.shape)}, got {given.dtype}")
            values[arg.name] = given
        with np.errstate(all="ignore"):  # a NaN or overflow is the output check's to report, not a warning's
            for fn, attributes, inputs, outputs, opset, drop in self._steps:
                results = fn(attributes, [values[name] if name else None for name in inputs], opset)
                for name, result in zip(outputs, results):
                    if name:
                        values[name] = result
                for name in drop:
                    del values[name]
        fixed = set(self._model.initializers) | set(feed)
        return [np.array(values[name]) if name in fixed else values[name] for name in output_names]
