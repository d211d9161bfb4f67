"""Writing scored rows as text, JSON Lines or CSV, with probabilities printed exactly and fast."""

from __future__ import annotations

import json
from typing import IO, Sequence

import numpy as np

_DECIMALS = 12  # 9 significant digits (always enough for a float32) after up to 3 leading zeros
_WIDTH = 16  # "0." and 12 decimals, or the longest %.9g of a tiny float32 ("1.17549435e-38")
_POW10 = 10.0 ** np.arange(_DECIMALS + 1)
_DIGITS4 = None  # made on first use: 'predict 7' in the text format never needs it, and it costs 1 ms


def _digits4() -> np.ndarray:
    """The four ASCII digits of 0000..9999 as one little-endian uint32 each: one gather writes four characters."""
    global _DIGITS4
    if _DIGITS4 is None:
        table = (np.arange(10000)[:, None] // np.array([1000, 100, 10, 1]) % 10 + ord("0")).astype(np.uint8)
        _DIGITS4 = table.view("<u4").ravel()
    return _DIGITS4


def format_probabilities(p: np.ndarray) -> list[str]:
    """Shortest decimal text of each float32 probability that reads back as the same float32.

    Vectorized for the usual 1e-4 <= p < 1 ("0.ddd"); 0, 1 and tiny values are formatted one by one.
    "Reads back" means float32(float(text)), what every CSV and JSON reader does.
    """
    return probability_chars(p).view(f"S{_WIDTH}").reshape(-1).astype(f"U{_WIDTH}").tolist()


def probability_chars(p: np.ndarray) -> np.ndarray:
    """format_probabilities as a (n, 16) matrix of ASCII codes, each row padded with NULs."""
    p32 = np.asarray(p, dtype=np.float32).reshape(-1)
    fast = (p32 >= 1e-4) & (p32 < 1)  # "0.ddd"; anything else (0, 1, tiny, a regression's value) one by one
    p64 = np.where(fast, p32, np.float32(0.5)).astype(np.float64)
    places = _decimals_needed(p64.astype(np.float32), p64)
    fast &= places <= _DECIMALS
    places = np.minimum(places, _DECIMALS)
    # the shortest rounding, scaled to exactly 12 decimals so every row has the same digit layout
    q = (np.rint(p64 * _POW10[places]) * _POW10[_DECIMALS - places]).astype(np.int64)
    table = _digits4()
    digits = np.stack([table[q // 100000000 % 10000], table[q // 10000 % 10000], table[q % 10000]],
                      axis=1).view(np.uint8)
    digits *= np.arange(_DECIMALS) < places[:, None]  # NUL after the last needed decimal
    chars = np.zeros((p32.size, _WIDTH), np.uint8)
    chars[:, :2] = (ord("0"), ord("."))
    chars[:, 2:2 + _DECIMALS] = digits
    for i in np.flatnonzero(~fast).tolist():
        text = _shortest(p32[i]).encode()
        chars[i] = 0
        chars[i, :len(text)] = np.frombuffer(text, np.uint8)
    return chars


def csv_rows(fields: Sequence[str], outputs: dict[str, np.ndarray]) -> str | None:
    """'field,output,...' lines, built as one numpy buffer of bytes; None if a field or output is not plain ASCII.

    Joining a million f-strings costs more than scoring them; here no per-row Python object is made.
    """
    joined = "\n".join(fields) + "\n"
    if not joined.isascii() or "\0" in joined:
        return None
    text = np.frombuffer(joined.encode("ascii"), np.uint8)
    ends = np.flatnonzero(text == ord("\n"))
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts
    width = int(lengths.max())
    n = len(fields)
    if len(ends) != n or width > 64:  # a field with a line break, or so long the matrix gets wide
        return None
    columns = np.arange(width)
    parts = [text[np.minimum(starts[:, None] + columns, len(text) - 1)] * (columns < lengths[:, None])]
    comma = np.full((n, 1), ord(","), np.uint8)
    for values in outputs.values():
        if values.dtype.kind == "U":
            try:  # labels: fixed-width ASCII bytes, NUL-padded
                chars = values.astype("S").view(np.uint8).reshape(n, -1)
            except UnicodeEncodeError:
                return None
        else:
            chars = probability_chars(values)
        parts += [comma, chars]
    rows = np.concatenate(parts + [np.full((n, 1), ord("\n"), np.uint8)], axis=1)
    return rows[rows != 0].tobytes().decode("ascii")  # NULs pad the fixed-width columns; dropping them joins


def _decimals_needed(p32: np.ndarray, p64: np.ndarray) -> np.ndarray:
    """Fewest decimals (1..12) whose rounding reads back as the same float32 (13: none), by bisection."""
    lo = np.ones(p32.shape, np.int64)
    hi = np.full(p32.shape, _DECIMALS + 1, np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        scale = _POW10[np.minimum(mid, _DECIMALS)]
        ok = (np.rint(p64 * scale) / scale).astype(np.float32) == p32
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)


def _shortest(v32: np.float32) -> str:
    v = float(v32)
    for digits in (6, 7, 8):
        text = f"{v:.{digits}g}"
        if np.float32(float(text)) == v32:
            return text
    return f"{v:.9g}"  # 9 significant digits always read back as the same float32


class Writer:
    """Writes scored rows as text (a table), json (one object per line) or csv, streaming."""

    def __init__(self, out: IO[str], fmt: str, feature_names: Sequence[str], task: str = "binary"):
        self.out, self.fmt, self.names, self.task = out, fmt, list(feature_names), task
        self.outputs: list[str] | None = None  # the output columns' names, from the first batch

    def write(self, batch, outputs: dict[str, np.ndarray]) -> None:
        """Write one batch (texts and values of the rows) and its output columns (Predictor.predict_table)."""
        if self.outputs is None:
            self.outputs = list(outputs)
            if self.fmt == "csv":
                self.out.write(",".join(self.names + self.outputs) + "\n")
            elif self.fmt == "text":
                self.out.write("  ".join([f"{n:>12}" for n in self.names] + self.outputs) + "\n")
        if self.fmt == "csv":
            self.out.write(self._csv(batch, outputs))
        elif self.fmt == "text":
            number = "{:>12.6g}" if self.task == "regression" else "{:>11.6f}"
            cells = [[number.format(v) for v in col.tolist()] if col.dtype.kind == "f" else col.tolist()
                     for col in outputs.values()]
            self.out.write("".join("  ".join([f"{t:>12}" for t in text] + list(row)) + "\n"
                                   for text, *row in zip(batch.texts, *cells)))
        else:
            self.out.write(self._json(batch, outputs))

    def _json(self, batch, outputs: dict[str, np.ndarray]) -> str:
        cells = {name: format_probabilities(col) if col.dtype.kind == "f" else [_json(v) for v in col.tolist()]
                 for name, col in outputs.items()}
        if self.task == "multiclass":  # "label", then "probabilities": {label: p} in class order
            probabilities = [name for name in outputs if name != "label"]
            rows = zip(cells["label"], *(cells[name] for name in probabilities))
            keys = [_json(name[2:]) for name in probabilities]
            fields = [f'"label":{label},"probabilities":{{' + ",".join(f"{k}:{p}" for k, p in zip(keys, ps)) + "}"
                      for label, *ps in rows]
        else:
            keys = [_json(name) for name in outputs]
            fields = [",".join(f"{k}:{v}" for k, v in zip(keys, values)) for values in zip(*cells.values())]
        return "".join(f'{{"input":{_json(dict(zip(self.names, row)))},{f}}}\n'
                       for row, f in zip(batch.values.tolist(), fields))

    def _csv(self, batch, outputs: dict[str, np.ndarray]) -> str:
        fields = getattr(batch.texts, "lines", None)  # the fast reader's one column, as plain strings
        if fields is None:
            fields = [t[0] for t in batch.texts] if len(self.names) == 1 else list(map(",".join, batch.texts))
        rows = csv_rows(fields, outputs)
        if rows is None:  # a field or label that is not plain ASCII: row by row
            cells = [format_probabilities(col) if col.dtype.kind == "f" else col.tolist() for col in outputs.values()]
            rows = "".join(",".join((t, *values)) + "\n" for t, *values in zip(fields, *cells))
        return rows


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))
