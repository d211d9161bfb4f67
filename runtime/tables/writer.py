"""Writing scored rows as text, JSON Lines or CSV (RFC 4180), streaming: a batch whose rows all scored at once
(runtime/rowtext.py builds its text), one with errors, a text table, or JSON with pass-through columns row by row."""

from __future__ import annotations

from typing import IO, Callable, Sequence

import numpy as np

from edge_predict.errors import InputError
from edge_predict.tables._fast.numformat import format_probabilities
from edge_predict.tables._fast.rowtext import csv_rows, json_rows, json_text, pays

__all__ = ["Writer", "csv_field", "format_probabilities"]


class Writer:
    """Writes scored rows as text (a table), json (one object per line) or csv, streaming.

    With `errors` (--keep-going), every input row gets an output row: a bad one with empty outputs and an
    `error` column (JSON: "input": null and "error") saying why.
    """

    def __init__(
        self,
        out: IO[str],
        fmt: str,
        feature_names: Sequence[str],
        output_names: Sequence[str],
        task: str = "binary",
        errors: bool = False,
        outputs_for: Callable[[Sequence[str]], Sequence[str]] | None = None,
    ):
        self.out, self.fmt, self.names, self.outputs = out, fmt, list(feature_names), list(output_names)
        self.task, self.errors, self._started = task, errors, False
        # CSV and text: the output columns' names beside the input's columns (Predictor.output_names_for), so that
        # a truth column 'label' passes through beside 'predicted_label'; JSON keeps the input apart, under "input"
        # and "extra", and its output fields keep their names
        self._outputs_for = outputs_for if fmt != "json" else None
        # names the format itself writes: a model's column named so would be written twice, and readers keep one
        written = {"error"} if errors else set()
        written |= {"input", "extra"} if fmt == "json" else set()
        clash = [name for name in (self.outputs if fmt == "json" else self.names + self.outputs) if name in written]
        if clash:
            raise InputError(
                f"the model has a column named {clash[0]!r}, and the {fmt} output writes "
                f"{'an error column' if clash[0] == 'error' else 'a field'} of that name too, so readers would "
                f"lose one of them; {'score without --keep-going' if clash[0] == 'error' else 'use --format csv'}, "
                "or re-export the model with another name"
            )

    def _header(self, extra: Sequence[str]) -> None:
        """Written with the first rows: an input that fails before any is scored leaves stdout empty."""
        self._started = True
        self.extra = list(extra)  # the input's pass-through columns, from the first batch
        if self._outputs_for is not None:
            self.outputs = list(self._outputs_for(self.names + self.extra))
        inputs = self.names + self.extra
        header = inputs + self.outputs + (["error"] if self.errors else [])
        if self.fmt == "csv":
            self.out.write(",".join(map(csv_field, header)) + "\n")
        elif self.fmt == "text":
            self.out.write("  ".join([f"{n:>12}" for n in inputs] + header[len(inputs) :]) + "\n")

    def write(self, batch, outputs: dict[str, np.ndarray] | None, errors: dict[int, str] | None = None) -> None:
        """Write one batch: its rows' texts and values, the outputs of its good rows (Predictor.predict_table)
        and the error of each other row."""
        if not self._started:
            self._header(batch.extra)
        # a few rows, and JSON's "extra" objects: row by row
        if not errors and outputs is not None and self.fmt != "text" and pays(len(batch.lines)):
            whole = (
                self._whole_csv(batch, outputs)
                if self.fmt == "csv"
                else None
                if self.extra
                else self._whole_json(batch, outputs)
            )
            if whole is not None:
                self.out.write(whole)
                return
        cells = self._cells(outputs)
        if errors:  # rows in input order: the next good row's outputs, or the error
            good = iter(zip(*cells.values()))
            rows = [("error", errors[i]) if i in errors else ("ok", next(good)) for i in range(len(batch.lines))]
        else:
            rows = [("ok", values) for values in zip(*cells.values())]
        if self.fmt == "csv":
            self.out.write(self._csv(batch, rows))
        elif self.fmt == "text":
            lines = []
            for text, (kind, values) in zip(batch.texts, rows):
                if kind == "ok":
                    lines.append("  ".join([f"{t:>12}" for t in text] + list(values)))
                else:  # the text did not parse, or is out of the domain: the message quotes it
                    lines.append("  ".join([f"{'?':>12}"] * len(text) + ["-"] * len(self.outputs) + [values]))
            self.out.write("\n".join(lines) + "\n")
        else:
            self.out.write(
                "".join(
                    self._json_row(row, kind, values, text)
                    for row, (kind, values), text in zip(batch.values.tolist(), rows, batch.texts)
                )
            )

    def _cells(self, outputs: dict[str, np.ndarray] | None) -> dict[str, list[str]]:
        """Each output column as the text the format prints."""
        if outputs is None:
            return {}
        if self.fmt == "text":  # the same shortest float32 text as csv/json: a rounded 0.500000 beside "fail" misleads
            return {
                k: [f"{t:>11}" for t in format_probabilities(c)] if c.dtype.kind == "f" else c.tolist()
                for k, c in outputs.items()
            }
        return {
            k: format_probabilities(c)
            if c.dtype.kind == "f"
            else ([json_text(v) for v in c.tolist()] if self.fmt == "json" else c.tolist())
            for k, c in outputs.items()
        }

    def _json_row(self, row: list[float], kind: str, values, text: Sequence[str]) -> str:
        if kind == "error":
            return f'{{"input":null,"error":{json_text(values)}}}\n'
        if self.task == "multiclass":  # "label", then "probabilities": {label: p} in class order
            fields = (
                f'"label":{values[0]},"probabilities":{{'
                + ",".join(f"{json_text(name[2:])}:{p}" for name, p in zip(self.outputs[1:], values[1:]))
                + "}"
            )
        else:
            fields = ",".join(f"{json_text(name)}:{v}" for name, v in zip(self.outputs, values))
        extra = f',"extra":{json_text(dict(zip(self.extra, text[len(self.names) :])))}' if self.extra else ""
        return (
            f'{{"input":{json_text(dict(zip(self.names, row)))}{extra},{fields}'
            + (',"error":null' if self.errors else "")
            + "}\n"
        )

    def _whole_csv(self, batch, outputs: dict[str, np.ndarray]) -> str | None:
        """The batch's CSV lines built at once, or None if a field or label needs quoting (then row by row)."""
        # the block reader's lines, fields in model order: numbers and pass-through fields it read because they
        # hold no quote, one row per line
        if batch.block is not None:
            rows = batch.block.rows
        else:
            if self.extra:  # a pass-through text read line by line may hold a comma
                return None
            rows = "\n".join(map(",".join, batch.texts)) + "\n"
            # a text (a category read line by line) may hold a quote, a comma or a line break: then row by row
            commas = len(batch.lines) * (len(self.names) - 1)
            if '"' in rows or rows.count("\n") != len(batch.lines) or rows.count(",") != commas:
                return None
        errors = {"error": np.full(len(batch.lines), "", dtype="U1")} if self.errors else {}
        return csv_rows(rows, {**outputs, **errors})

    def _whole_json(self, batch, outputs: dict[str, np.ndarray]) -> str:
        """The batch's JSON objects, built at once (runtime/rowtext.py)."""
        return json_rows(batch, self.names, outputs, self.task == "multiclass", self.errors)

    def _csv(self, batch, rows) -> str:
        """Row by row, each field quoted as RFC 4180 asks when it holds a comma, a quote or a line break."""
        blank = [""] * len(self.outputs)
        return "".join(
            ",".join(
                map(
                    csv_field,
                    (
                        *text,
                        *(values if kind == "ok" else blank),
                        *(([values] if kind == "error" else [""]) if self.errors else ()),
                    ),
                )
            )
            + "\n"
            for text, (kind, values) in zip(batch.texts, rows)
        )


def csv_field(text: str) -> str:
    """`text` as one CSV field: quoted, with quotes doubled, if it holds a comma, a quote or a line break."""
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text
