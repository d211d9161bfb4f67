"""The reader's fast path: text taken as it arrives, cut into blocks of whole lines, each block parsed at once."""

from __future__ import annotations

import codecs
import io
import threading
from typing import IO, Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from edge_predict.errors import InputError

BLOCK_CHARS = 1 << 17  # per read: numpy's calls stay large, memory stays flat (bench/results.md)
BLOCK_LINES = 1024  # wide lines: reads of this many (the writer's memory follows lines, the parser's fields)
# A sample is a short line; a file without line breaks (or /dev/zero) must not be read whole into memory.
MAX_LINE_CHARS = 1 << 20
TOO_LONG = "\0line too long\0"  # stands for a line over MAX_LINE_CHARS that --keep-going skips (no sample is this)


def line_too_long(lineno: int) -> InputError:
    """The error for a line over MAX_LINE_CHARS characters."""
    return InputError(
        f"line {lineno} is longer than {MAX_LINE_CHARS:,} characters; expected one sample per line "
        "(is this a text file with line breaks?)",
        line=lineno,
    )


def block_chars(text: str) -> int:
    """Characters per read for lines like those of `text`: BLOCK_CHARS, or BLOCK_LINES of them if more (at most
    twice BLOCK_CHARS): each block costs some time of its own, which wide lines would pay often."""
    lines = max(text.count("\n"), 1)
    return min(max(BLOCK_CHARS, len(text) * BLOCK_LINES // lines), 2 * BLOCK_CHARS)


def text_chunks(stream: IO) -> Iterator[str]:
    """The text of `stream` as it arrives: one read at a time, so a line on a pipe is answered at once. The first
    read takes at most BLOCK_CHARS characters, the others as many as block_chars() finds for its lines.

    A binary stream is decoded as open() in text mode would: UTF-8 with or without a BOM, undecodable
    bytes kept (as surrogates) for the error message, any line ending read as '\\n'.
    """
    chars = BLOCK_CHARS
    if isinstance(stream, io.TextIOBase):
        while text := _read(stream.read, chars):
            yield text
            chars = block_chars(text)
        return
    decoder = codecs.getincrementaldecoder("utf-8-sig")("surrogateescape")
    read = getattr(stream, "read1", stream.read)  # read1: what is there, waiting only if nothing is
    after_cr = False  # the last read ended in '\r': a '\n' first in this one is the rest of that line end
    while True:
        data = _read(read, chars)
        text = decoder.decode(data, final=not data)
        if after_cr and text[:1] == "\n":
            text, after_cr = text[1:], False
        if text:  # '\r\n' and '\r' end lines, as universal newlines read them; a '\r' last in a read at once
            after_cr = text[-1] == "\r"  # (io.IncrementalNewlineDecoder waits for the next byte: a device waited)
            yield text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text
            chars = block_chars(text)
        if not data:
            return


def _read(read, chars: int):
    """One read of at most `chars`; an OS error (EIO, a file that cannot be read) is the input's problem."""
    try:
        return read(chars)
    except OSError as exc:
        raise InputError(f"cannot read the input ({exc.strerror or exc}); pass a readable file or '-'") from None


def whole_lines(chunks: Iterable[str], lineno: int = 1, keep: bool = False) -> Iterator[tuple[int, str]]:
    """(number of its first line, text) of the whole lines in `chunks`, each text ending with '\\n',
    yielded as soon as a line is complete; a line longer than MAX_LINE_CHARS is an InputError, or with `keep` its
    characters are dropped as they arrive and the line is TOO_LONG (a bad row, and the reading goes on)."""
    pending, skipping = "", False
    for chunk in chunks:
        if skipping:  # inside an over-long line: up to its end, nothing is kept
            end = chunk.find("\n")
            if end < 0:
                continue
            yield lineno, TOO_LONG + "\n"
            lineno, chunk, skipping = lineno + 1, chunk[end + 1 :], False
        cut = chunk.rfind("\n") + 1
        if len(pending) + (chunk.find("\n") if cut else len(chunk)) > MAX_LINE_CHARS:
            if not keep:
                raise line_too_long(lineno)
            pending, skipping = "", True
            end = chunk.find("\n")
            if end < 0:
                continue
            yield lineno, TOO_LONG + "\n"
            lineno, chunk, skipping = lineno + 1, chunk[end + 1 :], False
            cut = chunk.rfind("\n") + 1
        if not cut:
            pending += chunk
            continue
        text, pending = pending + chunk[:cut], chunk[cut:]
        yield lineno, text
        lineno += text.count("\n")
        if len(pending) > MAX_LINE_CHARS:
            if not keep:
                raise line_too_long(lineno)
            pending, skipping = "", True
    if skipping:
        yield lineno, TOO_LONG + "\n"
    elif pending:  # the last line had no line break
        yield lineno, pending + "\n"


T = TypeVar("T")


def ahead(items: Iterator[T], work: Callable[[T], object]) -> Iterator[tuple[T, object]]:
    """(item, work(item)) for each item, read and worked on one item ahead in a thread: the next block is read
    and parsed on the second core while this one is scored and written. Errors come in their place."""
    import queue  # here: `predict 7` reads no input

    done, results = threading.Event(), queue.Queue(maxsize=1)

    def put(result) -> bool:
        while not done.is_set():
            try:
                results.put(result, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if done.is_set() or not put((item, work(item), None)):  # no work once the consumer has stopped
                    return
        except BaseException as exc:  # raised where the consumer reaches it, in order
            put((None, None, exc))
            return
        put(None)

    threading.Thread(target=run, daemon=True).start()
    try:
        while (result := results.get()) is not None:
            item, value, error = result
            if error is not None:
                raise error
            yield item, value
    finally:
        done.set()  # the consumer stopped (an error, or it had enough): the thread stops too


def feature_fields(text: str, width: int, features: Sequence[int]) -> bytes | None:
    """The fields of the columns `features` (sorted indices) of whole lines of `width` fields, as lines of their
    own; None if the other (pass-through) columns hold what only the line reader reads right: a quote, a '#'
    (a comment line may have commas too), a carriage return, text that is not UTF-8, or a line of other width."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable input bytes, kept as surrogates
        return None
    if b'"' in data or b"#" in data or b"\r" in data or not data.endswith(b"\n"):
        return None
    b = np.frombuffer(data, np.uint8)
    ends = (b == 44) | (b == 10)  # ',' and '\n' end a field
    rows, where = data.count(b"\n"), np.flatnonzero(ends)
    if len(where) != rows * width or not (b[where[width - 1 :: width]] == 10).all():
        return None
    wanted = np.zeros(width, bool)
    wanted[list(features)] = True
    field = np.cumsum(ends) - ends  # each byte's field (a separator's: the one it ends)
    kept = b[wanted[field % width]]
    where = np.flatnonzero((kept == 44) | (kept == 10)).reshape(rows, len(features))
    kept[where] = 44
    kept[where[:, -1]] = 10
    return kept.tobytes()


class BlockTexts(Sequence[tuple[str, ...]]):
    """The texts of a block read at once, split into rows and fields only when asked: each row's features in model
    order, then its pass-through fields."""

    def __init__(self, text: str, order: Sequence[int], block=None, extra: Sequence[int] = ()):
        self.text, self.picks = text, [*order, *extra]  # text: whole lines, each ending with '\n'
        self.block = block  # the parsed block (blockparse.Block), for the writer
        self.columns = [sorted(order).index(j) for j in order]  # each feature's column in block.values
        self._lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """Each row as one text, its fields in model order and separated by ','."""
        if self._lines is None:
            lines = self.text.split("\n")
            lines.pop()
            if self.picks != sorted(self.picks):  # a header named the columns in another order
                lines = [",".join([fields[j] for j in self.picks]) for fields in (line.split(",") for line in lines)]
            self._lines = lines
        return self._lines

    @property
    def rows(self) -> str:
        """The rows as one text, fields in model order (then the pass-through ones), each row ending with '\n'."""
        return self.text if self.picks == sorted(self.picks) else "\n".join(self.lines) + "\n"

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return tuple(self.lines[i].split(","))
