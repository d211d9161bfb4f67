"""A progress line on stderr while `predict --input FILE > out` scores a long file: rows done, rows/s and the share
of the file read, redrawn a few times a second and erased when the run ends. Only for a person watching: stderr a
terminal, stdout not (the answers go to a file or a pipe), the input a file (never stdin)."""

from __future__ import annotations

import os
import stat
import time
from typing import IO, Iterable, Iterator

INTERVAL = 0.25  # seconds between redraws


def progress_for(input_path: str, stream, stdout: IO, stderr: IO) -> "Progress | None":
    """The progress line for reading `stream` (opened from `input_path`), or None when nobody would see it."""
    if input_path == "-" or not _isatty(stderr) or _isatty(stdout):
        return None
    try:
        fd = stream.fileno()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):
        return None
    size = info.st_size if stat.S_ISREG(info.st_mode) and info.st_size > 0 else None
    return Progress(stderr, fd, size)


def _isatty(stream: IO) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


class Progress:
    """Counts the rows of the batches that pass through count() and keeps one line on `out` up to date."""

    def __init__(self, out: IO, fd: int, size: int | None):
        self.out, self.fd, self.size = out, fd, size
        self.rows, self.start, self.drawn, self.width = 0, time.monotonic(), None, 0

    def count(self, batches: Iterable) -> Iterator:
        """The batches, unchanged; each one's rows counted once it was scored and written (when the next one is
        asked for), and the line redrawn if INTERVAL has passed."""
        for batch in batches:
            yield batch
            self.rows += len(batch.lines)
            now = time.monotonic()
            if self.drawn is None or now - self.drawn >= INTERVAL:
                self._draw(now)

    def line(self, now: float) -> str:
        """'1,234,567 rows, 1,020,000 rows/s, 12% of the file read'."""
        rate = self.rows / max(now - self.start, 1e-9)
        text = f"{self.rows:,} rows, {rate:,.0f} rows/s"
        if self.size is not None:
            try:
                share = min(os.lseek(self.fd, 0, os.SEEK_CUR) / self.size, 1.0)
                text += f", {share:.0%} of the file read"
            except OSError:
                pass
        return text

    def _draw(self, now: float) -> None:
        text = self.line(now)
        self._write("\r" + text + " " * max(self.width - len(text), 0))
        self.drawn, self.width = now, len(text)

    def clear(self) -> None:
        """Erase the line (before a message on stderr, and when the run ends); the next batch draws it again."""
        if self.width:
            self._write("\r" + " " * self.width + "\r")
            self.width = 0
            self.drawn = None

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):  # stderr gone: the run goes on without a progress line
            pass
