"""Printing float32 outputs: the shortest decimal text that reads back as the same float32, vectorized."""

from __future__ import annotations

import numpy as np

_DECIMALS = 12  # 9 significant digits (always enough for a float32) after up to 3 leading zeros
_WIDTH = 16  # "0." and 12 decimals, or the longest %.9g of a tiny float32 ("1.17549435e-38")
_POW10 = 10.0 ** np.arange(_DECIMALS + 1)
_POWERS = _POW10.tolist()  # the same powers as Python floats, for _text
_LOW = float(np.float32(1e-4))  # where "0.ddd" starts: p32 >= 1e-4 compares in float32
_DIGITS4 = None  # made on first use
# Fewer values than this are formatted one at a time (_text): numpy's fixed cost per call is more than a few values'
# Python floats cost (the device loop's one answer per line, bench/goals.py's loop row); the texts are the same.
MIN_VALUES = 16


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
    p32 = np.asarray(p, dtype=np.float32).reshape(-1)
    if p32.size < MIN_VALUES:
        return [_text(v) for v in p32]
    return probability_chars(p32).view(f"S{_WIDTH}").reshape(-1).astype(f"U{_WIDTH}").tolist()


def probability_chars(p: np.ndarray) -> np.ndarray:
    """format_probabilities as a (n, 16) matrix of ASCII codes, each row padded with NULs."""
    p32 = np.asarray(p, dtype=np.float32).reshape(-1)
    if p32.size < MIN_VALUES:
        chars = np.zeros((p32.size, _WIDTH), np.uint8)
        for i, v in enumerate(p32):
            text = _text(v).encode()
            chars[i, : len(text)] = np.frombuffer(text, np.uint8)
        return chars
    fast = (p32 >= 1e-4) & (p32 < 1)  # "0.ddd"; anything else (0, 1, tiny, a regression's value) one by one
    p64 = np.where(fast, p32, np.float32(0.5)).astype(np.float64)
    places = _decimals_needed(p64.astype(np.float32), p64)
    fast &= places <= _DECIMALS
    places = np.minimum(places, _DECIMALS)
    # the shortest rounding, scaled to exactly 12 decimals so every row has the same digit layout
    q = (np.rint(p64 * _POW10[places]) * _POW10[_DECIMALS - places]).astype(np.int64)
    table = _digits4()
    digits = np.stack([table[q // 100000000 % 10000], table[q // 10000 % 10000], table[q % 10000]], axis=1).view(
        np.uint8
    )
    digits *= np.arange(_DECIMALS) < places[:, None]  # NUL after the last needed decimal
    chars = np.zeros((p32.size, _WIDTH), np.uint8)
    chars[:, :2] = (ord("0"), ord("."))
    chars[:, 2 : 2 + _DECIMALS] = digits
    for i in np.flatnonzero(~fast).tolist():
        text = _shortest(p32[i]).encode()
        chars[i] = 0
        chars[i, : len(text)] = np.frombuffer(text, np.uint8)
    return chars


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


def _text(v32: np.float32) -> str:
    """One value's text, as the arrays above make it, in Python floats: the same float64 products, round() rounds
    half to even as np.rint does, the same bisection over the decimals."""
    p = float(v32)
    if not _LOW <= p < 1:
        return _shortest(v32)
    lo, hi = 1, _DECIMALS + 1
    while lo < hi:
        mid = (lo + hi) // 2
        scale = _POWERS[mid]
        if np.float32(round(p * scale) / scale) == v32:
            hi = mid
        else:
            lo = mid + 1
    if lo > _DECIMALS:
        return _shortest(v32)
    return "0." + str(round(p * _POWERS[lo])).rjust(lo, "0")


def _shortest(v32: np.float32) -> str:
    v = float(v32)
    for digits in (6, 7, 8):
        text = f"{v:.{digits}g}"
        if np.float32(float(text)) == v32:
            return text
    return f"{v:.9g}"  # 9 significant digits always read back as the same float32
