"""The protocol's tensors: their JSON and binary encodings, decoded to columns and encoded from them."""

from __future__ import annotations

import math
import struct
from typing import Any

import numpy as np

# Little-endian, as the binary tensor data extension lays them out.
NUMERIC = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}


class TensorError(Exception):
    """A tensor that cannot be decoded; the message names the input and says what was expected."""


def elements(shape: list[int]) -> int:
    return math.prod(shape)


def from_json(name: str, datatype: str, shape: list[int], data: Any) -> np.ndarray | list:
    """The flat values of a JSON tensor: numbers as float64 (null as NaN), BYTES as a list of str (null as None)."""
    flat = _flatten(data) if isinstance(data, list) else [data]
    if len(flat) != elements(shape):
        count = f"{len(flat)} value{'' if len(flat) == 1 else 's'}"
        raise TensorError(f"input {name!r} has {count} in 'data', but its shape {shape} holds {elements(shape)}")
    if datatype == "BYTES":
        for i, value in enumerate(flat):
            if value is not None and type(value) is not str:
                raise TensorError(f"input {name!r}, element {i}: {_json(value)} is not a string (BYTES data)")
        return flat
    for i, value in enumerate(flat):
        if type(value) not in (float, int) and value is not None:  # bool is an int in Python, not a number in JSON
            raise TensorError(f"input {name!r}, element {i}: {_json(value)} is not a number ({datatype} data)")
    try:
        return np.array([math.nan if v is None else v for v in flat], dtype=np.float64)
    except OverflowError:  # an integer beyond float64; the runtime would call it outside float32 anyway
        big = next(i for i, v in enumerate(flat) if type(v) is int and abs(v) > 1e308)
        raise TensorError(f"input {name!r}, element {big}: the integer is too large for {datatype}") from None


def from_binary(name: str, datatype: str, shape: list[int], raw: bytes) -> np.ndarray | list:
    """The flat values of a tensor sent as binary data: numbers as an array, BYTES as a list of str."""
    n = elements(shape)
    if datatype == "BYTES":
        return _bytes_elements(name, n, raw)
    dtype = NUMERIC[datatype]
    if len(raw) != n * dtype.itemsize:
        raise TensorError(
            f"input {name!r} has {len(raw)} bytes of binary data, but {n} {datatype} values take {n * dtype.itemsize}"
        )
    return np.frombuffer(raw, dtype=dtype)


def _bytes_elements(name: str, n: int, raw: bytes) -> list:
    """BYTES binary data: each element a 4-byte little-endian length, then that many bytes of UTF-8."""
    values, at = [], 0
    for i in range(n):
        if at + 4 > len(raw):
            raise TensorError(f"input {name!r}: the binary data ends before element {i} of {n}")
        (size,) = struct.unpack_from("<I", raw, at)
        if at + 4 + size > len(raw):
            raise TensorError(f"input {name!r}: the binary data ends inside element {i}")
        try:
            values.append(raw[at + 4 : at + 4 + size].decode("utf-8"))
        except UnicodeDecodeError:
            raise TensorError(f"input {name!r}, element {i}: not UTF-8 text") from None
        at += 4 + size
    if at != len(raw):
        raise TensorError(f"input {name!r}: {len(raw) - at} bytes of binary data follow its {n} elements")
    return values


def to_json(values: np.ndarray) -> list:
    """A column as JSON data: labels as strings, float32 numbers as the shortest decimal that reads back as exactly
    that float32 (as the CLI prints them: 0.42295337, not 0.42295336723327637)."""
    if values.dtype.kind == "f":
        return [float(str(v)) for v in values]
    return values.tolist()


def to_binary(values: np.ndarray) -> bytes:
    """A column as binary data: FP32 little-endian, or BYTES elements each prefixed by its length."""
    if values.dtype.kind == "f":
        return values.astype("<f4", copy=False).tobytes()
    encoded = [str(v).encode("utf-8") for v in values.tolist()]
    return b"".join(struct.pack("<I", len(e)) + e for e in encoded)


def datatype_of(values: np.ndarray) -> str:
    return "FP32" if values.dtype.kind == "f" else "BYTES"


def _flatten(data: list) -> list:
    """Row-major values of nested lists ([[1, 2], [3, 4]] -> [1, 2, 3, 4]); flat lists as they are."""
    if not any(type(v) is list for v in data):
        return data
    flat: list = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if type(value) is list:
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def _json(value: Any) -> str:
    """A JSON value as the request wrote it, shortened: true, "7", {...}."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 20 else value[:20] + "..."
        return '"' + text.replace('"', '\\"') + '"'
    return "an object" if isinstance(value, dict) else "a list" if isinstance(value, list) else repr(value)
