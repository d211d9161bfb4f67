"""The bound call: run_with_iobinding on float32 buffers kept per batch size, in a bounded pool shared by threads.

session.run wraps the input in a new OrtValue, allocates the output and wraps it back into numpy on every call; for
small batches that is most of the call. A binding made once per batch size skips it: the rows are copied into its
input buffer, onnxruntime writes into its output buffer, and the caller gets a copy of that (never the buffer).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort

# Above this many rows the copy into the buffer costs what binding saves, and the buffers would hold real memory:
# session.run is used (bench/results.md: the bound call against session.run per batch size).
MAX_ROWS = 1024
# At most this many batch sizes keep idle bindings, each at most PER_SIZE of them (threads scoring the same size at
# once); a thread that finds none idle makes one, and a new size pushes out the oldest.
MAX_SIZES, PER_SIZE = 8, 2


class Bindings:
    """Bound calls of one session for batches of up to MAX_ROWS rows; run() gives None for the rest."""

    def __init__(self, session: ort.InferenceSession, options: ort.RunOptions, output: str, width: int):
        self._session, self._options = session, options
        # InferenceSession.run_with_iobinding is a Python wrapper around the C++ session's, given the binding's C++
        # object; on the CPU provider it only adds WebGPU graph capture's bookkeeping. Called directly where this
        # onnxruntime has both (_bind), else through the wrapper
        self._direct = getattr(getattr(session, "_sess", None), "run_with_iobinding", None)
        self._input, self._output = session.get_inputs()[0].name, output
        # the shape session.run returns when the graph computes what its manifest says: (n, width), or (n,)
        declared = next(arg for arg in session.get_outputs() if arg.name == output)
        self._out_shape = () if width == 1 and _rank(declared) == 1 else (width,)
        self._idle: dict[
            int, list
        ] = {}  # batch size -> idle (call, binding, input, output); list.pop/append are atomic
        self._sizes = threading.Lock()  # taken only to add a batch size (and drop the oldest)

    def run(self, x: np.ndarray) -> np.ndarray | None:
        """The graph's output for x (float32, C-contiguous, (n, k)) as session.run returns it, or None: not bound
        for this batch (too large, or onnxruntime refused the binding; session.run then says why)."""
        n = len(x)
        idle = self._idle.get(n)
        try:
            call, binding, given, out = entry = idle.pop() if idle else self._bind(n, x)
            given[...] = x
            call(binding, self._options)
        except Exception:  # too large (_bind), a graph whose output is not (n, width): the plain call answers
            return None
        result = out.copy()
        if idle is None:
            idle = self._add_size(n)
        if len(idle) < PER_SIZE:
            idle.append(entry)
        return result

    def _bind(self, n: int, x: np.ndarray) -> tuple:
        if n > MAX_ROWS:
            raise OverflowError(n)
        given = np.empty(x.shape, np.float32)
        out = np.empty((n, *self._out_shape), np.float32)
        import onnxruntime as ort  # imported already: Runner made the session's RunOptions

        binding = self._session.io_binding()
        binding.bind_ortvalue_input(self._input, ort.OrtValue.ortvalue_from_numpy(given))
        binding.bind_ortvalue_output(self._output, ort.OrtValue.ortvalue_from_numpy(out))
        inner = getattr(binding, "_iobinding", None)
        if self._direct is not None and inner is not None:
            return self._direct, inner, given, out
        return self._session.run_with_iobinding, binding, given, out

    def _add_size(self, n: int) -> list:
        with self._sizes:
            if n not in self._idle and len(self._idle) >= MAX_SIZES:
                del self._idle[next(iter(self._idle))]  # dicts keep insertion order: the oldest size
            return self._idle.setdefault(n, [])


def _rank(arg) -> int | None:
    """The rank a graph declares for an output; None if its dimension names are damaged (not UTF-8)."""
    try:
        return len(arg.shape)
    except UnicodeDecodeError:
        return None
