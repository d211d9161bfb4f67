"""Whole blocks of CSV text parsed at once: numpy finds every field and reads its digits eight at a time.

A block is parsed here only when every field is a number in the line reader's grammar written with the
characters 0-9 . + - e E. Anything else (a space, a blank or comment line, nan, a malformed number, a wrong
column count, a non-ASCII character) returns None, and the caller reads that block line by line, which finds
and words the error. Values are exactly float(text): a mantissa of at most 15 digits times or over an exact
power of ten (at most 1e22) is one correctly rounded operation (Clinger's fast path); other fields go through
float() one by one.

A typed model's block (numbers, integer codes and text categories, missing fields) is read by _typed_block: its text
fields as they are, its number and code columns each through the parser above.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from edge_predict.model.manifest import MISSING_TEXTS
from edge_predict.tables._fast.fastread import feature_fields

_PAD = b"0" * 23 + b"\n"  # room to read 16 bytes before the first field, which the newline starts
_U = np.uint64
_ASCII_ZEROS = 0x3030303030303030
# _KEEP[n]: the n high bytes of a little-endian word, i.e. its last n characters in the text
_KEEP = np.array([0] + [(2 ** (8 * n) - 1) << (64 - 8 * n) for n in range(1, 9)], dtype=np.uint64)
_SPAN = (_KEEP[:, None] & ~_KEEP[None, :]).ravel()  # _SPAN[9 * n + m]: the last n characters but the last m
_POW = 10.0 ** np.arange(23)  # exact in float64 up to 1e22
_POW_U = np.array([10**i for i in range(16)], dtype=np.uint64)
_SIGN = np.ones(256)
_SIGN[ord("-")] = -1.0
_NUMERIC = b"0123456789.,\n"  # deleted from a block we parse, these leave only signs and exponent marks
_U2 = np.uint16
_PLAIN = np.dtype([("head", "<u2"), ("digits", "<u8"), ("tail", "<u2")])  # packed: 12 bytes, one value's text
# Fewer fields than this in a block: the line reader costs less than the block's fixed numpy setup (the device
# loop's one line at a time on a pipe, bench/goals.py's loop row), so parse_block is not called for them.
MIN_FIELDS = 64


def pays(text: str, k: int) -> bool:
    """Whether `text` (whole lines of k fields) is worth parsing at once rather than line by line."""
    return text.count("\n") * k >= MIN_FIELDS


class Block:
    """A parsed block: `values` (n, k) in the file's column order; with json, `json_chars`: repr() of every value
    (row by row, in file order) as a (n * k, w) NUL-padded uint8 matrix, for the JSON writer."""

    def __init__(self, values: np.ndarray, json_chars: np.ndarray | None = None):
        self.values, self.json_chars = values, json_chars


def parse_block(
    text: str,
    k: int,
    layout: tuple[int, Sequence[int]] | None = None,
    json: bool = False,
    kinds: Sequence[str] | None = None,
) -> Block | None:
    """The values (n, k) of `text`, whole lines of k numbers separated by ','; None if anything is unusual.
    With `kinds` (a typed model's, in file order; no layout): numbers, codes and texts, as _typed_block reads them.
    With `layout` (width, features): lines of `width` fields, numbers in the columns `features` (sorted), any
    text in the others (fastread.feature_fields says which). With `json`, also the values' JSON texts, made from
    the texts where they are plain decimals (-.50 -> -0.5, +5 -> 5.0), else by repr() itself: made here, while the
    fields' positions are at hand (kept for later, they would take several times the text's memory)."""
    if kinds is not None:
        return None if layout is not None else _typed_block(text, kinds)
    try:
        data = text.encode("ascii") if layout is None else feature_fields(text, *layout)
    except UnicodeEncodeError:
        return None
    if data is None:
        return None
    rest = data.translate(None, _NUMERIC)
    if not data.endswith(b"\n") or rest.translate(None, b"+-eE"):
        return None
    b = np.frombuffer(_PAD + data, np.uint8)
    # the separators ',' (44) and '\n' (10) are the only characters below '-' (45), apart from '+' (43)
    seps = np.flatnonzero((b == 44) | (b == 10) if b"+" in rest else b < 45)
    ends, starts = seps[1:], seps[:-1] + 1  # field i is b[starts[i]:ends[i]]
    rows = len(ends) // k
    if rows * k != len(ends) or np.count_nonzero(b == 10) != rows + 1 or not (b[ends[k - 1 :: k]] == 10).all():
        return None  # not k fields on every line (rows + 1: the pad ends with a '\n')
    fields = _Fields(b, starts, ends, exponents=len(rest) != rest.count(b"+") + rest.count(b"-"))
    if not fields.valid(signs=rest.count(b"+") + rest.count(b"-")):
        return None
    values = fields.values(data)
    if values is None:
        return None
    return Block(values.reshape(rows, k), _json_chars(fields, values) if json else None)


class _Fields:
    """Where each field's sign, integer digits, fraction digits and exponent lie in the padded block `b`."""

    def __init__(self, b: np.ndarray, starts: np.ndarray, ends: np.ndarray, exponents: bool):
        self.b, self.starts, self.ends = b, starts, ends
        self.first = b[starts]
        self.lead = self.first < 46  # '+' or '-': every other character a field may start with is above
        self.mantissa_end, self.has_exp, self.exp_neg, self.exp_sign = ends, None, None, 0
        self.one_exp = True
        if exponents:
            marks = np.flatnonzero((b | 32) == ord("e"))  # 'e' and 'E'
            owner = np.searchsorted(ends, marks)  # the field holding each mark
            self.one_exp = owner.size < 2 or bool((np.diff(owner) > 0).all())
            self.has_exp = np.zeros(len(ends), bool)
            self.has_exp[owner] = True
            self.mantissa_end = ends.copy()
            self.mantissa_end[owner] = marks
            after = b[np.minimum(self.mantissa_end + 1, len(b) - 1)]
            self.exp_neg = self.has_exp & (after == ord("-"))
            self.exp_sign = self.exp_neg | (self.has_exp & (after == ord("+")))

    def valid(self, signs: int) -> bool:
        """Every field in the grammar: [sign] digits with at most one '.', at least one digit, then
        optionally e, [sign], at least one digit. Counts each field's digits on the way."""
        if not self.one_exp or int(self.lead.sum()) + int(np.sum(self.exp_sign)) != signs:
            return False  # two exponents, or a sign inside a number or after its digits
        dots = np.flatnonzero(self.b == ord("."))
        if len(dots) == len(self.ends):  # the common case: dot i in field i, so one in each
            if not ((dots > self.starts - 1) & (dots < self.mantissa_end)).all():
                return False
            self.dot = dots
        else:
            owner = np.searchsorted(self.ends, dots)
            if owner.size > 1 and not (np.diff(owner) > 0).all() or not (dots < self.mantissa_end[owner]).all():
                return False  # two dots in a field, or one in an exponent
            self.dot = self.mantissa_end.copy()  # no dot: the integer digits run to the mantissa's end
            self.dot[owner] = dots
        self.n_int = self.dot - self.starts - self.lead
        self.n_frac = np.maximum(self.mantissa_end - self.dot - 1, 0)
        self.digits = self.n_int + self.n_frac
        if self.digits.min() < 1:
            return False
        if self.has_exp is not None:
            self.n_exp = np.where(self.has_exp, self.ends - self.mantissa_end - 1 - self.exp_sign, 1)
            return bool(self.n_exp.min() >= 1)
        return True

    def values(self, data: bytes) -> np.ndarray | None:
        """The float64 value of every field, in order; None if one overflows (the line reader names it)."""
        words = np.ndarray((len(self.b) - 7,), "<u8", self.b, 0, (1,))  # the 8 bytes from each position
        has_dot = self.dot < self.mantissa_end
        self.one_word = (self.digits + has_dot).max() <= 8
        if self.one_word:  # the usual: a whole mantissa in one word; close its dot's gap
            self.word = word = np.take(words, self.mantissa_end - 8)  # faster than indexing this unaligned view
            shifted = word << (_U(8) if has_dot.all() else has_dot.astype(np.uint64) * _U(8))
            m = _eight(shifted ^ ((word ^ shifted) & _KEEP[self.n_frac]), self.digits)  # fraction from word
            slow = None
        else:
            m = _digits(words, self.dot, self.n_int) * _POW_U[np.minimum(self.n_frac, 15)]
            m += _digits(words, self.mantissa_end, self.n_frac)
            slow = self.digits > 15
        if self.has_exp is None:
            values = np.copysign(
                m / _POW[self.n_frac if self.one_word else np.minimum(self.n_frac, 22)], _SIGN[self.first]
            )
        else:
            exp = _digits(words, self.ends, np.where(self.has_exp, self.n_exp, 0)).astype(np.int64)
            power = np.where(self.exp_neg, -exp, exp) - self.n_frac
            far = (np.abs(power) > 22) | (self.n_exp > 8)
            slow = far if slow is None else slow | far
            scale = _POW[np.minimum(np.abs(power), 22)]
            values = np.copysign(np.where(power >= 0, m * scale, m / scale), _SIGN[self.first])
        if slow is None:
            return values
        offset = len(_PAD)
        for i in np.flatnonzero(slow).tolist():  # 16 digits and more, or a far exponent: float() decides
            values[i] = float(data[self.starts[i] - offset : self.ends[i] - offset])
        return values if np.isfinite(values).all() else None


