"""What the edge-predict process bounds when it owns the process (its console entry point): Ctrl-C, the time
a model may take to load and verify, and the address space.

onnxruntime's run and session creation do not return to Python until they finish, so a SIGINT handler would wait
for them (for ever, with a Loop of 2**62 trips). Instead SIGINT is blocked in every thread and one watcher thread
takes it with sigwait, and ends the process at once: exit 130, whatever the other threads are doing. The same
thread ends a load or verify that outlives its time bound (exit 1, one line on stderr). Invoked in-process (click's
CliRunner, a program embedding the command), none of this is installed: the process is not ours.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

MEMORY_ENV = "EDGE_PREDICT_MAX_MEMORY"
DEFAULT_MEMORY = 2 * 2**30  # address space, not RSS: onnxruntime and glibc reserve more than they touch (bench)
TICK = 0.1  # how often the watcher looks at the clock


class _Watch:
    """The watcher's shared state: the deadline of the bounded step in progress, and its error line."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deadline: float | None = None
        self.message = ""
        self.released = False
        self.thread: threading.Thread | None = None


_watch: _Watch | None = None


def install(prog: str) -> None:
    """Own the process: SIGINT ends it at once with exit 130; bounded() steps end it when late; the address space
    is limited to $EDGE_PREDICT_MAX_MEMORY (default 2G; 'unlimited' leaves it)."""
    global _watch
    limit_memory(os.environ.get(MEMORY_ENV))
    if not hasattr(signal, "pthread_sigmask") or not hasattr(signal, "sigtimedwait"):
        return  # Windows, macOS: Ctrl-C is Python's KeyboardInterrupt, and no time bound
    _watch = _Watch()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # before any thread starts: all inherit it
    _watch.thread = threading.Thread(target=_run, args=(_watch, prog), name="edge-predict-watch", daemon=True)
    _watch.thread.start()


def release() -> None:
    """Give SIGINT back to Python's handlers and end the time bounds: for a command that handles its own signals
    gracefully once its model is loaded (serve). Threads started afterwards receive SIGINT as usual."""
    global _watch
    if _watch is None:
        return
    _watch.released = True
    _watch.thread.join()  # within TICK; a SIGINT meanwhile stays pending and is delivered once unblocked
    _watch = None
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run(watch: _Watch, prog: str) -> None:
    while not watch.released:
        if signal.sigtimedwait({signal.SIGINT}, TICK) is not None:
            os._exit(130)  # 128 + SIGINT, what a shell reports for an interrupted command
        with watch.lock:
            late = watch.deadline is not None and time.monotonic() > watch.deadline
            message = watch.message
        if late:
            try:
                os.write(2, f"{prog}: error: {message}\n".encode("utf-8", "replace"))
            finally:
                os._exit(1)


@contextmanager
def bounded(seconds: float | None, message: str) -> Iterator[None]:
    """Within the block, the process ends with `message` (exit 1) once `seconds` have passed (None: no bound)."""
    if _watch is None or seconds is None:
        yield
        return
    with _watch.lock:
        _watch.deadline, _watch.message = time.monotonic() + seconds, message
    try:
        yield
    finally:
        with _watch.lock:
            _watch.deadline = None


def limit_memory(text: str | None) -> None:
    """Limit the address space (RLIMIT_AS) to `text` (a size such as 4G; None: the default; 'unlimited': none),
    never above a limit already set (ulimit -v, systemd's LimitAS=)."""
    try:
        import resource
    except ImportError:  # Windows
        return
    if text is not None and text.strip().lower() in ("unlimited", "none", "0"):
        return
    size = DEFAULT_MEMORY if not text else _size(text)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        size = min(size, hard)
    if soft == resource.RLIM_INFINITY or size < soft:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (size, hard))
        except (ValueError, OSError):  # a limit below what the process already uses: leave it as it is
            pass


def _size(text: str) -> int:
    import re

    match = re.fullmatch(r"\s*([0-9]+)\s*([kmg]?)i?b?\s*", text, re.IGNORECASE)
    if not match or int(match.group(1)) == 0:
        print(
            f"edge-predict: error: ${MEMORY_ENV}={text!r} is not a size such as 512M or 4G, or 'unlimited'",
            file=sys.stderr,
        )
        sys.exit(2)
    return int(match.group(1)) * 1024 ** " kmg".index(match.group(2).lower() or " ")
