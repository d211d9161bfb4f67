"""Writing scored rows as text, JSON Lines or CSV (RFC 4180), streaming."""

from __future__ import annotations

import json
from typing import IO, Sequence

import numpy as np

from .numformat import format_probabilities, probability_chars

__all__ = ["Writer", "csv_field", "csv_rows", "format_probabilities"]


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


class Writer:
    """Writes scored rows as text (a table), json (one object per line) or csv, streaming.

    With `errors` (--keep-going), every input row gets an output row: a bad one with empty outputs and an
    `error` column (JSON: "input": null and "error") saying why.
    """

    def __init__(self, out: IO[str], fmt: str, feature_names: Sequence[str], output_names: Sequence[str],
                 task: str = "binary", errors: bool = False):
        self.out, self.fmt, self.names, self.outputs = out, fmt, list(feature_names), list(output_names)
        self.task, self.errors, self._started = task, errors, False

    def _header(self, extra: Sequence[str]) -> None:
        """Written with the first rows: an input that fails before any is scored leaves stdout empty."""
        self._started = True
        self.extra = list(extra)  # the input's pass-through columns, from the first batch
        inputs = self.names + self.extra
        header = inputs + self.outputs + (["error"] if self.errors else [])
        if self.fmt == "csv":
            self.out.write(",".join(map(csv_field, header)) + "\n")
        elif self.fmt == "text":
            self.out.write("  ".join([f"{n:>12}" for n in inputs] + header[len(inputs):]) + "\n")

    def write(self, batch, outputs: dict[str, np.ndarray] | None, errors: dict[int, str] | None = None) -> None:
        """Write one batch: its rows' texts and values, the outputs of its good rows (Predictor.predict_table)
        and the error of each other row."""
        if not self._started:
            self._header(batch.extra)
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
            self.out.write("".join(self._json_row(row, kind, values, text)
                                   for row, (kind, values), text in zip(batch.values.tolist(), rows, batch.texts)))

    def _cells(self, outputs: dict[str, np.ndarray] | None) -> dict[str, list[str]]:
        """Each output column as the text the format prints."""
        if outputs is None:
            return {}
        if self.fmt == "text":  # the same shortest float32 text as csv/json: a rounded 0.500000 beside "fail" misleads
            return {k: [f"{t:>11}" for t in format_probabilities(c)] if c.dtype.kind == "f" else c.tolist()
                    for k, c in outputs.items()}
        return {k: format_probabilities(c) if c.dtype.kind == "f" else
                ([_json(v) for v in c.tolist()] if self.fmt == "json" else c.tolist()) for k, c in outputs.items()}

    def _json_row(self, row: list[float], kind: str, values, text: Sequence[str]) -> str:
        if kind == "error":
            return f'{{"input":null,"error":{_json(values)}}}\n'
        if self.task == "multiclass":  # "label", then "probabilities": {label: p} in class order
            fields = f'"label":{values[0]},"probabilities":{{' + ",".join(
                f"{_json(name[2:])}:{p}" for name, p in zip(self.outputs[1:], values[1:])) + "}"
        else:
            fields = ",".join(f"{_json(name)}:{v}" for name, v in zip(self.outputs, values))
        extra = f',"extra":{_json(dict(zip(self.extra, text[len(self.names):])))}' if self.extra else ""
        return (f'{{"input":{_json(dict(zip(self.names, row)))}{extra},{fields}' + (',"error":null' if self.errors
                                                                                     else "") + "}\n")

    def _no_error(self, n: int) -> dict[str, np.ndarray]:
        return {"error": np.full(n, "", dtype="U1")} if self.errors else {}

    def _fields(self, batch) -> list[str]:
        fields = getattr(batch.texts, "lines", None)  # the fast reader's one column, as plain strings
        if fields is None:
            join = (lambda t: ",".join(map(csv_field, t))) if self.extra else ",".join
            fields = [t[0] for t in batch.texts] if len(batch.texts[0]) == 1 else list(map(join, batch.texts))
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
