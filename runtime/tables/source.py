"""Opening the text that samples come from: a file, or stdin for '-'."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import IO, Iterator

from edge_predict.errors import InputError


@contextmanager
def open_input(path: str) -> Iterator[IO[bytes]]:
    """The bytes of FILE, or of stdin for '-' (left open for whoever runs us); the reader decodes them."""
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        stream = open(path, "rb")
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
