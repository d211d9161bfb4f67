"""The CLIs' boundary: every error ends as one line on stderr with a documented exit code."""

from __future__ import annotations

import errno
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import click

from .errors import EdgePredictError

# Every character str.splitlines() breaks at: a path or a value may hold one, a message must not.
_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


def one_line(message: str) -> str:
    """`message` with its line breaks escaped, so it prints as exactly one line."""
    return message.translate(_LINE_BREAKS)


def _fail(prog: str, message: str, code: int) -> None:
    click.echo(f"{prog}: error: {one_line(message)}", err=True)
    sys.exit(code)


def run_group_main(command: click.Command, args, prog: str, standalone_mode: bool = True, **extra: Any):
    """Run a click command so every error ends as one line on stderr with a documented exit code."""
    try:
        rv = click.Command.main(command, args, prog, standalone_mode=False, **extra)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(prog, exc.format_message() + hint, exc.exit_code)
    except click.ClickException as exc:
        _fail(prog, exc.format_message(), exc.exit_code)
    except EdgePredictError as exc:
        _fail(prog, str(exc), exc.exit_code)
    except click.Abort:
        sys.exit(130)
    except Exception as exc:  # a bug: still one line and exit 1, never a traceback on an unattended device
        _fail(prog, f"unexpected {type(exc).__name__}: {exc} (a bug in {prog}; please report it with the command "
                    "that caused it)", 1)
    if not standalone_mode:
        return rv
    sys.exit(rv if isinstance(rv, int) else 0)


class OneLineErrors(click.Group):
    """A click group whose main() never shows a traceback or a multi-line usage error."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        return run_group_main(self, args, prog_name or self.name, standalone_mode,
                              complete_var=complete_var, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # before click turns it into a plain exit 1
            stdout_closed()


class OneLineCommand(click.Command):
    """The same for a single command (edge-train)."""

    main = OneLineErrors.main


def stdout_closed() -> None:
    """The reader of our output went away (e.g. `| head -1`): stop quietly, as cat or seq would."""
    _stdout_to_devnull()
    sys.exit(141)  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def _stdout_to_devnull() -> None:
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush cannot fail again
    except (AttributeError, OSError, ValueError):  # stdout is None, or not a real file (e.g. a test runner)
        pass


@contextmanager
def writing_output(prog: str) -> Iterator[None]:
    """Writes to stdout that fail end as one line: quiet exit 141 for a closed pipe, else exit 1 with why."""
    try:
        if sys.stdout is None:  # started with stdout closed (`>&-`)
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        yield
    except BrokenPipeError:
        stdout_closed()
    except OSError as exc:  # e.g. ENOSPC on a full disk or /dev/full, EBADF on a closed stdout
        _stdout_to_devnull()
        _fail(prog, f"cannot write the output: {exc.strerror or exc}", 1)


class Stdout:
    """sys.stdout (looked up at each call) whose write errors end the CLI through writing_output."""

    def __init__(self, prog: str):
        self.prog = prog

    def write(self, text: str) -> int:
        with writing_output(self.prog):
            return sys.stdout.write(text)

    def flush(self) -> None:
        with writing_output(self.prog):
            sys.stdout.flush()
