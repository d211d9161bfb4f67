"""Writing scored rows as text, JSON Lines or CSV, with probabilities printed exactly and fast."""

from __future__ import annotations

import json
from typing import IO, Sequence

import numpy as np

_DECIMALS = 12  # 9 significant digits (always enough for a float32) after up to 3 leading zeros
_POW10 = 10.0 ** np.arange(_DECIMALS + 1)
# the four ASCII digits of 0000..9999 as one little-endian uint32 each: one gather writes four characters
_DIGITS4 = (np.arange(10000)[:, None] // np.array([1000, 100, 10, 1]) % 10 + ord("0")).astype(np.uint8)
_DIGITS4 = _DIGITS4.view("<u4").ravel()


def format_probabilities(p: np.ndarray) -> list[str]:
    """Shortest decimal text of each float32 probability that reads back as the same float32.

    Vectorized for the usual 1e-4 <= p < 1 ("0.ddd"); 0, 1 and tiny values are formatted one by one.
    "Reads back" means float32(float(text)), what every CSV and JSON reader does.
    """
    p32 = np.asarray(p, dtype=np.float32).reshape(-1)
    p64 = p32.astype(np.float64)
    places = _decimals_needed(p32, p64)
    fast = (p32 >= 1e-4) & (p32 < 1) & (places <= _DECIMALS)
    places = np.minimum(places, _DECIMALS)
    # the shortest rounding, scaled to exactly 12 decimals so every row has the same digit layout
    q = (np.rint(p64 * _POW10[places]) * _POW10[_DECIMALS - places]).astype(np.int64)
    digits = np.stack([_DIGITS4[q // 100000000 % 10000], _DIGITS4[q // 10000 % 10000], _DIGITS4[q % 10000]],
                      axis=1).view(np.uint8)
    digits *= np.arange(_DECIMALS) < places[:, None]  # NUL after the last needed decimal: "S" drops it
    chars = np.empty((p32.size, 2 + _DECIMALS), np.uint8)
    chars[:, :2] = (ord("0"), ord("."))
    chars[:, 2:] = digits
    out = chars.view(f"S{2 + _DECIMALS}").reshape(-1).astype(f"U{2 + _DECIMALS}").tolist()
    for i in np.flatnonzero(~fast).tolist():
        out[i] = _shortest(p32[i])
    return out


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

    def __init__(self, out: IO[str], fmt: str, feature_names: Sequence[str], labels: Sequence[str]):
        self.out, self.fmt, self.names, self.labels = out, fmt, list(feature_names), list(labels)
        self._started = False

    def write(self, batch, proba: np.ndarray, predicted: np.ndarray) -> None:
        """Write one batch (texts and values of the rows), its probabilities and 0/1 predictions."""
        if not self._started:
            self._started = True
            if self.fmt == "csv":
                self.out.write(",".join(self.names + ["probability", "label"]) + "\n")
            elif self.fmt == "text":
                self.out.write("  ".join([f"{n:>12}" for n in self.names] + ["probability", "label"]) + "\n")
        labels = np.array(self.labels, dtype=object)[predicted].tolist()
        if self.fmt == "text":
            lines = ["  ".join([f"{t:>12}" for t in text] + [f"{p:>11.6f}", label])
                     for text, p, label in zip(batch.texts, proba.tolist(), labels)]
        elif self.fmt == "csv":
            fields = [t[0] for t in batch.texts] if len(self.names) == 1 else map(",".join, batch.texts)
            lines = [f"{t},{p},{label}" for t, p, label in zip(fields, format_probabilities(proba), labels)]
        else:
            lines = [
                f'{{"input":{json.dumps(dict(zip(self.names, row)))},"probability":{p},"label":{json.dumps(label)}}}'
                for row, p, label in zip(batch.values.tolist(), format_probabilities(proba), labels)
            ]
        self.out.write("\n".join(lines) + "\n")
