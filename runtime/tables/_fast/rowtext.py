"""CSV lines and JSON objects for a whole batch at once, built as numpy buffers of ASCII codes (NULs pad the
fixed-width columns; dropping them joins): no per-row formatting."""

from __future__ import annotations

import functools
import json
from typing import Sequence

import numpy as np

from edge_predict.tables._fast.numformat import probability_chars

_QUOTED = np.zeros(256, bool)
_QUOTED[list(b',"\r\n')] = True  # a CSV field holding one of these is quoted: row by row
_ESCAPED = np.zeros(256, bool)
_ESCAPED[list(range(1, 32)) + [ord('"'), ord("\\")]] = True  # escaped in a JSON string (NUL: padding)
# Fewer rows than this are written row by row (Writer): the whole batch's buffers cost more than they save there (the
# device loop's one answer per line, bench/goals.py's loop row).
MIN_ROWS = 8


def pays(rows: int) -> bool:
    """Whether a batch of `rows` rows is worth building at once rather than row by row."""
    return rows >= MIN_ROWS


def csv_rows(rows: str, outputs: dict[str, np.ndarray]) -> str | None:
    """Each line of `rows` (every one ending with '\n') followed by ',output,...'; None if an output is not ASCII.

    The output columns of all rows are built as one numpy buffer and joined to the lines in one pass: joining
    a million f-strings costs more than scoring them.
    """
    columns = [_chars(values) for values in outputs.values()]
    if any(chars is None for chars in columns):
        return None
    n = len(columns[0])
    comma = np.full((n, 1), ord(","), np.uint8)
    tails = (
        np.concatenate([part for chars in columns for part in (comma, chars)] + [np.full((n, 1), 10, np.uint8)], axis=1)
        .tobytes()
        .translate(None, b"\0")
        .decode("ascii")
    )  # NULs pad; dropping them joins
    return "\n".join(map(str.__add__, rows.split("\n"), tails.split("\n")))


def json_rows(batch, names: Sequence[str], outputs: dict[str, np.ndarray], multiclass: bool, errors: bool) -> str:
    """Each row's JSON object: '{"input":{...},', its outputs, and with `errors` '"error":null'. Where the block
    reader read the batch, its inputs come from the block's texts and the whole text is one numpy buffer."""
    parts = [part for key, chars in _output_parts(outputs, multiclass) for part in (key, chars)]
    tail = ("}" if multiclass else "") + (',"error":null' if errors else "") + "}\n"
    inputs = _input_parts(batch, names)
    if inputs is None:  # read line by line: the inputs one by one, the outputs at once
        rows = zip(
            (f'{{"input":{json_text(dict(zip(names, r)))},' for r in batch.values.tolist()),
            _join(parts, "\n").split("\n"),
        )
        return "".join(i + o + tail for i, o in rows)
    return _join(inputs + parts, tail)


def _input_parts(batch, names: Sequence[str]) -> list | None:
    """'{"input":{"a":1.0,"b":2.5},' of every row as parts for _join, from the block's texts (None if the batch
    was read line by line, or without json=True)."""
    block = None if batch.block is None else batch.block.block
    if block is None or block.json_chars is None:
        return None
    n, k = batch.values.shape
    values = block.json_chars.reshape(n, k, -1)
    columns = batch.block.columns
    keys = _input_keys(tuple(names))
    return [part for j, key in enumerate(keys) for part in (key, values[:, columns[j]])] + ["},"]


@functools.lru_cache(maxsize=8)
def _input_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    """'{"input":{"a":' and ',"b":' ...: the same for every block of a table, made once."""
    return ('{"input":{' + json_text(names[0]) + ":", *(f",{json_text(name)}:" for name in names[1:]))


def _output_parts(outputs: dict[str, np.ndarray], multiclass: bool) -> list[tuple[str, np.ndarray]]:
    """(key, value column) of the outputs part of a row's JSON object: '"probability":0.25,"label":"pass"';
    for multiclass '"label":"b","probabilities":{"a":0.1,"b":0.9' (the writer closes the brace)."""
    names = list(outputs)
    if multiclass:
        classes = [name for name in names if name != "label"]
        keys = ['"label":'] + [
            (',"probabilities":{' if i == 0 else ",") + json_text(name[2:]) + ":" for i, name in enumerate(classes)
        ]
        names = ["label"] + classes
    else:
        keys = [("," if i else "") + json_text(name) + ":" for i, name in enumerate(names)]
    return [(key, _json_chars(outputs[name])) for key, name in zip(keys, names)]


def _join(parts: list, end: str) -> str:
    """The rows made of `parts` side by side (a text: the same in every row; an (n, w) array of ASCII codes:
    each row's own, NUL-padded), each row followed by `end`, the padding dropped."""
    n = next(len(part) for part in parts if not isinstance(part, str))
    widths = [len(part) if isinstance(part, str) else part.shape[1] for part in parts]
    template = "".join(part if isinstance(part, str) else "\0" * width for part, width in zip(parts, widths)) + end
    rows = np.empty((n, len(template)), np.uint8)
    rows[:] = np.frombuffer(template.encode("ascii"), np.uint8)  # the texts, then each row's values in their slots
    start = 0
    for part, width in zip(parts, widths):
        if not isinstance(part, str):
            rows[:, start : start + width] = part
        start += width
    return rows.tobytes().translate(None, b"\0").decode("ascii")


def json_text(value) -> str:
    """One JSON value, compact, non-ASCII escaped."""
    return json.dumps(value, separators=(",", ":"))


def _json_chars(values: np.ndarray) -> np.ndarray:
    """A JSON output column as a (n, w) NUL-padded ASCII matrix: numbers shortest, labels JSON strings."""
    if values.dtype.kind != "U":
        return probability_chars(values)
    chars = _ascii(values, _ESCAPED)
    if chars is not None:  # nothing to escape: the label between quotes (its NUL padding dropped later)
        quote = np.full((len(chars), 1), ord('"'), np.uint8)
        return np.concatenate([quote, chars, quote], axis=1)
    labels, index = np.unique(values, return_inverse=True)
    texts = [json_text(label).encode("ascii") for label in labels.tolist()]
    table = np.zeros((len(texts), max(map(len, texts))), np.uint8)
    for i, text in enumerate(texts):
        table[i, : len(text)] = np.frombuffer(text, np.uint8)
    return table[index.reshape(-1)]


def _chars(values: np.ndarray) -> np.ndarray | None:
    """An output column as a (n, w) NUL-padded ASCII matrix: numbers shortest, labels as they are; None if a label
    is not ASCII, needs quoting or holds a NUL (then the writer goes row by row)."""
    return probability_chars(values) if values.dtype.kind != "U" else _ascii(values, _QUOTED)


def _ascii(labels: np.ndarray, refused: np.ndarray) -> np.ndarray | None:
    """The labels as a (n, w) NUL-padded matrix of ASCII codes, or None if one is not ASCII, holds a character
    `refused` marks, or a NUL (NULs only pad)."""
    codes = np.ascontiguousarray(labels).view(np.uint32).reshape(len(labels), labels.dtype.itemsize // 4)  # UCS-4
    if not codes.size or codes.max() > 127:
        return None
    chars = codes.astype(np.uint8)
    if refused[chars].any() or ((chars[:, :-1] == 0) & (chars[:, 1:] != 0)).any():
        return None
    return chars
