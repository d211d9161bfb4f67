"""float32 facts shared by every layer (plain literals: numpy stays unimported here)."""

F32_MAX = 3.4028234663852886e38  # float32's largest finite value


def shortest_float32(value: float) -> float:
    """The float whose repr is the shortest decimal that reads back as the same float32."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
