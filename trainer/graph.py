"""From a torch module to an ONNX graph: the output activation appended, tracing refused where it would lie."""

from __future__ import annotations

import io
import warnings

import onnx
import torch

from edge_predict.errors import EdgePredictError
from edge_predict.scoring.outputs import SUM_ATOL

OPSET = 17
# torch.onnx.export's legacy TorchScript path writes opsets 7 to 23 in torch 2.13 (measured: 24 fails)
MAX_OPSET = 23


# Layers that change no value in eval mode: the last layer of a Sequential is looked for before them.
_NO_CHANGE = (torch.nn.Identity, torch.nn.Dropout, torch.nn.AlphaDropout)


class ExportError(EdgePredictError):
    """The module cannot be exported as asked; the message says what is wrong and what to do. Nothing was written."""


class WithActivation(torch.nn.Module):
    """`inner` followed by sigmoid (binary) or softmax over the classes (multiclass): logits in, probabilities out."""

    def __init__(self, inner: torch.nn.Module, task: str):
        super().__init__()
        self.inner, self.task = inner, task

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.inner(x)
        return torch.sigmoid(logits) if self.task == "binary" else torch.softmax(logits, dim=1)


class BinaryPair(torch.nn.Module):
    """`inner`'s P(labels[1]) as the (batch, 2) pair [1 - p, p]: format 3's binary output, built in the graph."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.inner(x)
        return torch.cat([1 - p, p], dim=1)


def output_module(module: torch.nn.Module, task: str, outputs: str) -> torch.nn.Module:
    """The module whose outputs the graph computes: `module` itself, or with the activation for logits."""
    return WithActivation(module, task).eval() if outputs == "logits" else module


def check_activation(module: torch.nn.Module, golden, task: str, outputs: str) -> None:
    """ExportError when the module's last layer (of a Sequential), or a multiclass module's outputs on every golden
    input, say it returns logits where `outputs` says probabilities, or the reverse."""
    last = module
    while isinstance(last, torch.nn.Sequential) and _changes(last):
        last = [layer for layer in last if _changes(layer)][-1]
    activation = "Sigmoid" if task == "binary" else "Softmax"
    if outputs == "probabilities" and isinstance(last, torch.nn.Linear):
        raise ExportError(
            "outputs='probabilities', but the module ends in Linear, whose outputs are logits, not probabilities "
            f"(one in [0, 1] would be scored as a probability); pass outputs='logits', which puts {activation} into "
            "the graph"
        )
    if outputs != "logits":
        return
    if isinstance(last, (torch.nn.Sigmoid, torch.nn.Softmax)):
        raise ExportError(
            f"outputs='logits', but the module ends in {type(last).__name__}: the graph would apply "
            f"{activation.lower()} twice (a binary model's probabilities all >= 0.5, so every label labels[1]); "
            "pass outputs='probabilities', or export the module without its last layer"
        )
    with torch.no_grad():
        out = module(torch.from_numpy(golden))
    if task == "multiclass" and bool(((out >= 0) & (out <= 1)).all()):
        if bool(((out.double().sum(dim=1) - 1).abs() <= SUM_ATOL).all()):
            raise ExportError(
                "outputs='logits', but the module returns class probabilities (rows in [0, 1] summing to 1) on every "
                "golden input: the graph would apply softmax twice, flattening them; pass outputs='probabilities'"
            )


def to_onnx(
    module: torch.nn.Module, example: torch.Tensor, input_name: str, output_name: str, opset: int = OPSET
) -> onnx.ModelProto:
    """Trace `module` on `example` with the TorchScript exporter: dynamic batch, float32 in and out.

    Tracing records the operations one input took. Python that reads tensor values (`if x.sum() > 0`,
    `int(x.max())`, `float(...)`) makes torch warn that the trace may not generalize: that is an ExportError.
    """
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            torch.onnx.export(
                module,
                (example,),
                buffer,
                dynamo=False,
                opset_version=opset,
                input_names=[input_name],
                output_names=[output_name],
                dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
            )
        except Exception as exc:  # torch's errors for unsupported operators and the like
            raise ExportError(
                f"torch cannot export the module to ONNX opset {opset}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}; nothing was written"
            ) from exc
    for warning in caught:
        if issubclass(warning.category, torch.jit.TracerWarning):
            what = str(warning.message).split(". ")[0]
            raise ExportError(
                f"the module's forward has Python control flow that depends on the input's values "
                f"({warning.filename}:{warning.lineno}: {what}): the exported graph would take the same path for "
                "every input. Write it with tensor operations (torch.where, torch.clamp, masks); nothing was written"
            )
    return onnx.load_from_string(buffer.getvalue())


def _changes(layer: torch.nn.Module) -> bool:
    """False for a layer that changes no value in eval mode (Identity, Dropout, a Sequential of only those)."""
    if isinstance(layer, torch.nn.Sequential):
        return any(_changes(inner) for inner in layer)
    return not isinstance(layer, _NO_CHANGE)


def in_training_mode(module: torch.nn.Module) -> list[str]:
    """Names of the submodules left in training mode ('' for `module` itself)."""
    return [name for name, sub in module.named_modules() if sub.training]
