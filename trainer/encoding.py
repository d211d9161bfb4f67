"""The encoding spec: a table's raw features (numbers, text and integer categories, with gaps) to the one float32 vector
a module takes, as ONNX nodes put in front of the module's graph and as the numpy reference they are measured against.

The module's input is the numbers (a gap imputed with the column's value) in feature order, then per category, in
feature order, its one-hot columns (index = the value's place in `categories`; a gap is the `impute` category). The
graph takes the raw values by kind (docs/artifact.md "Manifest format 3"): `numbers` float32 (a gap is NaN),
`categories` string (a gap is ""), `integer_categories` int64 (a gap is -1); a table of numbers only keeps format 2's
one input (`features`, or the one feature's name).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import onnx
from onnx import helper

from edge_predict.authoring import shortest_float32

from .graph import ML_DOMAIN, ML_OPSET, UNKNOWN_CODE, ExportError

NUMBERS, TEXT, INTEGERS = "numbers", "categories", "integer_categories"
UNSEEN_TEXT = "__unseen__"  # the golden rows' value outside a vocabulary whose graph encodes unseen values
MISSING_TEXT, MISSING_CODE = "", -1  # what the runtime passes the graph for a gap (docs/artifact.md missing_value)


@dataclass(frozen=True)
class Column:
    """One raw feature: a number, or a category of a fixed vocabulary (all strings or all integers, in code order).

    `impute`: the value a gap becomes (a number, or one of `categories`); None: a gap is refused. `unknown_policy`:
    what the graph does with a value outside `categories` (the one-hot's all-zero row); None: the runtime refuses it."""

    name: str
    type: str = "number"  # or "category"
    categories: tuple = ()
    impute: Any = None
    unknown_policy: str | None = None

    @property
    def text(self) -> bool:
        return self.type == "category" and isinstance(self.categories[0], str)

    @property
    def kind(self) -> str:
        """The graph input that carries it."""
        return NUMBERS if self.type == "number" else TEXT if self.text else INTEGERS


@dataclass(frozen=True)
class Encoding:
    """The raw features in table order, and how each becomes the module's input columns."""

    columns: tuple[Column, ...]

    def __post_init__(self):
        for c in self.columns:
            _check_column(c)
        names = [c.name for c in self.columns]
        if not names or len(set(names)) != len(names):
            raise ExportError(f"encoding columns {names!r}: expected distinct names, one per feature")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def numeric_only(self) -> bool:
        return all(c.type == "number" for c in self.columns)

    def layout(self) -> list[Column]:
        """The columns in the order the module's input holds them: numbers first, then categories."""
        return [c for c in self.columns if c.type == "number"] + [c for c in self.columns if c.type == "category"]

    @property
    def width(self) -> int:
        """The module's input width."""
        return sum(1 if c.type == "number" else len(c.categories) for c in self.columns)

    def module_columns(self) -> list[str]:
        """The module's input columns by name: `bill_length_mm`, then `island=Biscoe`, ..."""
        return [c.name if c.type == "number" else f"{c.name}={v}" for c in self.layout() for v in (c.categories or [0])]

    def inputs(self) -> list[tuple[str, str, list[Column]]]:
        """The graph's inputs: (name, type, columns), in graph order (numbers, text, integer categories)."""
        groups = [(kind, [c for c in self.columns if c.kind == kind]) for kind in (NUMBERS, TEXT, INTEGERS)]
        types = {NUMBERS: "float32", TEXT: "string", INTEGERS: "int64"}
        result = [(kind, types[kind], cols) for kind, cols in groups if cols]
        if self.numeric_only:  # format 2's name for a file of numbers
            result = [("features" if len(self.columns) > 1 else self.columns[0].name, "float32", list(self.columns))]
        return result

    def feed(self, rows: Sequence[Sequence]) -> dict[str, np.ndarray]:
        """What the runtime passes the graph for `rows` (feature order; None for a gap): one array per input."""
        index = {c.name: j for j, c in enumerate(self.columns)}
        feed = {}
        for name, kind, cols in self.inputs():
            values = [[row[index[c.name]] for c in cols] for row in rows]
            if kind == "float32":
                feed[name] = np.array([[math.nan if v is None else v for v in r] for r in values], np.float32).reshape(
                    len(rows), len(cols)
                )
            elif kind == "string":
                feed[name] = np.array([[MISSING_TEXT if v is None else v for v in r] for r in values], object).reshape(
                    len(rows), len(cols)
                )
            else:
                feed[name] = np.array(
                    [[MISSING_CODE if v is None else v for v in r] for r in values], np.int64
                ).reshape(len(rows), len(cols))
        return feed

    def transform(self, rows: Sequence[Sequence]) -> np.ndarray:
        """The module's input for `rows` (the reference the graph's encoding is measured against): float32 (n, width).
        ExportError for a gap where it is refused or a value outside a vocabulary."""
        index = {c.name: j for j, c in enumerate(self.columns)}
        out = np.zeros((len(rows), self.width), np.float32)
        for i, row in enumerate(rows):
            at = 0
            for c in self.layout():
                value = row[index[c.name]]
                if value is None:
                    if c.impute is None:
                        raise ExportError(f"row {i}: {c.name} is missing, and this feature refuses gaps")
                    value = c.impute
                if c.type == "number":
                    out[i, at] = value
                    at += 1
                    continue
                if value not in c.categories:
                    raise ExportError(
                        f"row {i}: {c.name} = {value!r} is not one of its categories {list(c.categories)}"
                    )
                out[i, at + c.categories.index(value)] = 1.0
                at += len(c.categories)
        return out

    def prepend(self, proto: onnx.ModelProto, module_input: str) -> None:
        """Put the encoding in front of the graph's float32 input `module_input`: the graph takes `inputs()` instead."""
        graph = proto.graph
        (old,) = [i for i in graph.input if i.name == module_input]
        nodes, inits, parts = [], [], {}

        def const(name, kind, dims, values):
            inits.append(helper.make_tensor(name, kind, dims, values))
            return name

        for name, kind, cols in self.inputs():
            if kind == "float32":
                out = name
                if any(c.impute is not None for c in cols):  # a gap (NaN) becomes the column's value
                    fill = [math.nan if c.impute is None else float(c.impute) for c in cols]
                    fills = const(f"encoding.{name}.impute", onnx.TensorProto.FLOAT, [1, len(cols)], fill)
                    nodes.append(helper.make_node("IsNaN", [name], [f"encoding.{name}.gaps"]))
                    out = f"encoding.{name}.imputed"
                    nodes.append(helper.make_node("Where", [f"encoding.{name}.gaps", fills, name], [out]))
                parts[NUMBERS] = out
                continue
            for j, c in enumerate(cols):
                column = f"encoding.{c.name}.value"
                bounds = [
                    const(f"encoding.{c.name}.{part}", onnx.TensorProto.INT64, [1], [v])
                    for part, v in (("start", j), ("end", j + 1), ("axis", 1))
                ]
                nodes.append(helper.make_node("Slice", [name, *bounds], [column]))
                keys, values = list(c.categories), list(range(len(c.categories)))
                if c.impute is not None:  # the gap's marker is a key too: the imputed category's code
                    keys.append(MISSING_TEXT if c.text else MISSING_CODE)
                    values.append(c.categories.index(c.impute))
                field = {"keys_strings": [str(k) for k in keys]} if c.text else {"keys_int64s": [int(k) for k in keys]}
                nodes.append(
                    helper.make_node(
                        "LabelEncoder",
                        [column],
                        [f"encoding.{c.name}.code"],
                        domain=ML_DOMAIN,
                        values_int64s=values,
                        default_int64=UNKNOWN_CODE,
                        **field,
                    )
                )
                codes = const(
                    f"encoding.{c.name}.codes",
                    onnx.TensorProto.INT64,
                    [1, len(c.categories)],
                    values[: len(c.categories)],
                )
                nodes.append(helper.make_node("Equal", [f"encoding.{c.name}.code", codes], [f"encoding.{c.name}.hot"]))
                nodes.append(
                    helper.make_node(
                        "Cast", [f"encoding.{c.name}.hot"], [f"encoding.{c.name}.onehot"], to=onnx.TensorProto.FLOAT
                    )
                )
                parts[c.name] = f"encoding.{c.name}.onehot"
        order = ([parts[NUMBERS]] if NUMBERS in parts else []) + [
            parts[c.name] for c in self.layout() if c.type == "category"
        ]
        if len(order) == 1:
            nodes.append(helper.make_node("Identity", order, [module_input]))
        else:
            nodes.append(helper.make_node("Concat", order, [module_input], axis=1))
        new_inputs = [
            helper.make_tensor_value_info(
                name,
                {"float32": onnx.TensorProto.FLOAT, "string": onnx.TensorProto.STRING, "int64": onnx.TensorProto.INT64}[
                    kind
                ],
                ["batch", len(cols)],
            )
            for name, kind, cols in self.inputs()
        ]
        if module_input in [n for n, _, _ in self.inputs()]:
            raise ExportError(f"the module's input is named {module_input!r}, as an input of the encoding")
        position = list(graph.input).index(old)
        graph.input.remove(old)
        for offset, value in enumerate(new_inputs):
            graph.input.insert(position + offset, value)
        graph.initializer.extend(inits)
        body = list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes + body)
        if not any(o.domain == ML_DOMAIN for o in proto.opset_import):
            proto.opset_import.append(helper.make_opsetid(ML_DOMAIN, ML_OPSET))

    def exporter_record(self) -> dict[str, str]:
        """What the manifest's exporter record adds for this front: nothing (the project's own encoding)."""
        return {}

    def feature_entries(self, bounds, observed) -> list[dict[str, Any]]:
        """The manifest's features: types, vocabularies, the unknown and missing rules, the imputed values."""
        entries = []
        for j, (c, (lo, hi)) in enumerate(zip(self.columns, bounds)):
            missing = {"missing": "refuse"} if c.impute is None else {"missing": "impute", "impute": c.impute}
            if c.type == "category":
                entries.append(
                    {
                        "name": c.name,
                        "type": "category",
                        "categories": list(c.categories),
                        **(
                            {"unknown": "refuse"}
                            if c.unknown_policy is None
                            else {"unknown": "encode", "unknown_policy": c.unknown_policy}
                        ),
                        **missing,
                    }
                )
                continue
            entry = {"name": c.name, "type": "number", "min": lo, "max": hi, **missing}
            if observed is not None and observed[j] is not None:
                entry["observed"] = list(observed[j])
            entries.append(entry)
        return entries

    def golden_rows(self, train: Sequence[Sequence] | None, bounds, limit: int = 16) -> list[list]:
        """Distinct complete training rows (up to `limit`, spread evenly), then every number at the low end, middle
        and high end of its range with every category of every feature, then gaps where a feature imputes them: each
        such feature missing alone, and all together."""
        complete = [list(r) for r in train or () if all(v is not None for v in r)]
        distinct = sorted({tuple(r) for r in complete}, key=lambda r: [(isinstance(v, str), v) for v in r])
        if len(distinct) > limit:
            distinct = [distinct[i] for i in np.linspace(0, len(distinct) - 1, limit).round().astype(int)]
        count = max([3, *(len(c.categories) for c in self.columns)])
        grid = [[None] * len(self.columns) for _ in range(count)]
        for j, (c, (d_lo, d_hi)) in enumerate(zip(self.columns, bounds)):
            if c.type == "category":
                for r in range(count):
                    grid[r][j] = c.categories[r % len(c.categories)]
                continue
            seen = [r[j] for r in train or () if r[j] is not None] or [-1.0, 1.0]
            lo = d_lo if d_lo is not None else min(min(seen), d_hi if d_hi is not None else math.inf)
            hi = d_hi if d_hi is not None else max(max(seen), lo)
            ends = np.clip(
                np.float32([lo, (lo + hi) / 2, hi]), -np.inf if d_lo is None else d_lo, np.inf if d_hi is None else d_hi
            ).astype(np.float32)
            for r in range(count):
                grid[r][j] = float(ends[r % 3])
        gaps = [j for j, c in enumerate(self.columns) if c.impute is not None]
        missing = []
        for j in gaps:
            row = list(grid[1 % count])
            row[j] = None
            missing.append(row)
        if len(gaps) > 1:
            missing.append([None if j in gaps else v for j, v in enumerate(grid[0])])
        for j, c in enumerate(self.columns):  # an unseen value where the graph has a policy for it: the policy, proved
            if c.unknown_policy is not None:
                row = list(grid[0])
                row[j] = UNSEEN_TEXT if c.text else max(c.categories) + 1
                missing.append(row)
        rows = []
        for row in [list(r) for r in distinct] + grid + missing:
            if row not in rows:
                rows.append(row)
        return rows

    def probe_rows(self, rows: Sequence[Sequence], bounds, count: int = 64, seed: int = 0) -> list[list]:
        """Rows drawn over the golden rows' ranges and vocabularies, with gaps where allowed: values, not sizes."""
        rng = np.random.default_rng(seed)
        out = [[None] * len(self.columns) for _ in range(count)]
        for j, (c, (d_lo, d_hi)) in enumerate(zip(self.columns, bounds)):
            seen = [r[j] for r in rows if r[j] is not None]
            for i in range(count):
                if c.impute is not None and rng.random() < 0.2:
                    continue
                if c.type == "category":
                    out[i][j] = c.categories[int(rng.integers(len(c.categories)))]
                else:
                    lo, hi = (min(seen), max(seen)) if seen else (-1.0, 1.0)
                    value = rng.uniform(lo, hi)
                    value = min(max(value, -math.inf if d_lo is None else d_lo), math.inf if d_hi is None else d_hi)
                    out[i][j] = float(np.float32(value))
        return out


