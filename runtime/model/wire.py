"""The protobuf wire format, read without the protobuf package: what the file checks and the digest share."""

from __future__ import annotations


class Corrupt(Exception):
    """The bytes are not well-formed protobuf at this offset."""


def varint(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end or shift > 63:
            raise Corrupt(pos)
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
