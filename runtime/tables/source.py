"""Opening the text that samples come from: a file, or stdin for '-'."""

from __future__ import annotations

import os
import stat
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
        info = os.fstat(stream.fileno())
        yield _Watched(stream, path, info) if stat.S_ISREG(info.st_mode) else stream


class _Watched:
    """A regular input file whose end is checked: a file that shrank (truncated, or rewritten in place) or was
    replaced while it was read is an InputError naming it, before its last line, perhaps a fragment, is scored."""

    def __init__(self, stream: IO[bytes], path: str, info: os.stat_result):
        self._stream, self._path, self._info, self._read = stream, path, info, 0

    def read1(self, size: int = -1) -> bytes:
        return self._checked(self._stream.read1(size))

    def read(self, size: int = -1) -> bytes:
        return self._checked(self._stream.read(size))

    def _checked(self, data: bytes) -> bytes:
        self._read += len(data)
        if not data:
            now = os.fstat(self._stream.fileno())
            try:
                named = os.stat(self._path)
            except OSError:
                named = None
            if self._read < self._info.st_size or now.st_size < self._read:
                raise InputError(
                    f"{self._path}: the input file shrank while it was read (it had {self._info.st_size:,} bytes; "
                    f"{self._read:,} were read, it now has {now.st_size:,}): it was truncated or rewritten; score "
                    "a copy that nothing writes to"
                )
            if named is None or (named.st_dev, named.st_ino) != (now.st_dev, now.st_ino):
                raise InputError(
                    f"{self._path}: the input file was replaced or removed while it was read; score a copy that "
                    "nothing writes to"
                )
        return data

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