def _check_column(c: Column) -> None:
    if not (isinstance(c.name, str) and c.name):
        raise ExportError(f"encoding column {c.name!r}: expected a non-empty name")
    if c.type == "number":
        if c.categories:
            raise ExportError(f"encoding column {c.name!r} is a number but lists categories")
        if c.impute is not None and not (isinstance(c.impute, (int, float)) and math.isfinite(c.impute)):
            raise ExportError(f"encoding column {c.name!r}: impute {c.impute!r} is not a finite number")
        return
    if c.type != "category":
        raise ExportError(f"encoding column {c.name!r}: type {c.type!r}, expected 'number' or 'category'")
    values = c.categories
    text = all(isinstance(v, str) and v and "\0" not in v for v in values)
    whole = all(isinstance(v, int) and not isinstance(v, bool) and v != MISSING_CODE for v in values)
    if not values or not (text or whole) or len(set(values)) != len(values):
        raise ExportError(
            f"categories of {c.name!r} are {list(values)!r}: expected distinct non-empty strings (without NUL) or "
            f"distinct integers other than {MISSING_CODE} (a gap's marker)"
        )
    if c.impute is not None and c.impute not in values:
        raise ExportError(f"encoding column {c.name!r}: impute {c.impute!r} is not one of its categories")


def fit_encoding(names: Sequence[str], kinds: Sequence[str], columns: Sequence[Sequence]) -> Encoding:
    """The encoding learnt from a table's columns (None: a gap): per kind ("number", "text", "integer"), sorted
    vocabularies; a gap is imputed only in a column that had one: the median of a number, the most frequent category
    (the first in sorted order on a tie)."""
    result = []
    for name, kind, values in zip(names, kinds, columns):
        present = [v for v in values if v is not None]
        gaps = len(present) < len(values)
        if kind == "number":
            impute = shortest_float32(np.median(np.float64(present))) if gaps else None
            result.append(Column(name, "number", (), impute))
            continue
        counts = Counter(present)
        vocabulary = tuple(sorted(counts))
        impute = max(vocabulary, key=lambda v: (counts[v], -vocabulary.index(v))) if gaps else None
        result.append(Column(name, "category", vocabulary, impute))
    return Encoding(tuple(result))


