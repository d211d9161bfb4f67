"""From a torch module to an ONNX graph: the output its author wrote turned into the task's, traced by torch's
TorchScript exporter or its dynamo one, and category codes put in front."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import onnx
import onnx.inliner
import torch
from onnx import helper

from edge_predict import EdgePredictError
from edge_predict.authoring import SUM_ATOL

OPSET = 17
# torch.onnx.export's legacy TorchScript path writes opsets 7 to 23 in torch 2.13 (measured: 24 fails)
MAX_OPSET = 23
EXPORTERS = ("auto", "torchscript", "dynamo")
DYNAMO_OPSET = 18  # what torch 2.13's dynamo exporter writes natively
# ai.onnx.ml's LabelEncoder 2 (string or int64 keys, int64 values, a default): what skl2onnx writes too
ML_DOMAIN, ML_OPSET = "ai.onnx.ml", 2
UNKNOWN_CODE = -1  # what the graph's LabelEncoder gives a value outside the vocabulary (the runtime refuses it first)

# Layers that change no value in eval mode: the last layer of a Sequential is looked for before them.
_NO_CHANGE = (torch.nn.Identity, torch.nn.Dropout, torch.nn.AlphaDropout)
_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep


class ExportError(EdgePredictError):
    """The module cannot be exported as asked; the message says what is wrong and what to do. Nothing was written.

    `cli`, where set, is the same advice in edge-train's terms (its flags), for edge-train to show instead.
    """

    def __init__(self, message: str, cli: str | None = None):
        super().__init__(message)
        self.cli = cli


class ExportWarning(UserWarning):
    """The tracer flagged code that may not generalize, but the graph was measured equal to torch: shown, not fatal."""


@dataclass(frozen=True)
class Shape:
    """How the module's output becomes the task's: which tensor of a tuple, list or dict, and its columns."""

    select: int | str | None  # None: the module returns one tensor
    columns: int  # 0: (batch,), else (batch, columns)


class WithActivation(torch.nn.Module):
    """`inner` followed by sigmoid (binary) or softmax over the classes (multiclass): logits in, probabilities out."""

    def __init__(self, inner: torch.nn.Module, task: str):
        super().__init__()
        self.inner, self.task = inner, task

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        logits = self.inner(*args)
        return torch.sigmoid(logits) if self.task == "binary" else torch.softmax(logits, dim=1)


class Selected(torch.nn.Module):
    """`inner`'s tensor at `select` of the tuple, list or dict it returns (None: its only tensor), (batch,) as
    (batch, 1)."""

    def __init__(self, inner: torch.nn.Module, shape: Shape):
        super().__init__()
        self.inner, self.shape = inner, shape

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        out = self.inner(*args)
        if self.shape.select is not None:
            out = out[self.shape.select]
        return out.unsqueeze(1) if self.shape.columns == 0 else out


class BinaryPair(torch.nn.Module):
    """`inner`'s P(labels[1]) as the (batch, 2) pair [1 - p, p]: format 3's binary output, built in the graph."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        p = self.inner(*args)
        return torch.cat([1 - p, p], dim=1)


def head(module: torch.nn.Module, task: str, outputs: str, shape: Shape) -> torch.nn.Module:
    """The module whose output is the file's: the chosen tensor as (batch, columns), then for a classifier the
    probabilities the task documents (binary: [1 - p, p]) from what the author wrote (one logit or probability, two
    logits or probabilities; class logits or probabilities). Layers are added only where needed, so a module that
    already returns what the file holds is traced as it is."""
    inner = module if shape.select is None and shape.columns != 0 else Selected(module, shape).eval()
    pair = task == "binary" and shape.columns == 2  # [P(labels[0]), P(labels[1])] or their logits
    if outputs == "logits":
        inner = WithActivation(inner, "multiclass" if pair else task).eval()
    return BinaryPair(inner).eval() if task == "binary" and not pair else inner


