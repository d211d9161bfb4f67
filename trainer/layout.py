"""Named features to a module's forward arguments: numbers as float32, categories as int64 codes of their vocabulary.

The device still takes one row of named features; the graph takes one input per forward argument (numbers float32,
categories as they are: strings, or integers), and an ai.onnx.ml LabelEncoder turns categories into the codes the
module was trained on (docs/artifact.md, "Category codes in the graph").
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from .golden import MAX_TRAINING_ROWS, Bounds
from .graph import ExportError


@dataclass(frozen=True)
class Argument:
    """One forward argument: its name (the graph input's), its features in column order, and, for categories,
    each feature's vocabulary (the module takes the index of a value in it, int64)."""

    name: str
    features: tuple[str, ...]
    vocabularies: tuple[tuple, ...] | None = None  # None: numbers, float32

    @property
    def kind(self) -> str:
        """The graph input's type: float32, string or int64."""
        if self.vocabularies is None:
            return "float32"
        return "string" if isinstance(self.vocabularies[0][0], str) else "int64"


def arguments(module: torch.nn.Module, names: list[str], inputs: Any, categories: Any) -> list[Argument]:
    """The module's forward arguments from `inputs` (None: one argument of every feature; a list of feature-name lists,
    one per positional argument; or a dict from forward parameter name to its features) and `categories` ({feature:
    vocabulary}). ExportError when a feature is in no argument or two, or an argument mixes numbers and categories."""
    categories = _vocabularies(categories, names)
    params = _parameters(module)
    if inputs is None:
        groups = [(None, list(names))]
    elif isinstance(inputs, Mapping):
        unknown = [key for key in inputs if key not in params]
        if unknown:
            raise ExportError(f"inputs names {unknown}, which are not parameters of the module's forward {params}")
        groups = sorted(inputs.items(), key=lambda item: params.index(item[0]))
        groups = [(key, [value] if isinstance(value, str) else list(value)) for key, value in groups]
    else:
        groups = [(None, [g] if isinstance(g, str) else list(g)) for g in inputs]
    placed = [name for _, group in groups for name in group]
    if sorted(placed) != sorted(names) or len(set(placed)) != len(placed) or any(not g for _, g in groups):
        missing = [n for n in names if n not in placed]
        twice = sorted({n for n in placed if placed.count(n) > 1})
        extra = [n for n in placed if n not in names]
        raise ExportError(
            f"inputs {inputs!r}: each feature must be in exactly one of the module's inputs and each input must have "
            f"one at least (missing: {missing}, twice: {twice}, not features: {extra})"
        )
    result = []
    for position, (key, group) in enumerate(groups):
        kinds = {name in categories for name in group}
        if len(kinds) > 1:
            raise ExportError(
                f"the module's input {key or position} holds numbers and categories ({group}): a tensor is float32 "
                "numbers or int64 category codes; split them into two inputs"
            )
        vocabularies = tuple(categories[n] for n in group) if group[0] in categories else None
        if vocabularies and len({isinstance(v[0], str) for v in vocabularies}) > 1:
            raise ExportError(f"the module's input {key or position} mixes text and integer categories; split them")
        name = key or (params[position] if position < len(params) else f"input{position}")
        result.append(Argument(name, tuple(group), vocabularies))
    if len(result) == 1 and result[0].vocabularies is None:  # today's one float32 input, named as in format 2
        result = [Argument("features" if len(names) > 1 else names[0], tuple(names))]
    return result


def _parameters(module: torch.nn.Module) -> list[str]:
    try:
        signature = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


def _vocabularies(categories: Any, names: list[str]) -> dict[str, tuple]:
    if categories is None:
        return {}
    if not isinstance(categories, Mapping):
        raise ExportError("categories: expected a dict from feature name to its categories, in code order")
    result = {}
    for name, vocabulary in categories.items():
        if name not in names:
            raise ExportError(f"categories names {name!r}, which is not a feature ({names})")
        values = tuple(vocabulary.tolist() if isinstance(vocabulary, np.ndarray) else vocabulary)
        text = all(isinstance(v, str) and v and "\0" not in v for v in values)
        whole = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values)
        if not values or not (text or whole) or len(set(values)) != len(values):
            raise ExportError(
                f"categories of {name!r} are {list(values)!r}: expected distinct non-empty strings (without NUL) or "
                "distinct integers, in the order of the codes the module takes (0, 1, ...)"
            )
        result[name] = tuple(int(v) for v in values) if whole else values
    return result


