"""Replace a file so that a reader sees the old bytes or the new ones, never a part (shared by trainer and CLI)."""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock, so no writer locks its file and no sweeper removes any
    fcntl = None


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path`: to a temporary file beside it, fsynced, then renamed over it.

    The writer holds an exclusive flock on its temporary file until the rename, so a temporary file
    whose lock can be taken belongs to a writer that died (SIGKILL, power cut): the next write to the
    same path removes those, and never a live writer's, whatever its process ID.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = _locked_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:  # closing it releases the lock: only after the rename
            os.fchmod(fd, 0o644)  # mkstemp makes 0600; a model is meant to be read by others
            handle.write(data)
            handle.flush()
            os.fsync(fd)
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    """fsync a directory, so that a rename in it survives a power cut."""
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of writers to `path` that died: those whose lock can be taken."""
    if fcntl is None:
        return
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            fd = os.open(candidate, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:  # gone already, a symlink, or not ours to read
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            opened, named = os.fstat(fd), os.stat(candidate, follow_symlinks=False)
            if (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino):
                candidate.unlink()
        except OSError:  # locked by a live writer, renamed meanwhile, or a file system without flock
            pass
        finally:
            os.close(fd)


def _locked_temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path`, created and locked; (fd, name)."""
    while True:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        if fcntl is None:
            return fd, tmp
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # waits while a sweeper looks at it
        except OSError:  # no flock on this file system: no sweeper can take it either
            return fd, tmp
        if os.fstat(fd).st_nlink:
            return fd, tmp
        os.close(fd)  # a sweeper took it between mkstemp and flock, and removed it: make another
