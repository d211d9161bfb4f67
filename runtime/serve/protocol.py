"""The Open Inference Protocol's documents for one model: metadata, and an infer request read into a Predictor's X."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_predict.serve import tensors

SERVER_EXTENSIONS = ["binary_tensor_data"]


class RequestError(Exception):
    """A request the server refuses: its HTTP status and the message of the protocol's error object."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InferRequest:
    """An infer request, read: X for the Predictor, and how to answer."""

    X: Any  # a float (n, k) array in feature order; rows holding str and None once a feature takes them
    id: str | None
    outputs: tuple[str, ...]  # the outputs to return, in order
    binary: frozenset[str]  # those of them to return as binary data


def feature_datatypes(predictor) -> dict[str, str]:
    """Each feature's tensor datatype: BYTES for a text category (str, null where it may be missing), FP32 for a
    number or an integer code (FP64 read as FP32 is; null as NaN, a missing value where the feature may be one)."""
    return {
        f.name: "BYTES" if f.type == "category" and isinstance(f.categories[0], str) else "FP32"
        for f in predictor.features
    }


def metadata(predictor, name: str, version: str) -> dict:
    """GET /v2/models/{name}: one input per feature, the CLI's output columns, and what is being served."""
    labels = "label" if predictor.task != "regression" else None  # a regression target may be called label
    return {
        "name": name,
        "versions": [version],
        "platform": "edge-predict",
        "inputs": [{"name": f, "datatype": t, "shape": [-1]} for f, t in feature_datatypes(predictor).items()],
        "outputs": [
            {"name": o, "datatype": "BYTES" if o == labels else "FP32", "shape": [-1]} for o in predictor.output_names
        ],
        "parameters": {"sha256": predictor.sha256, "task": predictor.task},
    }


def read_infer(header: bytes, binary: bytes, predictor) -> InferRequest:
    """An infer request's JSON header and the binary data after it (b"" without the extension), read and checked."""
    doc = _document(header)
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(400, "the request has no 'inputs': expected a list of tensors, one per feature")
    columns, n_binary = {}, 0
    for i, tensor in enumerate(inputs):
        name, datatype, shape, values, used = _tensor(tensor, i, binary, n_binary)
        if name in columns:
            raise RequestError(400, f"input {name!r} is given twice")
        columns[name] = (datatype, shape, values)
        n_binary += used
    if n_binary != len(binary):
        raise RequestError(
            400,
            f"the body has {len(binary)} bytes of binary data after the JSON header, but the inputs' "
            f"binary_data_size add up to {n_binary}",
        )
    outputs, binary_out = _requested_outputs(doc, predictor.output_names)
    request_id = doc.get("id")
    return InferRequest(
        _features(columns, predictor), None if request_id is None else str(request_id), outputs, binary_out
    )


def _document(header: bytes) -> dict:
    try:
        doc = json.loads(header)
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise RequestError(400, f"the request body is not JSON: {exc}") from None
    except RecursionError:
        raise RequestError(400, "the request body is not JSON the server reads: nested too deeply") from None
    if not isinstance(doc, dict):
        raise RequestError(400, "the request body is not a JSON object with 'inputs'")
    return doc


