"""The number grammar every sample value must follow, and how a bad value is named in an error."""

from __future__ import annotations

import math
import re

from typing import Any, Sequence

from edge_predict.errors import InputError
from edge_predict.float32 import F32_MAX
from edge_predict.model.manifest import MISSING_TEXTS, Feature

# ASCII only. float() alone would also take '1_000', fullwidth or Arabic-Indic digits and surrounding
# Unicode spaces; a device fed by a sensor or a spreadsheet should refuse those, not guess. nan and inf
# are read so the domain check can name them.
NUMBER = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE
)
SPACE = " \t\r\n"  # stripped around lines and fields; any other whitespace is an error
NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of undecodable bytes
EXPECTED = "expected a decimal number such as 7, -0.5 or 2.5e3"


def parse_number(token: str, where: str) -> float:
    """A number in the accepted grammar, or InputError naming `where` the bad token is and what was expected."""
    text = token.strip(SPACE)
    if NUMBER.fullmatch(text):
        value = float(text)
        if math.isinf(value) and "n" not in text.lower():  # e.g. 1e400: beyond even float64
            raise InputError(f"{where}: {shown(text)} overflows float32 (largest {F32_MAX:.4g})")
        return value
    raise InputError(f"{where}: {shown(text) if text else 'an empty value'} is not a number ({EXPECTED}{_hint(text)})")


def field_kinds(features: Sequence[Feature]) -> tuple[str, ...] | None:
    """How each feature's field is read from text: "number" (the grammar; a missing text is None), "code" (an
    integer category: a number where the field is one, else its text), "text" (a text category: the field as it
    is); None for a model whose features are all numbers that may not be missing, read as numbers only."""
    if all(f.type == "number" and f.missing == "refuse" for f in features):
        return None
    return tuple(
        "number" if f.type == "number" else "text" if isinstance(f.categories[0], str) else "code" for f in features
    )


def parse_field(token: str, kind: str, where: str) -> Any:
    """A typed feature's value from its (stripped) field: a float, None for a missing text (of a number or code;
    a text category's missing texts are judged against its vocabulary by the check), or the text as it is."""
    if kind == "text":
        return token
    if token in MISSING_TEXTS:
        return None
    if kind == "code" and not NUMBER.fullmatch(token):
        return token  # the check names it: text, where the feature takes integer codes
    return parse_number(token, where)


def names_a_column(field: str) -> bool:
    """A field that makes its line a CSV header: it starts with a letter and is not a number (nan, inf are)."""
    return field[:1].isalpha() and not NUMBER.fullmatch(field)


def shown(text: str, limit: int = 40) -> str:
    """repr(text), cut to `limit` characters and '…': an error line must stay short whatever the input."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "…"


def _hint(text: str) -> str:
    if "," in text:
        return "; use '.' as the decimal point"
    if text.lower().lstrip("+-").startswith("0x"):
        return "; hexadecimal is not accepted"
    if "_" in text:
        return "; write digits without '_'"
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return "; use the ASCII digits 0-9"
    return ""


def not_utf8(where: str, line: str) -> InputError:
    """The error for a line holding bytes that are not UTF-8 (decoded with errors="surrogateescape")."""
    raw = line.encode("utf-8", "surrogateescape")[:40]
    return InputError(f"{where}: bytes that are not UTF-8 ({raw!r}); save the input as UTF-8")
