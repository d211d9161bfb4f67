"""Opening the text that samples come from: a file, or stdin for '-'."""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from typing import IO, Iterator

from .errors import InputError


@contextmanager
def open_input(path: str) -> Iterator[IO[str]]:
    """The text of FILE, or of stdin for '-': UTF-8 with or without BOM, any line ending."""
    options = dict(encoding="utf-8-sig", errors="surrogateescape", newline=None)
    if path == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, **options)
        try:
            yield stream
        finally:
            stream.detach()  # leave sys.stdin open for whoever runs us
        return
    try:
        stream = open(path, **options)
    except FileNotFoundError:
        raise InputError(f"{path}: no such input file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an input file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open the input file ({exc.strerror})") from None
    with stream:
        yield stream
