"""What the label column asks for: binary, multiclass or regression, and its values encoded for torch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

import numpy as np

from edge_predict import InputError
from edge_predict.authoring import F32_MAX, NUMBER

MAX_CLASSES = 100


@dataclass(frozen=True)
class Target:
    """The encoded label column: y (n, 1) float32 (class index, or the value), its task and class names."""

    task: str
    y: np.ndarray
    labels: tuple[str, ...] | None  # classifiers: class names in output order (sorted); regression: None


def encode(
    values: Sequence[str],
    where: Sequence[str],
    task: str = "auto",
    column: str = "the label",
    source: str = "the table",
) -> Target:
    """Decide the task from the label texts (`task` "auto") or check the one asked for, and encode them.

    `where[i]` names row i for errors (e.g. "t.csv line 3"), `column` the label column and `source` the
    table in errors about the whole column. auto: two classes -> binary; 3 to 100 distinct
    integers or strings -> multiclass; other numbers -> regression. Classes are sorted: numbers by value,
    strings as text; a number is named by its shortest form ('1.0' and '1' are the class '1').
    """
    numbers = [_number(v) for v in values]
    for value, number, place in zip(values, numbers, where):
        if not value:
            raise InputError(f"{place}: {column} is empty; every row needs one")
        if number is not None and not math.isfinite(number):
            raise InputError(f"{place}: {column} {value!r} is not a finite number")
    numeric = all(n is not None for n in numbers)
    # A numeric class is its exact decimal value: as floats, 12345678901234567890 and ...891 were one class
    keys = [Decimal(v) for v in values] if numeric else list(values)
    classes = sorted(set(keys))
    if task == "auto":
        integral = numeric and all(key == key.to_integral_value() for key in keys)
        task = "binary" if len(classes) <= 2 else "multiclass" if (integral or not numeric) else "regression"
        if task == "multiclass" and numeric and len(classes) > MAX_CLASSES:
            task = "regression"  # many distinct integers: a count or an amount, not classes
    if task == "regression":
        return _regression(values, numbers, where, column)
    _check_classes(task, classes, keys, values, where, f"{source}: {column}")
    index = {key: i for i, key in enumerate(classes)}
    y = np.array([[index[key]] for key in keys], np.float32)
    return Target(task, y, tuple(_name(c) if numeric else c for c in classes))


def _regression(values, numbers, where, column) -> Target:
    for value, number, place in zip(values, numbers, where):
        if number is None:
            raise InputError(f"{place}: {column} {value!r} is not a number, and --task regression predicts one")
    with np.errstate(over="ignore"):
        y = np.array(numbers, np.float32).reshape(-1, 1)
    beyond = np.flatnonzero(np.isinf(y[:, 0]))  # the loss would be inf too, and the advice to lower --lr
    if beyond.size:
        i = int(beyond[0])
        raise InputError(
            f"{where[i]}: {column} {values[i]!r} is beyond float32 (largest {F32_MAX:.4g}); the model cannot be "
            "trained on it: fix the value, scale the column, or remove the row"
        )
    return Target("regression", y, None)


def _check_classes(task, classes, keys, values, where, column) -> None:
    count = len(classes)
    if count == 1:
        raise InputError(f"{column} is {values[0]!r} in every row; a classifier needs at least two classes")
    if task == "binary" and count > 2:
        row = keys.index(classes[2])
        fix = "to predict a number use --task regression" if isinstance(keys[0], Decimal) else "use --task multiclass"
        raise InputError(
            f"{column} has {count} distinct values (e.g. "
            f"{values[row]!r} on {where[row]}), but --task binary needs 2 classes; {fix}"
        )
    if task == "multiclass" and count == 2:
        raise InputError(f"{column} has 2 classes; use --task binary (or --task auto)")
    if count > MAX_CLASSES:
        fix = "; to predict a number use --task regression" if isinstance(keys[0], Decimal) else ""
        raise InputError(f"{column} has {count} distinct values, more than {MAX_CLASSES} classes{fix}")


def _number(text: str) -> float | None:
    return float(text) if NUMBER.fullmatch(text) else None


def _name(number: Decimal) -> str:
    """A numeric class's shortest exact name: 1.0 -> '1', 2.50 -> '2.5', 12345678901234567891 (not ...568 as float)."""
    if number == number.to_integral_value():
        return str(int(number))
    short = repr(float(number))
    exact = format(number, "f").rstrip("0")  # not normalize(): it rounds to the context's 28 digits
    return short if Decimal(short) == number else exact
