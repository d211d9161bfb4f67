"""The reader's fast path: a block of lines that are all plain numbers is parsed at once."""

from __future__ import annotations

import re
from typing import IO, Iterator, Sequence

import numpy as np

from .errors import InputError

BLOCK_CHARS = 1 << 17  # ~25,000 short lines: fastest here, and peak RSS flat (70 MiB from 1e5 to 1e7 lines)
# The only characters a plain-number line can hold. Anything else (spaces, '#', ',', the letters of nan
# and inf, a BOM, stray bytes) sends the whole block to the line-by-line reader, which knows the rules.
_PLAIN = re.compile(r"[0-9.eE+\-\n]*")
# A sample is a short line; a file without line breaks (or /dev/zero) must not be read whole into memory.
MAX_LINE_CHARS = 1 << 20


def line_too_long(lineno: int) -> InputError:
    """The error for a line over MAX_LINE_CHARS characters."""
    return InputError(f"line {lineno} is longer than {MAX_LINE_CHARS:,} characters; expected one sample per line "
                      "(is this a text file with line breaks?)")


def bounded_lines(stream: IO[str]) -> Iterator[str]:
    """The lines of `stream`, none read beyond MAX_LINE_CHARS + 1 characters (a longer one comes cut)."""
    return iter(lambda: stream.readline(MAX_LINE_CHARS + 1), "")


class OneColumn(Sequence[tuple[str]]):
    """A one-feature batch's texts: row i is (lines[i],), without building 100,000 one-tuples."""

    def __init__(self, lines: list[str]):
        self.lines = lines  # the Writer joins these directly

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [(line,) for line in self.lines[i]]
        return (self.lines[i],)


def blocks(stream: IO[str], lineno: int) -> Iterator[tuple[int, str]]:
    """(number of its first line, text) of whole lines of `stream`, about BLOCK_CHARS at a time."""
    while True:
        text = stream.read(BLOCK_CHARS)
        if not text:
            return
        if not text.endswith("\n"):  # finish the last line (a block never splits one), reading at most the cap
            start = text.rfind("\n") + 1
            text += stream.readline(MAX_LINE_CHARS + 1 - (len(text) - start))
            if len(text) - start - text.endswith("\n") > MAX_LINE_CHARS:
                raise line_too_long(lineno + text.count("\n", 0, start))
        yield lineno, text
        lineno += text.count("\n") + (not text.endswith("\n"))


def plain_numbers(text: str) -> tuple[np.ndarray, list[str]] | None:
    """The values (n, 1) and lines of `text` if each line is one number in plain decimal; else None.

    On these characters float() takes exactly the decimal numbers the line reader accepts, and the same
    text gives the same float. '', '1.2.3', '1e400' and the like return None: the line reader names them.
    """
    if not _PLAIN.fullmatch(text):
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    try:
        values = np.array(list(map(float, lines)), dtype=np.float64)
    except ValueError:
        return None
    if not np.isfinite(values).all():
        return None
    return values.reshape(-1, 1), lines
