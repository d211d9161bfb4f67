"""The integrity digest an exporter appends to a model file: any changed byte makes the file refused.

The golden vectors catch a damaged weight only when it moves an output beyond the tolerance, and
nothing in them covers a label, the threshold or a feature's domain. So the exporter appends one last
metadata entry, DIGEST_KEY, holding the sha256 of every byte before it; the runtime recomputes it
before onnxruntime sees the bytes. Protobuf readers (onnxruntime, onnx) take an entry appended at the
end like any other, so the file stays a plain ONNX model.
"""

from __future__ import annotations

from edge_predict.errors import ModelError
from edge_predict.model.wire import Corrupt, varint

DIGEST_KEY = b"edge_predict.sha256"
_METADATA_PROPS = 14  # ModelProto.metadata_props
BUILTIN_MAX = 16 * 2**20  # the built-in SHA-256 takes about 45 ms for this many bytes


def seal(data: bytes) -> bytes:
    """`data` (a serialized ModelProto) with the digest entry appended."""
    value = sha256_hex(data).encode()
    entry = _field(1, DIGEST_KEY) + _field(2, value)
    return data + _field(_METADATA_PROPS, entry)


def check(data: bytes, source: str) -> bool:
    """True if `data` ends with a digest entry that matches; False if it has none; ModelError if it differs."""
    start = _last_record(data)
    try:
        found = _digest_entry(data, start) if start is not None else None
    except Corrupt:  # the framing inside the last entry is broken: as good as no digest
        found = None
    if found is None:
        return False
    if sha256_hex(memoryview(data)[:start]).encode() != found:  # a view: no copy of a large model's bytes
        raise ModelError(
            f"{source}: the model file's integrity digest does not match its bytes: it was damaged or "
            "changed after export; re-copy it from its source, or re-export it"
        )
    return True


def sha256_hex(data: bytes | memoryview) -> str:
    """The SHA-256 of `data` in hex. Up to BUILTIN_MAX bytes with CPython's own implementation: importing hashlib
    loads OpenSSL, which costs the CLI's start-up 3.4 MiB of RSS (make bench, workload 1); above it, OpenSSL's
    is several times faster."""
    sha256 = None
    if len(data) <= BUILTIN_MAX:
        try:
            from _sha256 import sha256  # CPython 3.11
        except ImportError:
            try:
                from _sha2 import sha256  # CPython 3.12+
            except ImportError:
                pass
    if sha256 is None:
        from hashlib import sha256
    return sha256(data).hexdigest()


def missing(source: str) -> ModelError:
    """The error for a file whose manifest format requires a digest but has none."""
    return ModelError(
        f"{source}: the model file has no integrity digest (or a damaged one), which its manifest "
        "format requires: it was damaged or re-saved after export; re-copy or re-export it"
    )


def _field(number: int, payload: bytes) -> bytes:
    return _varint_bytes(number << 3 | 2) + _varint_bytes(len(payload)) + payload


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _last_record(data: bytes) -> int | None:
    """The offset of the last top-level field of a well-formed message (modelfile.scan checked the framing)."""
    buf, pos, end, last = memoryview(data), 0, len(data), None
    while pos < end:
        last = pos
        key, pos = varint(buf, pos, end)
        wire = key & 7
        if wire == 0:
            _, pos = varint(buf, pos, end)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            size, pos = varint(buf, pos, end)
            pos += size
    return last


def _digest_entry(data: bytes, start: int) -> bytes | None:
    """The digest value if the record at `start` is metadata_props {key: DIGEST_KEY, value: ...}."""
    buf, end = memoryview(data), len(data)
    key, pos = varint(buf, start, end)
    if key != (_METADATA_PROPS << 3 | 2):
        return None
    size, pos = varint(buf, pos, end)
    fields, stop = {}, pos + size
    while pos < stop:
        tag, pos = varint(buf, pos, stop)
        if tag & 7 != 2:
            return None
        length, pos = varint(buf, pos, stop)
        fields[tag >> 3] = bytes(buf[pos : pos + length])
        pos += length
    return fields.get(2) if fields.get(1) == DIGEST_KEY else None
