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
    if not joined.isascii() or "\0" in joined or '"' in joined:
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
            if any(c in text for text in set(values.tolist()) for c in ',"\r\n'):
                return None  # a label that needs quoting: row by row
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
    """Writes scored rows as text (a table), json (one object per line) or csv, streaming.

    With `errors` (--keep-going), every input row gets an output row: a bad one with empty outputs and an
    `error` column (JSON: "input": null and "error") saying why.
    """

    def __init__(self, out: IO[str], fmt: str, feature_names: Sequence[str], output_names: Sequence[str],
                 task: str = "binary", errors: bool = False):
        self.out, self.fmt, self.names, self.outputs = out, fmt, list(feature_names), list(output_names)
        self.task, self.errors, self._started = task, errors, False

    def _header(self) -> None:
        """Written with the first rows: an input that fails before any is scored leaves stdout empty."""
        self._started = True
        header = self.names + self.outputs + (["error"] if self.errors else [])
        if self.fmt == "csv":
            self.out.write(",".join(map(csv_field, header)) + "\n")
        elif self.fmt == "text":
            self.out.write("  ".join([f"{n:>12}" for n in self.names] + header[len(self.names):]) + "\n")

    def write(self, batch, outputs: dict[str, np.ndarray] | None, errors: dict[int, str] | None = None) -> None:
        """Write one batch: its rows' texts and values, the outputs of its good rows (Predictor.predict_table)
        and the error of each other row."""
        if not self._started:
            self._header()
        cells = self._cells(outputs)
        if errors:  # rows in input order: the next good row's outputs, or the error
            good = iter(zip(*cells.values()))
            rows = [("error", errors[i]) if i in errors else ("ok", next(good)) for i in range(len(batch.lines))]
        else:
            rows = [("ok", values) for values in zip(*cells.values())]
        if self.fmt == "csv":
            fast = None if errors else csv_rows(self._fields(batch), {**outputs, **self._no_error(len(rows))})
            self.out.write(fast if fast is not None else self._csv(batch, rows))
        elif self.fmt == "text":
            lines = []
            for text, (kind, values) in zip(batch.texts, rows):
                if kind == "ok":
                    lines.append("  ".join([f"{t:>12}" for t in text] + list(values)))
                else:  # the text did not parse, or is out of the domain: the message quotes it
                    lines.append("  ".join([f"{'?':>12}"] * len(text) + ["-"] * len(self.outputs) + [values]))
            self.out.write("\n".join(lines) + "\n")
        else:
            self.out.write("".join(self._json_row(row, kind, values)
                                   for row, (kind, values) in zip(batch.values.tolist(), rows)))

    def _cells(self, outputs: dict[str, np.ndarray] | None) -> dict[str, list[str]]:
        """Each output column as the text the format prints."""
        if outputs is None:
            return {}
        if self.fmt == "text":
            number = "{:>12.6g}" if self.task == "regression" else "{:>11.6f}"
            return {k: [number.format(v) for v in c.tolist()] if c.dtype.kind == "f" else c.tolist()
                    for k, c in outputs.items()}
        return {k: format_probabilities(c) if c.dtype.kind == "f" else
                ([_json(v) for v in c.tolist()] if self.fmt == "json" else c.tolist()) for k, c in outputs.items()}

    def _json_row(self, row: list[float], kind: str, values) -> str:
        if kind == "error":
            return f'{{"input":null,"error":{_json(values)}}}\n'
        if self.task == "multiclass":  # "label", then "probabilities": {label: p} in class order
            fields = f'"label":{values[0]},"probabilities":{{' + ",".join(
                f"{_json(name[2:])}:{p}" for name, p in zip(self.outputs[1:], values[1:])) + "}"
        else:
            fields = ",".join(f"{_json(name)}:{v}" for name, v in zip(self.outputs, values))
        return f'{{"input":{_json(dict(zip(self.names, row)))},{fields}' + (',"error":null' if self.errors else "") + "}\n"

    def _no_error(self, n: int) -> dict[str, np.ndarray]:
        return {"error": np.full(n, "", dtype="U1")} if self.errors else {}

    def _fields(self, batch) -> list[str]:
        fields = getattr(batch.texts, "lines", None)  # the fast reader's one column, as plain strings
        if fields is None:
            fields = [t[0] for t in batch.texts] if len(self.names) == 1 else list(map(",".join, batch.texts))
        return fields

    def _csv(self, batch, rows) -> str:
        """Row by row, each field quoted as RFC 4180 asks when it holds a comma, a quote or a line break."""
        blank = [""] * len(self.outputs)
        return "".join(",".join(map(csv_field, (*text, *(values if kind == "ok" else blank),
                                                 *(([values] if kind == "error" else [""]) if self.errors else ()))))
                       + "\n" for text, (kind, values) in zip(batch.texts, rows))


def csv_field(text: str) -> str:
    """`text` as one CSV field: quoted, with quotes doubled, if it holds a comma, a quote or a line break."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"))