def _tensor(tensor: Any, i: int, binary: bytes, at: int) -> tuple[str, str, list[int], Any, int]:
    """One input tensor: name, datatype, shape, flat values, and how many bytes of binary data it took."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise RequestError(400, f"inputs[{i}] is not a tensor: expected an object with 'name', 'datatype', 'shape'")
    name, datatype, shape = tensor["name"], tensor.get("datatype"), tensor.get("shape")
    if datatype not in ("FP32", "FP64", "BYTES"):
        raise RequestError(400, f"input {name!r} has datatype {datatype!r}; expected FP32 (or FP64) numbers")
    if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape) or len(shape) not in (1, 2):
        raise RequestError(400, f"input {name!r} has shape {shape!r}; expected [n] or [n, k] (non-negative integers)")
    parameters = tensor.get("parameters") or {}
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    try:
        if size is None:
            if "data" not in tensor:
                raise RequestError(400, f"input {name!r} has no 'data' (nor binary_data_size for binary data)")
            return name, datatype, shape, tensors.from_json(name, datatype, shape, tensor["data"]), 0
        if type(size) is not int or size < 0 or at + size > len(binary):
            raise RequestError(
                400, f"input {name!r}: binary_data_size {size!r} goes past the {len(binary)} bytes of binary data"
            )
        return name, datatype, shape, tensors.from_binary(name, datatype, shape, binary[at : at + size]), size
    except tensors.TensorError as exc:
        raise RequestError(400, str(exc)) from None


def _features(columns: dict[str, tuple[str, list[int], Any]], predictor) -> Any:
    """The inputs as X in feature order: one input per feature ([n] or [n, 1]), or one [n, k] input by position."""
    datatypes = feature_datatypes(predictor)
    names = list(datatypes)
    k = len(names)
    expected = (
        f"one input per feature ({', '.join(names)}; shape [n]) or one FP32 input of shape [n, {k}] in that order"
    )
    if len(columns) == 1 and next(iter(columns)) not in datatypes:
        (name, (datatype, shape, values)) = next(iter(columns.items()))
        if len(shape) != 2 or shape[1] != k:
            raise RequestError(400, f"input {name!r} has shape {shape}, but the model takes {expected}")
        _check_datatype(name, datatype, set(datatypes.values()))
        return np.reshape(values, shape) if isinstance(values, np.ndarray) else _rows(values, shape)
    unknown = [c for c in columns if c not in datatypes]
    missing = [f for f in names if f not in columns]
    if unknown or missing:
        problem = f"no input {', '.join(map(repr, missing))}" if missing else f"an unknown input {unknown[0]!r}"
        raise RequestError(400, f"the request has {problem}, but the model takes {expected}")
    lengths = set()
    for name in names:
        datatype, shape, _ = columns[name]
        if len(shape) == 2 and shape[1] != 1:
            raise RequestError(400, f"input {name!r} has shape {shape}; one feature's input is [n] or [n, 1]")
        _check_datatype(name, datatype, {datatypes[name]})
        lengths.add(shape[0])
    if len(lengths) > 1:
        sizes = ", ".join(f"{n} {columns[n][1][0]}" for n in names)
        raise RequestError(400, f"the inputs have different numbers of rows ({sizes}); every feature needs one per row")
    values = [columns[name][2] for name in names]
    if all(isinstance(v, np.ndarray) for v in values):
        return np.column_stack(values) if values else np.empty((0, 0))
    return [list(row) for row in zip(*values)]


def _check_datatype(name: str, datatype: str, expected: set[str]) -> None:
    """FP64 is read as FP32 is (as text is: through float64); BYTES only where a feature is text."""
    if datatype in expected or (datatype == "FP64" and "FP32" in expected):
        return
    raise RequestError(
        400, f"input {name!r} has datatype {datatype}, but the model expects {' or '.join(sorted(expected))}"
    )


def _rows(values: list, shape: list[int]) -> list[list]:
    n, k = shape
    return [values[r * k : (r + 1) * k] for r in range(n)]


def _requested_outputs(doc: dict, names: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The outputs asked for (all by default) and those to send as binary data (parameters.binary_data_output, or
    an output's parameters.binary_data)."""
    parameters = doc.get("parameters") if isinstance(doc.get("parameters"), dict) else {}
    everything_binary = parameters.get("binary_data_output") is True
    requested = doc.get("outputs")
    if requested is None:
        return tuple(names), frozenset(names) if everything_binary else frozenset()
    if not isinstance(requested, list):
        raise RequestError(400, "'outputs' is not a list of {'name': ...} objects")
    chosen, binary = [], set()
    for i, output in enumerate(requested):
        if not isinstance(output, dict) or output.get("name") not in names:
            got = output.get("name") if isinstance(output, dict) else output
            raise RequestError(
                400, f"outputs[{i}]: {got!r} is not an output of this model; its outputs: {', '.join(names)}"
            )
        options = output.get("parameters") if isinstance(output.get("parameters"), dict) else {}
        if options.get("classification"):
            raise RequestError(400, f"output {output['name']!r}: the classification extension is not supported")
        chosen.append(output["name"])
        if options.get("binary_data", everything_binary) is True:
            binary.add(output["name"])
    return tuple(chosen), frozenset(binary)


def infer_response(
    table: dict[str, np.ndarray], request: InferRequest, name: str, version: str
) -> tuple[bytes, int | None]:
    """The response body, and the length of its JSON header when binary data follows it (else None)."""
    outputs, chunks = [], []
    for output in request.outputs:
        values = table[output]
        tensor: dict[str, Any] = {"name": output, "datatype": tensors.datatype_of(values), "shape": [len(values)]}
        if output in request.binary:
            chunk = tensors.to_binary(values)
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = tensors.to_json(values)
        outputs.append(tensor)
    doc: dict[str, Any] = {"model_name": name, "model_version": version, "outputs": outputs}
    if request.id is not None:
        doc["id"] = request.id
    header = json.dumps(doc, separators=(",", ":")).encode()
    if not chunks:
        return header, None
    return header + b"".join(chunks), len(header)
