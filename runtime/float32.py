"""float32 facts shared by every layer (plain literals: numpy stays unimported here)."""

F32_MAX = 3.4028234663852886e38  # float32's largest finite value

# Up to this many values the checks and the binary (n, 2) build use Python floats: numpy's per-call cost is most of
# the work there, and from about 32 values on it is Python's (bench/results.md, issue 27: batches 1 to 64).
TINY = 8


def shortest_float32(value: float) -> float:
    """The float whose repr is the shortest decimal that reads back as the same float32."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
