"""The ModelProto's main graph as numpy data, decoded from bytes the model layer already checked (file.scan).

Only what the numpy engine runs on is read: the graph's nodes with their attributes, its initializers, its inputs
and outputs with their types and shapes, the opsets, the producer and the metadata. Field numbers are onnx.proto's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edge_predict.model.wire import Corrupt, varint

# TensorProto.DataType -> numpy dtype (STRING as object arrays of str)
DTYPES = {
    1: np.float32,
    2: np.uint8,
    3: np.int8,
    4: np.uint16,
    5: np.int16,
    6: np.int32,
    7: np.int64,
    8: object,
    9: np.bool_,
    10: np.float16,
    11: np.float64,
    12: np.uint32,
    13: np.uint64,
}
# onnxruntime's spelling of an element type, as NodeArg.type gives it
TYPE_NAMES = {
    1: "tensor(float)",
    2: "tensor(uint8)",
    3: "tensor(int8)",
    4: "tensor(uint16)",
    5: "tensor(int16)",
    6: "tensor(int32)",
    7: "tensor(int64)",
    8: "tensor(string)",
    9: "tensor(bool)",
    10: "tensor(float16)",
    11: "tensor(double)",
    12: "tensor(uint32)",
    13: "tensor(uint64)",
}


@dataclass
class Arg:
    """A graph input or output as onnxruntime's NodeArg shows it: name, 'tensor(float)', [dims or names]."""

    name: str
    type: str
    shape: list


@dataclass
class Node:
    op_type: str = ""
    domain: str = ""
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)  # name -> int, float, bytes, ndarray, or a list of them


@dataclass
class Model:
    producer: str = ""
    opsets: dict[str, int] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    initializers: dict[str, np.ndarray] = field(default_factory=dict)
    inputs: list[Arg] = field(default_factory=list)
    outputs: list[Arg] = field(default_factory=list)


def read(data: bytes) -> Model:
    """The model in `data`; wire.Corrupt or ValueError where the bytes do not hold what onnx.proto says."""
    buf = memoryview(data)
    model = Model()
    graphs = []
    for number, value in _fields(buf):
        if number == 2:
            model.producer = _text(value)
        elif number == 7:
            graphs.append(value)
        elif number == 8:
            domain, version = "", 0
            for n, v in _fields(value):
                if n == 1:
                    domain = _text(v)
                elif n == 2:
                    version = v
            model.opsets[domain or "ai.onnx"] = version
        elif number == 14:
            entry = {n: _text(v) for n, v in _fields(value) if n in (1, 2)}
            model.metadata[entry.get(1, "")] = entry.get(2, "")  # the last entry of a key wins, as onnxruntime's
    declared = []
    for graph in graphs:  # a repeated graph field is merged into one, as protobuf parsers do
        for number, value in _fields(graph):
            if number == 1:
                model.nodes.append(_node(value))
            elif number == 5:
                name, array = _tensor(value)
                model.initializers[name] = array
            elif number == 11:
                declared.append(_arg(value))
            elif number == 12:
                model.outputs.append(_arg(value))
    model.inputs = [arg for arg in declared if arg.name not in model.initializers]  # IR < 4 lists them as inputs
    return model


