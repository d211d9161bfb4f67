"""Checks on a model file's bytes before onnxruntime parses them: size, protobuf framing, external data.

The runtime may not import onnx, so this walks the protobuf wire format itself, descending only into
the messages that can hold a tensor (onnx.proto field numbers below) and jumping over everything
else, raw tensor bytes included: its cost grows with the number of fields, not with the file's size.
"""

from __future__ import annotations

import os
import struct

from edge_predict.errors import ModelError
from edge_predict.model.wire import Corrupt, varint

DEFAULT_MAX_BYTES = 256 * 2**20  # far above any model meant for a small device; raise it with max_bytes
PRESCAN_BYTES = 16 * 2**20  # a file larger than this has its fields counted as it is read, before it is held
_MAX_DEPTH = 100  # protobuf's own default nesting limit: onnxruntime cannot parse deeper messages either

# Message kinds, and for each the fields (number -> kind) that hold messages worth descending into.
MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, SPARSE, FUNCTION, TRAINING, OPSET, ENTRY = range(10)
VALUE_INFO, TYPE, TENSOR_TYPE, SHAPE, DIM = range(10, 15)  # a graph input's declared shape
_CHILDREN = {
    MODEL: {7: GRAPH, 8: OPSET, 20: TRAINING, 25: FUNCTION},
    GRAPH: {1: NODE, 5: TENSOR, 11: VALUE_INFO, 15: SPARSE},
    VALUE_INFO: {2: TYPE},
    TYPE: {1: TENSOR_TYPE},
    TENSOR_TYPE: {2: SHAPE},
    SHAPE: {1: DIM},
    DIM: {},
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
# The strings the graph checks read, per message kind: field number -> attribute of the record.
_STRINGS = {
    NODE: {1: "inputs", 2: "outputs", 4: "op_type", 7: "domain"},
    ATTRIBUTE: {1: "name"},
    FUNCTION: {1: "name", 10: "domain"},
    TENSOR: {8: "name"},
    VALUE_INFO: {1: "name"},
}
_FLOAT, _INT64, _INT32 = 1, 7, 6  # TensorProto.DataType
_PLAIN = (1, 2, 8, 9)  # TensorProto.dims, .data_type, .name, .raw_data: a tensor holding no other field is plain
_SMALL = 64  # int tensors up to this many values are decoded: shapes, axes, pads, repeats


# The records the walk fills in are plain classes: a dataclass costs its module a compile() per generated method at
# import, which every cold start paid (bench/goals.py's coldstart row).
class Tensor:
    """A TensorProto's facts: name, dims, element type, its size in the file, and its values if a small int tensor."""

    __slots__ = ("name", "dims", "data_type", "nbytes", "ints", "floats", "plain", "raw")

    def __init__(self, nbytes: int = 0):
        self.name = ""
        self.dims: list[int] = []
        self.data_type = 0
        self.nbytes = nbytes
        self.ints: list[int] | None = None  # None: not an int tensor, or too large to decode
        self.floats: list[float] | None = None  # a small float32 tensor's raw_data values (proofs.py reads them)
        self.plain = True  # only dims, data_type, name and raw_data fields: the values are raw_data's, nothing else
        self.raw: memoryview | None = None  # during the walk: raw_data when small


class Node:
    """A NodeProto's facts; `graphs` are its subgraphs (If, Loop, Scan), `tensors` its tensor attributes by name."""

    __slots__ = ("op_type", "domain", "inputs", "outputs", "attributes")

    def __init__(self):
        self.op_type = ""
        self.domain = ""
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.attributes: list[_Attribute] = []

    def attribute(self, name: str) -> "_Attribute | None":
        """The attribute `name` (the last one, as protobuf readers take it), or None."""
        return next((a for a in reversed(self.attributes) if a.name == name), None)

    @property
    def graphs(self) -> list["Graph"]:
        return [graph for attribute in self.attributes for graph in attribute.graphs]


class _Dimension:
    __slots__ = ("value",)

    def __init__(self):
        self.value: int | None = None  # None: a dim_param (such as the batch) or no size at all


class Input:
    """A graph input's name and declared shape: a size per dimension, None where the file names no size (the
    batch); `shape` is None when the file declares no shape."""

    __slots__ = ("name", "dimensions")

    def __init__(self):
        self.name = ""
        self.dimensions: list[_Dimension] | None = None

    @property
    def shape(self) -> tuple[int | None, ...] | None:
        if self.dimensions is None:
            return None
        return tuple(d.value if d.value is not None and d.value >= 0 else None for d in self.dimensions)


class Graph:
    """A GraphProto's nodes, initializers and inputs (the main graph, a subgraph, or a function's body)."""

    __slots__ = ("nodes", "initializers", "inputs", "name", "domain")

    def __init__(self):
        self.nodes: list[Node] = []
        self.initializers: list[Tensor] = []
        self.inputs: list[Input] = []
        self.name = ""
        self.domain = ""  # functions only


class _Attribute:
    __slots__ = ("name", "i", "ints", "tensor", "tensors", "graphs")

    def __init__(self):
        self.name = ""
        self.i: int | None = None
        self.ints: list[int] = []
        self.tensor: Tensor | None = None
        self.tensors = 0  # how many times the tensor field occurs (protobuf would merge repeats into one)
        self.graphs: list[Graph] = []


class FileFacts:
    """What the scan learned: versions, tensors that keep their data outside the file, the graphs, and their sizes."""

    __slots__ = (
        "ir_version",
        "opsets",
        "external",
        "graph",
        "subgraphs",
        "functions",
        "fields",
        "nodes",
        "constant_bytes",
        "largest",
    )

    def __init__(self):
        self.ir_version = 0
        self.opsets: dict[str, int] = {}
        self.external: list[tuple[str, str]] = []  # (tensor name, location)
        self.graph = Graph()  # the main graph
        self.subgraphs: list[Graph] = []  # of If, Loop, Scan nodes, and training graphs
        self.functions: list[Graph] = []  # model-local functions
        self.fields = 0  # protobuf fields read
        self.nodes = 0  # in every graph and function
        self.constant_bytes = 0  # of initializers and tensor attributes (Constant values)
        self.largest: tuple[str, int] = ("", 0)  # the tensor declaring the most elements, and how many


def default_model_path() -> str:
    """Where the model packaged with edge-predict lives."""
    from edge_predict import models

    return os.path.join(os.path.dirname(models.__file__), "default.onnx")


def read_model_file(path: str | os.PathLike, max_bytes: int, limits=None) -> bytes:
    """The bytes of the model file at `path`; ModelError if empty or over max_bytes (/dev/zero: max_bytes + 1 read).

    A file over PRESCAN_BYTES is first read a MiB at a time, its protobuf fields counted against `limits` (a
    limits.GraphLimits; the defaults when None) and none kept: a file of tiny fields is refused after reading what
    the field limit lets through, before its bytes are held. scan() then checks the bytes that are loaded."""
    from edge_predict.regularfile import NotRegular, open_regular

    check_limit(max_bytes)
    try:
        with open_regular(path) as stream:  # a FIFO or device is refused at once: opening one could wait for ever
            size = os.fstat(stream.fileno()).st_size
            if size > max_bytes:  # a file over the limit is refused unread: no memory taken for it
                check_size(size, max_bytes, os.fspath(path))
            if size > PRESCAN_BYTES:
                _prescan(stream, os.fspath(path), size, limits)
                stream.seek(0)
            parts = _read_at_most(stream, max_bytes + 1, size)
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: no such model file; pass --model PATH to an exported .onnx") from exc
    except (IsADirectoryError, NotRegular) as exc:
        kind = getattr(exc, "kind", "a directory")
        raise ModelError(f"{path}: is {kind}, not a model file; pass the .onnx file itself") from exc
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


def scan(data: bytes, source: str, limits=None) -> FileFacts:
    """Walk the ModelProto in `data`; refuse corrupt framing, tensors whose data lives in other files, and more
    protobuf fields or nodes than `limits` allow (a limits.GraphLimits; the defaults when None): the walk stops
    at the limit, so its time and memory are bounded whatever the file holds."""
    from edge_predict.model.limits import DEFAULT

    facts = FileFacts()
    limits = limits or DEFAULT
    try:
        _walk(memoryview(data), facts, limits.fields, limits.nodes)
    except (Corrupt, _TooMany) as exc:
        raise _refused(exc, source, len(data), limits) from None
    if facts.external:
        name, location = facts.external[0]
        raise ModelError(
            f"{source}: tensor {name!r} keeps its data in an external file ({location!r}); edge-predict loads "
            "only self-contained models and reads nothing outside the model file; re-export it as one file"
        )
    return facts


class _TooMany(Exception):
    """The file holds more protobuf fields (or nodes: args[0]) than the scan may read."""


def _refused(exc: Exception, source: str, size: int, limits) -> ModelError:
    """The error for a scan stopped by corrupt framing (Corrupt) or a limit (_TooMany)."""
    from edge_predict.model.limits import over_limit

    if isinstance(exc, Corrupt):
        return ModelError(
            f"{source}: not a valid ONNX model (corrupt or truncated at byte {exc} of {size}); re-export or re-copy it"
        )
    if exc.args[0] == "nodes":
        return over_limit(source, "nodes", f"more than {limits.nodes:,} nodes", limits.nodes)
    return over_limit(source, "fields", f"more than {limits.fields:,} protobuf fields", limits.fields)


_PACKED = -1  # a prescan stack entry: packed varints, each one a field (as _walk counts them)
_STEP = 1 << 20  # the prescan's reads
_CONTINUED = bytes(range(0x80, 0x100))  # every byte of a varint but its last


def _prescan(stream, source: str, size: int, limits) -> None:
    """Count the fields and nodes of the `size`-byte file in `stream` as _walk counts them, in file order and a MiB
    at a time, keeping nothing: ModelError at the first limit passed or framing error. (A file that shrinks while
    read ends the count: scan() then judges the bytes that are loaded.)"""
    from edge_predict.model.limits import DEFAULT

    limits = limits or DEFAULT
    max_fields = limits.fields
    stack = [(MODEL, size)]  # (kind, absolute end) of the messages the walk descends into
    fields = nodes = 0
    pos = 0  # the absolute offset of the next byte to read in the message on top
    buf, base = b"", 0  # bytes read, from absolute offset `base` on
    try:
        while stack:
            kind, end = stack[-1]
            if pos >= end:
                stack.pop()
                continue
            read = base + len(buf)
            if pos + 20 > read and read < end:  # a key and a varint take at most 20 bytes
                chunk = stream.read(_STEP)
                if not chunk:
                    return
                if pos >= read:  # a skipped field ends past what was read: drop what it covers
                    buf, base = chunk[pos - read :], pos
                    if not buf:
                        base = read + len(chunk)
                else:
                    buf, base = buf[pos - base :] + chunk, pos
                continue
            limit = min(end, read) - base  # in the window: where this message's bytes read so far end
            if kind == _PACKED:
                fields += len(buf[pos - base : limit].translate(None, _CONTINUED))
                pos = base + limit
                if fields > max_fields:
                    raise _TooMany("fields")
                continue
            # the fields of this message whose key and first varint are in the window, up to its first child
            view, children, i = memoryview(buf), _CHILDREN[kind], pos - base
            safe = limit if read >= end else limit - 20
            while i < limit and (i <= safe):
                fields += 1
                if fields > max_fields:
                    raise _TooMany("fields")
                key = view[i]
                if key < 0x80:
                    i += 1
                else:
                    key, i = _varint(view, i, limit, base)
                number, wire = key >> 3, key & 7
                if number == 0:
                    raise Corrupt(base + i)
                if wire == 0:
                    if i < limit and view[i] < 0x80:
                        i += 1
                    else:
                        i = _varint(view, i, limit, base)[1]
                    continue
                if wire == 1 or wire == 5:
                    i += 8 if wire == 1 else 4
                    if base + i > end:
                        raise Corrupt(end)
                    continue
                if wire != 2:
                    raise Corrupt(base + i)
                length, i = _varint(view, i, limit, base)
                start, i = i, i + length
                if base + i > end:
                    raise Corrupt(end)
                child = children.get(number)
                if child is not None and child != ENTRY:
                    if len(stack) > _MAX_DEPTH:
                        raise Corrupt(base + start)
                    stack.append((child, base + i))
                    if child == NODE:
                        nodes += 1
                        if nodes > limits.nodes:
                            raise _TooMany("nodes")
                    i = start
                    break
                if child is None and _packed(kind, number):
                    stack.append((_PACKED, base + i))
                    i = start
                    break
            pos = base + i
    except (Corrupt, _TooMany) as exc:
        raise _refused(exc, source, size, limits) from None


def _varint(view: memoryview, pos: int, end: int, base: int) -> tuple[int, int]:
    """wire.varint in a window of the file that starts at absolute offset `base`: Corrupt at an absolute offset."""
    try:
        return varint(view, pos, end)
    except Corrupt as exc:
        raise Corrupt(base + exc.args[0]) from None


def _walk(buf: memoryview, facts: FileFacts, max_fields: int, max_nodes: int) -> None:
    # an explicit stack: a hostile file cannot exhaust Python's recursion; each entry carries the record it fills
    stack: list = [(MODEL, 0, len(buf), 0, facts)]  # _prescan counts as this walk does: keep them alike
    fields = 0
    while stack:
        kind, pos, end, depth, record = stack.pop()
        if depth > _MAX_DEPTH:
            raise Corrupt(pos)
        children, strings = _CHILDREN[kind], _STRINGS.get(kind, {})
        external, entry = False, {}
        while pos < end:
            fields += 1
            if fields > max_fields:
                raise _TooMany("fields")
            key = buf[pos]  # one byte for every field number below 16: read inline, the walk's hot path
            if key < 0x80:
                pos += 1
            else:
                key, pos = varint(buf, pos, end)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise Corrupt(pos)
            if kind == TENSOR and number not in _PLAIN:
                record.plain = False
            if wire == 0:
                if pos < end and buf[pos] < 0x80:
                    value, pos = buf[pos], pos + 1
                else:
                    value, pos = varint(buf, pos, end)
                if kind == MODEL and number == 1:
                    facts.ir_version = value
                elif kind == OPSET and number == 2:
                    entry["version"] = value
                elif kind == TENSOR:
                    if number == _TENSOR_LOCATION and value == _EXTERNAL:
                        external = True
                    elif number == 1:
                        record.dims.append(_signed(value))
                    elif number == 2:
                        record.data_type = value
                    elif number in (5, 7):
                        _add_int(record, _signed(value))
                elif kind == ATTRIBUTE:
                    if number == 3:
                        record.i = _signed(value)
                    elif number == 8:
                        record.ints.append(_signed(value))
                elif kind == SPARSE and number == 3:
                    record.dims.append(_signed(value))
                elif kind == DIM and number == 1:
                    record.value = _signed(value)
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
                child = children[number]
                if child == ENTRY:
                    external = True
                    location = _entry_location(buf[start:pos])
                    if location is not None:
                        entry["location"] = location
                    continue
                stack.append((child, start, pos, depth + 1, _record(kind, number, child, record, facts, size)))
                if facts.nodes > max_nodes:
                    raise _TooMany("nodes")
            elif number in strings:
                text = bytes(buf[start:pos]).decode("utf-8", "replace")
                name = strings[number]
                if isinstance(getattr(record, name), list):
                    getattr(record, name).append(text)
                else:
                    setattr(record, name, text)
            elif kind == OPSET and number == 1:
                entry["domain"] = bytes(buf[start:pos]).decode("utf-8", "replace")
            elif kind in (TENSOR, ATTRIBUTE, SPARSE) and _packed(kind, number):
                for value in _varints(buf, start, pos):
                    fields += 1
                    if fields > max_fields:
                        raise _TooMany("fields")
                    if kind == ATTRIBUTE:
                        record.ints.append(_signed(value))
                    elif number == 1 or kind == SPARSE:
                        record.dims.append(_signed(value))
                    else:
                        _add_int(record, _signed(value))
            elif kind == TENSOR and number == 9:
                record.raw = buf[start:pos] if size <= 8 * _SMALL else None
        if kind == OPSET:
            facts.opsets[entry.get("domain", "") or "ai.onnx"] = entry.get("version", 0)
        elif kind == TENSOR:
            if record.raw is not None and record.data_type in (_INT64, _INT32):  # data_type may come after it
                record.ints = _raw_ints(record.raw, record.data_type)
            elif record.raw is not None and record.data_type == _FLOAT and len(record.raw) % 4 == 0:
                record.floats = list(struct.unpack(f"<{len(record.raw) // 4}f", record.raw))
            record.raw = None
            if external:
                facts.external.append((record.name or "?", entry.get("location") or "?"))
            _count_elements(record.name, record.dims, facts)
        elif kind == SPARSE:
            _count_elements("(a sparse tensor)", record.dims, facts)
    facts.fields = fields


def _record(parent: int, number: int, child: int, owner, facts: FileFacts, size: int):
    """The record a child message fills, attached to its owner's."""
    if child == NODE:
        node = Node()
        owner.nodes.append(node)
        facts.nodes += 1
        return node
    if child == ATTRIBUTE:
        attribute = _Attribute()
        if isinstance(owner, Node):
            owner.attributes.append(attribute)
        return attribute
    if child == TENSOR:
        facts.constant_bytes += size
        tensor = Tensor(nbytes=size)
        if parent == GRAPH:
            owner.initializers.append(tensor)
        elif parent == ATTRIBUTE and number == 5:
            owner.tensor = tensor
            owner.tensors += 1
        return tensor
    if child == SPARSE:
        facts.constant_bytes += size
        return Tensor(nbytes=size)
    if child == GRAPH:
        if parent == MODEL:
            return facts.graph  # a repeated graph field is merged into one, as protobuf parsers do
        graph = Graph()
        facts.subgraphs.append(graph)
        if isinstance(owner, _Attribute):
            owner.graphs.append(graph)
        return graph
    if child == VALUE_INFO:
        value = Input()
        if parent == GRAPH:
            owner.inputs.append(value)
        return value
    if child == SHAPE:
        if owner.dimensions is None:  # a repeated shape field is merged into one, its dims joined
            owner.dimensions = []
        return owner
    if child == DIM:
        dimension = _Dimension()  # its place is taken now: the walk reads sibling messages last first
        owner.dimensions.append(dimension)
        return dimension
    if child == FUNCTION:
        function = Graph()
        facts.functions.append(function)
        return function
    return owner  # OPSET, TRAINING: the model's facts; TYPE, TENSOR_TYPE: the input's


def _packed(kind: int, number: int) -> bool:
    """A length-delimited field holding packed varints the checks read (dims, int data, ints attributes)."""
    if kind == TENSOR:
        return number in (1, 5, 7)
    if kind == ATTRIBUTE:
        return number == 8
    return kind == SPARSE and number == 3


def _varints(buf: memoryview, pos: int, end: int):
    while pos < end:
        value, pos = varint(buf, pos, end)
        yield value


def _signed(value: int) -> int:
    """An int64 from its varint (negative numbers are ten-byte two's complement)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _add_int(tensor: Tensor, value: int) -> None:
    if tensor.ints is None:
        tensor.ints = []
    if len(tensor.ints) < _SMALL:
        tensor.ints.append(value)


def _raw_ints(raw: memoryview, data_type: int) -> list[int]:
    width = 8 if data_type == _INT64 else 4
    return [int.from_bytes(raw[i : i + width], "little", signed=True) for i in range(0, len(raw) - width + 1, width)]


def _count_elements(name: str, dims: list[int], facts: FileFacts) -> None:
    """Keep the tensor that declares the most elements (onnxruntime allocates what the dims say)."""
    count = 1
    for dim in dims:
        count *= max(dim, 0)
    if count > facts.largest[1]:
        facts.largest = (name, count)


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