def _digits(words: np.ndarray, end: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The integer value of the `count` (0..16) decimal digits just before each position `end`."""
    low = _eight(np.take(words, end - 8), np.minimum(count, 8))
    if count.max() <= 8:
        return low
    return _eight(np.take(words, end - 16), np.minimum(np.maximum(count - 8, 0), 8)) * _U(10**8) + low


def _eight(word: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The value of the last `count` (0..8) ASCII digits of each word, all eight at once (SWAR)."""
    x = (word ^ _U(_ASCII_ZEROS)) & _KEEP[count]  # digit values ('0' is 0x30); the bytes before them 0
    x = x * _U(10) + (x >> _U(8))  # pairs of digits
    lo, hi = x & _U(0x000000FF000000FF), (x >> _U(16)) & _U(0x000000FF000000FF)
    return (lo * _U(100 + (1000000 << 32)) + hi * _U(1 + (10000 << 32))) >> _U(32)


def _json_chars(fields: "_Fields", values: np.ndarray) -> np.ndarray:
    """Fields.json_chars: the text of each value, made canonical as repr() writes it."""
    has_dot = fields.dot < fields.mantissa_end
    if fields.one_word and fields.has_exp is None:  # repr() is the decimal itself, canonical, for up to 15 digits
        # and from 1e-4 (every 15-digit decimal reads as a different float64): drop trailing zeros but one, and
        # write 0 before and after '.'
        zeros = fields.word ^ _U(_ASCII_ZEROS)  # a '0' character is a zero byte
        top = np.frexp(zeros.astype(np.float64))[1]  # the highest non-'0' byte: exact, ASCII has no 0xFF byte
        trailing = np.minimum(8 - (top + 7) // 8, np.maximum(fields.n_frac - 1, 0))
        texts = np.empty(len(values), _PLAIN)  # 12 characters: sign, '0', the digits and dot, '.', '0'
        texts["head"] = (fields.first == ord("-")) * _U2(ord("-")) | (fields.n_int == 0) * _U2(ord("0") << 8)
        texts["digits"] = fields.word & _SPAN[9 * (fields.digits + has_dot) + trailing]
        texts["tail"] = ~has_dot * _U2(ord(".")) | (fields.n_frac == 0) * _U2(ord("0") << 8)
        chars = texts.view(np.uint8).reshape(-1, _PLAIN.itemsize)
        magnitude = np.abs(values)
        slow = ((magnitude < 1e-4) & (magnitude > 0)) | (
            (fields.n_int > 1) & (fields.b[fields.starts + fields.lead] == 48)
        )
    else:
        chars, slow = np.zeros((len(values), 0), np.uint8), np.ones(len(values), bool)
    if not slow.any():
        return chars
    texts = {i: repr(float(values[i])).encode() for i in np.flatnonzero(slow).tolist()}  # a leading zero, a tiny
    # value, an exponent, many digits: repr() itself, at most 24 characters
    wide = max(chars.shape[1], max(map(len, texts.values())))
    if wide > chars.shape[1]:
        chars = np.concatenate([chars, np.zeros((len(chars), wide - chars.shape[1]), np.uint8)], axis=1)
    for i, text in texts.items():
        chars[i] = 0
        chars[i, : len(text)] = np.frombuffer(text, np.uint8)
    return chars


def _typed_block(text: str, kinds: Sequence[str]) -> Block | None:
    """A typed model's block: the values (n, k) of `text` (whole lines of k fields of `kinds`, grammar.field_kinds in
    file order) as an object array, floats, None for a missing number or code, texts as they are; None if anything
    is unusual: a quote, '#', carriage return, space, tab or BOM, a blank line, a line of another width, a number or
    code field that is neither a missing text nor a plain number (the line path then finds and words it)."""
    if not text.endswith("\n") or any(c in text for c in '"#\r \t\ufeff'):
        return None
    lines = text.split("\n")
    lines.pop()
    k = len(kinds)
    rows = [line.split(",") for line in lines]
    if not rows or any(len(row) != k for row in rows) or not all(lines):  # a blank line is skipped, not a row
        return None
    values = np.empty((len(rows), k), dtype=object)
    for j, (kind, fields) in enumerate(zip(kinds, zip(*rows))):
        if kind == "text":
            values[:, j] = fields
            continue
        missing = np.fromiter(map(MISSING_TEXTS.__contains__, fields), bool, len(fields))
        present = [f for f, m in zip(fields, missing) if not m]
        if present:
            block = parse_block("\n".join(present) + "\n", 1)
            if block is None:  # not a plain number: text (a code's error), nan, inf, a bad number
                return None
            column = np.full(len(fields), None, dtype=object)
            column[~missing] = block.values[:, 0].tolist()
        else:
            column = np.full(len(fields), None, dtype=object)
        values[:, j] = column
    return Block(values)