def _fields(buf: memoryview):
    """(field number, value) of a message: an int (varint), bytes of fixed width (wire 1, 5), or a memoryview."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos, end)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, pos = buf[pos : pos + width], pos + width
        elif wire == 2:
            size, pos = varint(buf, pos, end)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise Corrupt(pos)
        if pos > end:
            raise Corrupt(end)
        yield number, value


def _text(value) -> str:
    return bytes(value).decode("utf-8")  # a damaged name: UnicodeDecodeError, as onnxruntime's Python layer raises


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _varints(value) -> list[int]:
    """Packed varints (a memoryview) or one unpacked varint (an int)."""
    if isinstance(value, int):
        return [_signed(value)]
    out, pos = [], 0
    while pos < len(value):
        v, pos = varint(value, pos, len(value))
        out.append(_signed(v))
    return out


def _fixed(value, dtype) -> list:
    return np.frombuffer(bytes(value), dtype=dtype).tolist()


def _node(buf: memoryview) -> Node:
    node = Node()
    for number, value in _fields(buf):
        if number == 1:
            node.inputs.append(_text(value))
        elif number == 2:
            node.outputs.append(_text(value))
        elif number == 4:
            node.op_type = _text(value)
        elif number == 7:
            node.domain = _text(value)
        elif number == 5:
            name, attribute = _attribute(value)
            node.attributes[name] = attribute
    return node


def _attribute(buf: memoryview):
    """(name, value): f -> float, i -> int, s -> bytes, t -> ndarray, floats/ints/strings -> list."""
    name, kind, scalar, lists = "", 0, None, {"floats": [], "ints": [], "strings": [], "tensors": []}
    for number, value in _fields(buf):
        if number == 1:
            name = _text(value)
        elif number == 20:
            kind = value
        elif number == 2:
            scalar = _fixed(value, "<f4")[0]
        elif number == 3:
            scalar = _signed(value)
        elif number == 4:
            scalar = bytes(value)
        elif number == 5:
            scalar = _tensor(value)[1]
        elif number == 7:
            lists["floats"] += _fixed(value, "<f4")
        elif number == 8:
            lists["ints"] += _varints(value)
        elif number == 9:
            lists["strings"].append(bytes(value))
        elif number == 10:
            lists["tensors"].append(_tensor(value)[1])
    # AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 6 FLOATS, 7 INTS, 8 STRINGS, 9 TENSORS
    listed = {6: "floats", 7: "ints", 8: "strings", 9: "tensors"}
    if kind in listed:
        return name, lists[listed[kind]]
    if scalar is None:  # no type written: whichever list holds something
        return name, next((v for v in lists.values() if v), [])
    return name, scalar


def _tensor(buf: memoryview) -> tuple[str, np.ndarray]:
    name, dims, data_type, raw = "", [], 1, None
    floats, ints, int64s, doubles, uint64s, strings = [], [], [], [], [], []
    for number, value in _fields(buf):
        if number == 1:
            dims += _varints(value)
        elif number == 2:
            data_type = value
        elif number == 4:
            floats += _fixed(value, "<f4")
        elif number == 5:
            ints += _varints(value)
        elif number == 6:
            strings.append(bytes(value))
        elif number == 7:
            int64s += _varints(value)
        elif number == 8:
            name = _text(value)
        elif number == 9:
            raw = bytes(value)
        elif number == 10:
            doubles += _fixed(value, "<f8")
        elif number == 11:
            uint64s += [v & ((1 << 64) - 1) for v in _varints(value)]
    if data_type not in DTYPES:
        raise ValueError(f"tensor {name!r} has element type {data_type}, which the numpy engine does not read")
    dtype = DTYPES[data_type]
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if data_type == 8:
        array = np.array([s.decode("utf-8") for s in strings], dtype=object)
    elif raw is not None:
        array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
    elif data_type == 1:
        array = np.array(floats, np.float32)
    elif data_type == 11:
        array = np.array(doubles, np.float64)
    elif data_type == 7:
        array = np.array(int64s, np.int64)
    elif data_type in (12, 13):
        array = np.array(uint64s, dtype)
    elif data_type == 10:  # float16: its bits in int32_data
        array = np.array(ints, np.uint16).view(np.float16)
    else:
        array = np.array(ints, dtype)
    if array.size != count:
        raise ValueError(f"tensor {name!r} holds {array.size} values but its dims {dims} declare {count}")
    return name, array.reshape(dims)


def _arg(buf: memoryview) -> Arg:
    name, elem, shape = "", 0, []
    for number, value in _fields(buf):
        if number == 1:
            name = _text(value)
        elif number == 2:
            for n, tensor in _fields(value):
                if n != 1:
                    continue
                for m, v in _fields(tensor):
                    if m == 1:
                        elem = v
                    elif m == 2:
                        shape = [_dim(d) for k, d in _fields(v) if k == 1]
    return Arg(name, TYPE_NAMES.get(elem, f"tensor({elem})"), shape)


def _dim(buf: memoryview):
    for number, value in _fields(buf):
        if number == 1:
            return _signed(value)
        if number == 2:
            return _text(value)
    return None
