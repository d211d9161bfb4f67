"""The command line's boundary: every outcome ends here as an exit code, every error as one line on stderr."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any, NoReturn

import click

from edge_predict.errors import EdgePredictError, OutputError

# Every character str.splitlines() breaks at: a path or a value may hold one, a message must not.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(message: str) -> str:
    """`message` with its line breaks escaped, so it prints as exactly one line."""
    return message.translate(_LINE_BREAKS)


class _GuardedStdout:
    """sys.stdout while a command runs: a failed write raises OutputError; a closed pipe stays BrokenPipeError."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._call("write", text)

    def flush(self) -> None:
        self._call("flush")

    def _call(self, name: str, *args: Any) -> Any:
        try:
            if self._stream is None:  # started with stdout closed (`>&-`)
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            return getattr(self._stream, name)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:  # e.g. ENOSPC on a full disk or /dev/full, EBADF on a closed stdout
            raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _utf8(stream: Any) -> Any:
    """stdout writing UTF-8, as the input is read: a locale's encoding (ISO-8859-1, $PYTHONIOENCODING) transcoded
    pass-through text and labels ('é' as the byte 0xE9, which a UTF-8 reader reads otherwise) or failed on them."""
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8") and hasattr(stream, "reconfigure"):
        stream.reconfigure(encoding="utf-8")
    return stream


class _PipeClosed(Exception):
    """BrokenPipeError, carried past click, which would otherwise turn it into a plain exit 1."""


# click >= 8.2 raises this for a bare group; click 8.1 (Debian 12's python3-click, what 32-bit ARM devices use) prints
# the help itself and exits 0: () catches nothing there.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def run(command: click.Command, args: Any, prog: str, standalone_mode: bool = True, **extra: Any) -> Any:
    """Run a click command; errors end as one line on stderr with the documented exit code, never a traceback."""
    real, sys.stdout = sys.stdout, _GuardedStdout(_utf8(sys.stdout))
    try:
        rv = click.Command.main(command, args, prog, standalone_mode=False, **extra)
        sys.stdout.flush()  # here, not at exit, where a closed pipe would print "Exception ignored"
    except (BrokenPipeError, _PipeClosed):  # the reader went away (`| head -1`): stop quietly, as cat or seq do
        _stdout_to_devnull()
        sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe
    except OutputError as exc:
        _stdout_to_devnull()
        _fail(prog, str(exc), exc.exit_code)
    except _NO_ARGS_IS_HELP as exc:  # bare `edge-predict`: the usual help, on stderr
        click.echo(exc.ctx.get_help(), err=True)
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(prog, exc.format_message() + hint, exc.exit_code)
    except click.ClickException as exc:
        _fail(prog, exc.format_message(), exc.exit_code)
    except EdgePredictError as exc:
        _fail(prog, str(exc), exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        sys.exit(130)
    except MemoryError:  # not a bug: the device's memory, or a limit on it (ulimit -v, MemoryMax=)
        _fail(prog, "out of memory: free some, raise the process's memory limit, or use a smaller model or input", 1)
    except Exception as exc:  # a bug: still one line and exit 1, never a traceback on an unattended device
        _fail(
            prog,
            f"unexpected {type(exc).__name__}: {exc} (a bug in {prog}; please report it with the command "
            "that caused it)",
            1,
        )
    finally:
        sys.stdout = real
    if not standalone_mode:
        return rv
    sys.exit(rv if isinstance(rv, int) else 0)


class _OneLine:
    """main() goes through run(): no traceback, no multi-line usage error, a closed pipe kept from click."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        return run(self, args, prog_name or self.name, standalone_mode, complete_var=complete_var, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            raise _PipeClosed() from exc


class OneLineGroup(_OneLine, click.Group):
    """A click group whose errors end as one line (edge-predict)."""


class OneLineCommand(_OneLine, click.Command):
    """A click command whose errors end as one line (edge-train)."""


def _fail(prog: str, message: str, code: int) -> NoReturn:
    try:
        click.echo(f"{prog}: error: {one_line(message)}", err=True)
    except (OSError, ValueError):  # stderr full (2>/dev/full), closed or gone: the exit code still says what happened
        pass
    sys.exit(code)


def _stdout_to_devnull() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())  # the final flush cannot fail again
    except (AttributeError, OSError, ValueError):  # stdout is None, or not a real file (e.g. a test runner)
        pass


def keep_freed_heap() -> None:
    """Let glibc keep freed heap (up to 32 MiB) and serve arrays under 4 MiB from it: each block of a table allocates
    and frees the same arrays, and by default the kernel faults their pages in afresh every time (bench/results.md,
    workload 8). Process-wide, so the command sets it, not the library; a no-op without glibc's mallopt."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(-3, 4 << 20)  # M_MMAP_THRESHOLD
        mallopt(-1, 32 << 20)  # M_TRIM_THRESHOLD
    except (AttributeError, OSError, TypeError):  # no mallopt (macOS, Windows): nothing to tune
        pass