def columns(table: Any, names: list[str], what: str) -> list[list]:
    """Per feature its values from a DataFrame or dict (by name) or from rows in feature order."""
    if hasattr(table, "columns") and not isinstance(table, np.ndarray) or isinstance(table, Mapping):
        try:
            return [list(table[name]) for name in names]
        except KeyError as exc:
            raise ExportError(f"{what} has no column {exc.args[0]!r}") from None
    rows = [list(row) for row in table]
    if not rows or any(len(row) != len(names) for row in rows):
        raise ExportError(f"{what}: expected rows of {len(names)} values, one per feature, in feature order")
    return [list(column) for column in zip(*rows)]


def typed_rows(table: Any, names: list[str], bounds: Bounds, vocab: Mapping[str, tuple], what: str) -> list[list]:
    """Rows (feature order) of finite numbers within the domain and known categories; ExportError naming the first
    value that is not."""
    cols = columns(table, names, what)
    for name, values, (lo, hi) in zip(names, cols, bounds):
        for i, value in enumerate(values):
            if name in vocab:
                values[i] = _category(value, vocab[name], name, i, what)
                continue
            number = float(np.float32(value)) if _numeric(value) else math.nan
            if not math.isfinite(number) or (lo is not None and number < lo) or (hi is not None and number > hi):
                raise ExportError(
                    f"{what} row {i}: {name} = {value!r} is not a finite number within the domain [{lo}, {hi}]; the "
                    "runtime would refuse it"
                )
            values[i] = number
    return [list(row) for row in zip(*cols)]


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _category(value: Any, vocabulary: tuple, name: str, row: int, what: str):
    if isinstance(vocabulary[0], int) and _numeric(value) and float(value).is_integer():
        value = int(value)  # an integral float is that integer code (docs/artifact.md)
    if value not in vocabulary:
        raise ExportError(f"{what} row {row}: {name} = {value!r} is not one of its categories {list(vocabulary)}")
    return value


def default_rows(names: list[str], bounds: Bounds, vocab: Mapping[str, tuple], train: list[list] | None) -> list[list]:
    """Distinct training rows (up to MAX_TRAINING_ROWS, spread evenly), then rows that take every number to the low
    end, the middle and the high end of its range and every category through its whole vocabulary."""
    rows = []
    if train:
        distinct = sorted({tuple(row) for row in train}, key=lambda r: [(str(type(v)), v) for v in r])
        if len(distinct) > MAX_TRAINING_ROWS:
            distinct = [distinct[i] for i in np.linspace(0, len(distinct) - 1, MAX_TRAINING_ROWS).round().astype(int)]
        rows = [list(row) for row in distinct]
    count = max([3, *(len(v) for v in vocab.values())])
    grid = [[None] * len(names) for _ in range(count)]
    for j, (name, (d_lo, d_hi)) in enumerate(zip(names, bounds)):
        if name in vocab:
            for r in range(count):
                grid[r][j] = vocab[name][r % len(vocab[name])]
            continue
        seen = [row[j] for row in train] if train else [-1.0, 1.0]
        lo = d_lo if d_lo is not None else min(min(seen), d_hi if d_hi is not None else math.inf)
        hi = d_hi if d_hi is not None else max(max(seen), lo)
        ends = np.clip(  # float32 rounding may step a bound outside the domain
            np.float32([lo, (lo + hi) / 2, hi]),
            -np.inf if d_lo is None else d_lo,
            np.inf if d_hi is None else d_hi,
        ).astype(np.float32)
        for r in range(count):
            grid[r][j] = float(ends[r % 3])
    unique = []
    for row in rows + grid:
        if row not in unique:
            unique.append(row)
    return unique


def tensors(rows: list[list], names: list[str], layout: list[Argument]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per argument, what the graph takes (float32 numbers, the categories as strings or int64) and what the module
    takes (float32, or int64 codes)."""
    index = {name: j for j, name in enumerate(names)}
    raw, codes = [], []
    for argument in layout:
        cols = [[row[index[name]] for row in rows] for name in argument.features]
        if argument.vocabularies is None:
            array = np.array(cols, np.float32).T.reshape(len(rows), len(cols))
            raw.append(array)
            codes.append(array)
            continue
        values = np.array(cols, object if argument.kind == "string" else np.int64).T.reshape(len(rows), len(cols))
        raw.append(values)
        codes.append(
            np.array([[v.index(x) for x in col] for v, col in zip(argument.vocabularies, cols)], np.int64).T.reshape(
                len(rows), len(cols)
            )
        )
    return raw, codes