def output_shape(out: Any, rows: int, task: str, width: int, select: int | str | None) -> Shape:
    """Where the module's output `out` for `rows` rows holds the task's tensor (`select`: the caller's choice of a
    tuple/list index or dict key, None: the only tensor that fits). ExportError naming the choices otherwise."""
    if isinstance(out, (tuple, list, dict)):
        choices = list(out.items()) if isinstance(out, dict) else list(enumerate(out))
        if select is None:
            fitting = [key for key, value in choices if _columns(value, rows, task, width) is not None]
            if len(fitting) != 1:
                listed = "; ".join(f"{key!r}: {_describe(value)}" for key, value in choices)
                why = "none of them is" if not fitting else f"{len(fitting)} of them are"
                raise ExportError(
                    f"the module returns a {type(out).__name__} ({listed}) and {why} a float32 (batch, {width}) or "
                    f"(batch,) tensor of a {task} model; pass output= one of {[key for key, _ in choices]} to choose "
                    "the tensor to export"
                )
            select = fitting[0]
        keys = [key for key, _ in choices]
        if select not in keys:
            raise ExportError(
                f"output={select!r}: the module returns a {type(out).__name__} of {keys}; pass one of them"
            )
        out = out[select]
    elif select is not None:
        raise ExportError(f"output={select!r}, but the module returns one {_describe(out)}; leave output=None")
    columns = _columns(out, rows, task, width)
    if columns is None:
        what = {
            "binary": "(batch, 1) or (batch,): P(labels[1]) or its logit, or (batch, 2): both classes' probabilities or logits",
            "multiclass": f"(batch, {width}): one column per label",
            "regression": f"(batch, {width}): one column per target" + (", or (batch,)" if width == 1 else ""),
        }[task]
        raise ExportError(f"the module returns {_describe(out)} for {rows} rows; a {task} model returns {what}")
    return Shape(select, columns)


def _columns(out: Any, rows: int, task: str, width: int) -> int | None:
    """0 for (rows,), c for (rows, c), when that is a shape the task takes; None otherwise."""
    if not isinstance(out, torch.Tensor) or out.dtype != torch.float32 or out.ndim not in (1, 2) or len(out) != rows:
        return None
    columns = 0 if out.ndim == 1 else out.shape[1]
    fits = (
        (0, 1, 2) if task == "binary" else (width,) if task == "multiclass" else (width, 0) if width == 1 else (width,)
    )
    return columns if columns in fits else None


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"{str(value.dtype).removeprefix('torch.')} tensor of shape {tuple(value.shape)}"
    return type(value).__name__


def check_activation(module: torch.nn.Module, out: np.ndarray, task: str, outputs: str, columns: int) -> None:
    """ExportError when the module's last layer (of a Sequential), or its outputs on every golden input, say it returns
    logits where `outputs` says probabilities, or the reverse. `out`: the chosen tensor, as (batch, columns)."""
    last = module
    while isinstance(last, torch.nn.Sequential) and _changes(last):
        last = [layer for layer in last if _changes(layer)][-1]
    activation = "Sigmoid" if task == "binary" and columns < 2 else "Softmax"
    if outputs == "probabilities" and isinstance(last, torch.nn.Linear):
        if ((out >= 0) & (out <= 1)).all():  # otherwise torch_outputs says which of logits or values the numbers are
            raise ExportError(
                "outputs='probabilities', but the module ends in Linear, whose outputs are logits, not probabilities "
                f"(one in [0, 1] would be scored as a probability); pass outputs='logits', which puts {activation} "
                "into the graph"
            )
    if outputs != "logits":
        return
    if isinstance(last, (torch.nn.Sigmoid, torch.nn.Softmax)):
        raise ExportError(
            f"outputs='logits', but the module ends in {type(last).__name__}: the graph would apply "
            f"{type(last).__name__.lower()} twice (a binary model's probabilities all >= 0.5, so every label "
            "labels[1]); pass outputs='probabilities', or export the module without its last layer"
        )
    if columns >= 2 and bool(((out >= 0) & (out <= 1)).all()):
        if bool((np.abs(out.astype(np.float64).sum(axis=1) - 1) <= SUM_ATOL).all()):
            raise ExportError(
                "outputs='logits', but the module returns class probabilities (rows in [0, 1] summing to 1) on every "
                "golden input: the graph would apply softmax twice, flattening them; pass outputs='probabilities'"
            )


@dataclass(frozen=True)
class Traced:
    """An exported graph, the exporter that wrote it, and what the tracer flagged outside torch's own code."""

    proto: onnx.ModelProto
    exporter: str  # "torchscript" or "dynamo"
    flagged: tuple[str, ...]  # "file:line: message", first first


