"""Checks on a model file's bytes before onnxruntime parses them: size, protobuf framing, external data.

The runtime may not import onnx, so this walks the protobuf wire format itself, descending only into
the messages that can hold a tensor (onnx.proto field numbers below) and jumping over everything
else, raw tensor bytes included: its cost grows with the number of fields, not with the file's size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from edge_predict.errors import ModelError
from edge_predict.model.wire import Corrupt, varint

DEFAULT_MAX_BYTES = 256 * 2**20  # far above any model meant for a small device; raise it with max_bytes
_MAX_DEPTH = 100  # protobuf's own default nesting limit: onnxruntime cannot parse deeper messages either

# Message kinds, and for each the fields (number -> kind) that hold messages worth descending into.
MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, SPARSE, FUNCTION, TRAINING, OPSET, ENTRY = range(10)
_CHILDREN = {
    MODEL: {7: GRAPH, 8: OPSET, 20: TRAINING, 25: FUNCTION},
    GRAPH: {1: NODE, 5: TENSOR, 15: SPARSE},
    NODE: {5: ATTRIBUTE},
    ATTRIBUTE: {5: TENSOR, 6: GRAPH, 10: TENSOR, 11: GRAPH, 22: SPARSE, 23: SPARSE},
    SPARSE: {1: TENSOR, 2: TENSOR},
    FUNCTION: {7: NODE, 11: ATTRIBUTE},
    TRAINING: {1: GRAPH, 2: GRAPH},
    TENSOR: {13: ENTRY},  # external_data: key/value pairs such as location=../../etc/passwd
    OPSET: {},
    ENTRY: {},
}
_TENSOR_NAME, _TENSOR_LOCATION, _EXTERNAL = 8, 14, 1  # TensorProto.name, .data_location, DataLocation.EXTERNAL


@dataclass
class FileFacts:
    """What the scan learned: versions, and every tensor that keeps its data outside the file."""

    ir_version: int = 0
    opsets: dict[str, int] = field(default_factory=dict)
    external: list[tuple[str, str]] = field(default_factory=list)  # (tensor name, location)


def default_model_path() -> str:
    """Where the model packaged with edge-predict lives."""
    from edge_predict import models

    return os.path.join(os.path.dirname(models.__file__), "default.onnx")


def read_model_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of the model file at `path`; ModelError if empty or over max_bytes (/dev/zero: max_bytes + 1 read)."""
    check_limit(max_bytes)
    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size  # 0 for pipes and devices (/dev/zero)
            if size > max_bytes:  # a file over the limit is refused unread: no memory taken for it
                check_size(size, max_bytes, os.fspath(path))
            parts = _read_at_most(stream, max_bytes + 1, size)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: no such model file; pass --model PATH to an exported .onnx") from exc
    except IsADirectoryError as exc:
        raise ModelError(f"{path}: is a directory, not a model file; pass the .onnx file itself") from exc
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror})") from exc
    check_size(sum(map(len, parts)), max_bytes, os.fspath(path))  # before joining: a copy of a huge file is refused
    return b"".join(parts)


def _read_at_most(stream, limit: int, size: int) -> list[bytes]:
    """Up to `limit` bytes of `stream` in parts: its `size` at once, else a MiB at a time. (read(limit) would
    reserve the whole limit first: 256 MiB for a 1 kB model, a MemoryError under a device's address-space limit.)"""
    parts, left = [], limit
    step = min(size + 1, limit)
    while left and (part := stream.read(min(step, left))):
        parts.append(part)
        left -= len(part)
        step = 1 << 20
    return parts


def check_limit(max_bytes: int) -> None:
    """Refuse a size limit below one byte: read(-1) would read the whole file, however large."""
    if type(max_bytes) is not int or max_bytes < 1:
        raise ValueError(f"max_bytes={max_bytes!r}: expected a whole number of bytes >= 1")


def check_size(size: int, max_bytes: int, source: str) -> None:
    """Refuse an empty file or one over the size limit."""
    if size == 0:
        raise ModelError(f"{source}: the model file is empty; re-export or re-copy it")
    if size > max_bytes:
        raise ModelError(
            f"{source}: the model file is larger than the limit of {max_bytes:,} bytes; if it is the model you "
            "mean, raise the limit (--max-model-bytes, $EDGE_PREDICT_MAX_MODEL_BYTES, or max_bytes=)"
        )


def scan(data: bytes, source: str) -> FileFacts:
    """Walk the ModelProto in `data`; refuse corrupt framing and tensors whose data lives in other files."""
    facts = FileFacts()
    try:
        _walk(memoryview(data), facts)
    except Corrupt as exc:
        raise ModelError(
            f"{source}: not a valid ONNX model (corrupt or truncated at byte {exc} of {len(data)}); "
            "re-export or re-copy it"
        ) from None
    if facts.external:
        name, location = facts.external[0]
        raise ModelError(
            f"{source}: tensor {name!r} keeps its data in an external file ({location!r}); edge-predict loads "
            "only self-contained models and reads nothing outside the model file; re-export it as one file"
        )
    return facts


def _walk(buf: memoryview, facts: FileFacts) -> None:
    stack = [(MODEL, 0, len(buf), 0)]  # an explicit stack: a hostile file cannot exhaust Python's recursion
    while stack:
        kind, pos, end, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise Corrupt(pos)
        children = _CHILDREN[kind]
        tensor_name, external, entry = "?", False, {}
        while pos < end:
            key, pos = varint(buf, pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise Corrupt(pos)
            if wire == 0:
                value, pos = varint(buf, pos, end)
                if kind == MODEL and number == 1:
                    facts.ir_version = value
                elif kind == OPSET and number == 2:
                    entry["version"] = value
                elif kind == TENSOR and number == _TENSOR_LOCATION and value == _EXTERNAL:
                    external = True
                continue
            if wire == 1 or wire == 5:
                pos += 8 if wire == 1 else 4
                if pos > end:
                    raise Corrupt(end)
                continue
            if wire != 2:
                raise Corrupt(pos)
            size, pos = varint(buf, pos, end)
            start, pos = pos, pos + size
            if pos > end:
                raise Corrupt(end)
            if number in children:
                if children[number] == ENTRY:
                    external = True
                    location = _entry_location(buf[start:pos])
                    if location is not None:
                        entry["location"] = location
                else:
                    stack.append((children[number], start, pos, depth + 1))
            elif kind == OPSET and number == 1:
                entry["domain"] = bytes(buf[start:pos]).decode("utf-8", "replace")
            elif kind == TENSOR and number == _TENSOR_NAME:
                tensor_name = bytes(buf[start:pos]).decode("utf-8", "replace")
        if kind == OPSET:
            facts.opsets[entry.get("domain", "") or "ai.onnx"] = entry.get("version", 0)
        elif kind == TENSOR and external:
            facts.external.append((tensor_name, entry.get("location") or "?"))


def _entry_location(buf: memoryview) -> str | None:
    """The value of a StringStringEntryProto if its key is 'location'."""
    key = value = b""
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = varint(buf, pos, end)
        if tag & 7 != 2:
            return None
        size, pos = varint(buf, pos, end)
        if tag >> 3 == 1:
            key = bytes(buf[pos : pos + size])
        elif tag >> 3 == 2:
            value = bytes(buf[pos : pos + size])
        pos += size
    return value.decode("utf-8", "replace") if key == b"location" else None
