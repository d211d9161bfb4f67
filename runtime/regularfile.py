"""Opening a file that must be a regular file: a FIFO, device, socket or directory is refused at once.

open() on a FIFO waits for a writer, for ever on a device that nobody writes to; so the file is opened without
waiting (O_NONBLOCK, which a regular file ignores), its kind looked at, and only a regular file is read.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegular(OSError):
    """The path names something other than a regular file; `.kind` says what ('a FIFO (named pipe)')."""

    def __init__(self, path: str, kind: str):
        super().__init__(f"{path}: is {kind}, not a regular file")
        self.kind = kind
        self.strerror = f"is {kind}, not a regular file"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """`path` opened for reading in binary, if it is a regular file; NotRegular (an OSError) if not, OSError as open()
    raises it otherwise (FileNotFoundError, PermissionError)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((what for test, what in _KINDS if test(mode)), "not a regular file")
            raise NotRegular(os.fspath(path), kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