def encoded_rows(table: Any, encoding: Encoding, bounds, what: str) -> list[list]:
    """Rows (feature order, None for a gap) of `table` (a DataFrame or dict by name, or rows in feature order), each
    value checked as the runtime checks it: a finite number within the domain, one of the categories, a gap only where
    the feature imputes it. ExportError naming the first value that is not."""
    from .layout import columns  # layout imports this module's neighbours; columns is all that is needed here

    cols = columns(table, encoding.names, what)
    for c, values, (lo, hi) in zip(encoding.columns, cols, bounds):
        for i, value in enumerate(values):
            value = None if _is_gap(value) else value
            if value is None:
                if c.impute is None:
                    raise ExportError(f"{what} row {i}: {c.name} is missing, and the feature refuses gaps (no impute)")
                values[i] = None
                continue
            if c.type == "number":
                number = (
                    float(np.float32(value))
                    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
                    else math.nan
                )
                if not math.isfinite(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
                    raise ExportError(
                        f"{what} row {i}: {c.name} = {value!r} is not a finite number within the domain [{lo}, {hi}]; "
                        "the runtime would refuse it"
                    )
                values[i] = number
                continue
            if not c.text and isinstance(value, (float, np.floating, np.integer)) and float(value).is_integer():
                value = int(value)  # an integral float is that integer code (docs/artifact.md)
            if isinstance(value, np.str_):
                value = str(value)
            if value not in c.categories:
                raise ExportError(
                    f"{what} row {i}: {c.name} = {value!r} is not one of its categories {list(c.categories)}"
                )
            values[i] = value
    return [list(row) for row in zip(*cols)]


def observed_ranges(encoding: Encoding, rows: Sequence[Sequence]) -> list[list[float] | None]:
    """Per feature, a number's [min, max] over the rows' values (gaps left out); None for a category."""
    ranges = []
    for j, c in enumerate(encoding.columns):
        present = [r[j] for r in rows if r[j] is not None]
        ranges.append(
            [shortest_float32(min(present)), shortest_float32(max(present))] if c.type == "number" and present else None
        )
    return ranges


def _is_gap(value: Any) -> bool:
    """None, NaN, pandas NA/NaT: a missing value on the Python side."""
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return type(value).__name__ in ("NAType", "NaTType")
