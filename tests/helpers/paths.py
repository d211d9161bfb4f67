"""The fast paths forced on inputs of any size: block boundaries everywhere, each block still parsed at once."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from edge_predict.tables._fast import blockparse, fastread, numformat, rowtext


@contextmanager
def small_blocks(block_chars: int) -> Iterator[None]:
    """Reads of `block_chars` characters (many block boundaries), and a few lines, rows or values still through the
    block parser, the whole-batch writer and the vectorized formatter (which leave them to the line path, the row
    writer and one value at a time otherwise): what an equivalence with the line path must compare."""
    saved = fastread.BLOCK_CHARS, blockparse.MIN_FIELDS, rowtext.MIN_ROWS, numformat.MIN_VALUES
    fastread.BLOCK_CHARS, blockparse.MIN_FIELDS, rowtext.MIN_ROWS, numformat.MIN_VALUES = block_chars, 0, 0, 0
    try:
        yield
    finally:
        fastread.BLOCK_CHARS, blockparse.MIN_FIELDS, rowtext.MIN_ROWS, numformat.MIN_VALUES = saved