def to_onnx(
    module: torch.nn.Module,
    examples: Sequence[torch.Tensor],
    input_names: Sequence[str],
    output_name: str,
    opset: int = OPSET,
    exporter: str = "torchscript",
) -> Traced:
    """`module` on `examples` (one tensor per forward argument) as an ONNX graph with a dynamic batch dimension.

    "torchscript" traces one run (torch.onnx.export(dynamo=False)): Python that reads tensor values or sizes
    (`len(x)`, `int(x.max())`, `if x.sum() > 0`) makes torch warn that the trace may not generalize; the warnings are
    kept (`flagged`) for the caller, which measures the graph at other batch sizes. "dynamo" exports through
    torch.export (onnxscript), which keeps sizes symbolic; its model-local functions are inlined.
    """
    names = list(input_names)
    axes = {name: {0: "batch"} for name in [*names, output_name]}
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if exporter == "dynamo":
                with contextlib.redirect_stdout(io.StringIO()):  # its progress lines are not ours to print
                    program = torch.onnx.export(
                        module,
                        tuple(examples),
                        dynamo=True,
                        # below its own opset (18) the converter fails on some graphs (Squeeze's axes): measured
                        opset_version=max(opset, DYNAMO_OPSET),
                        input_names=names,
                        output_names=[output_name],
                        dynamic_shapes=(tuple({0: torch.export.Dim.DYNAMIC} for _ in names),),  # forward(*args)
                        verbose=False,
                    )
                proto = onnx.inliner.inline_local_functions(program.model_proto)
                del proto.metadata_props[:]  # torch's own entries: the manifest is the file's metadata
                for value in [
                    *proto.graph.input,
                    *proto.graph.output,
                ]:  # its symbol (s33) named as the other exporter does
                    value.type.tensor_type.shape.dim[0].dim_param = "batch"
            else:
                torch.onnx.export(
                    module,
                    tuple(examples),
                    buffer,
                    dynamo=False,
                    opset_version=opset,
                    input_names=names,
                    output_names=[output_name],
                    dynamic_axes=axes,
                )
                proto = onnx.load_from_string(buffer.getvalue())
        except Exception as exc:  # torch's errors for unsupported operators, untraceable code and the like
            raise ExportError(
                f"torch's {exporter} exporter cannot export the module to ONNX opset {opset}: {type(exc).__name__}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}; nothing was written"
            ) from exc
    flagged = []
    for warning in caught:
        if issubclass(warning.category, torch.jit.TracerWarning) and not warning.filename.startswith(_TORCH_DIR):
            place = f"{warning.filename}:{warning.lineno}: {str(warning.message).split('. ')[0]}"
            if place not in flagged:
                flagged.append(place)
    return Traced(proto, exporter, tuple(flagged))


def encode_categories(proto: onnx.ModelProto, codes_input: str, raw_input: str, vocabularies: list[list]) -> None:
    """Put in front of the graph's int64 input `codes_input` (batch, c) a new input `raw_input` of the categories
    themselves (string, or int64 for integer vocabularies) and, per column, an ai.onnx.ml LabelEncoder from the
    vocabulary to its index (0..n-1; UNKNOWN_CODE for a value outside it). Integer vocabularies 0..n-1 need none."""
    graph = proto.graph
    (old,) = [i for i in graph.input if i.name == codes_input]
    text = isinstance(vocabularies[0][0], str)
    if not text and all(list(v) == list(range(len(v))) for v in vocabularies):  # the codes are the categories
        old.name = raw_input
        for node in graph.node:
            node.input[:] = [raw_input if name == codes_input else name for name in node.input]
        return
    kind = onnx.TensorProto.STRING if text else onnx.TensorProto.INT64
    new = helper.make_tensor_value_info(raw_input, kind, ["batch", len(vocabularies)])
    nodes, columns = [], []
    for j, vocabulary in enumerate(vocabularies):
        column = raw_input if len(vocabularies) == 1 else f"{raw_input}.column{j}"
        if len(vocabularies) > 1:
            bounds = [f"{raw_input}.slice{j}.{part}" for part in ("starts", "ends", "axes")]
            for name, value in zip(bounds, (j, j + 1, 1)):
                graph.initializer.append(helper.make_tensor(name, onnx.TensorProto.INT64, [1], [value]))
            nodes.append(helper.make_node("Slice", [raw_input, *bounds], [column]))
        keys = {"keys_strings" if text else "keys_int64s": [str(v) if text else int(v) for v in vocabulary]}
        columns.append(f"{raw_input}.codes{j}" if len(vocabularies) > 1 else codes_input)
        nodes.append(
            helper.make_node(
                "LabelEncoder",
                [column],
                [columns[-1]],
                domain=ML_DOMAIN,
                values_int64s=list(range(len(vocabulary))),
                default_int64=UNKNOWN_CODE,
                **keys,
            )
        )
    if len(vocabularies) > 1:
        nodes.append(helper.make_node("Concat", columns, [codes_input], axis=1))
    position = list(graph.input).index(old)
    graph.input.remove(old)
    graph.input.insert(position, new)
    body = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + body)
    if not any(o.domain == ML_DOMAIN for o in proto.opset_import):
        proto.opset_import.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))


def _changes(layer: torch.nn.Module) -> bool:
    """False for a layer that changes no value in eval mode (Identity, Dropout, a Sequential of only those)."""
    if isinstance(layer, torch.nn.Sequential):
        return any(_changes(inner) for inner in layer)
    return not isinstance(layer, _NO_CHANGE)


def in_training_mode(module: torch.nn.Module) -> list[str]:
    """Names of the submodules left in training mode ('' for `module` itself)."""
    return [name for name, sub in module.named_modules() if sub.training]
