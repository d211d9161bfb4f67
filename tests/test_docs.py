"""Every runnable code block in README.md and docs/*.md runs as written, so none can drift.

A ```python block runs as a script in a fresh interpreter; a ```console block runs each `$ ` command with sh and
compares what it prints with the lines under it (`…` stands for any text; lines starting "edge-predict:" are
stderr); a ```sh block is run when it calls edge-predict or edge-train. Each runs in an empty directory holding
`model.onnx` (the packaged model), with the venv's commands on PATH; `$ cat FILE` of a file not there creates it
from the lines shown. A block that cannot run here says so on the line before it: `<!-- not run: REASON -->`;
those are counted and listed by test_every_block_not_run_says_why_and_they_are_counted (run it with -rA, or
change EXPECTED_NOT_RUN, to see them).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import CLEAN_ENV, DEFAULT_MODEL, REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = {"python", "console", "sh"}
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    language: str
    text: str
    not_run: str | None  # the reason, when the block is marked

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").split("\n")
        i = 0
        while i < len(lines):
            fence = re.match(r"\s*```(\w+)", lines[i])
            if fence is None:
                i += 1
                continue
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marked = NOT_RUN.search(before)
            text = "\n".join(lines[i + 1 : end])
            found.append(
                Block(page.relative_to(REPO).as_posix(), i + 1, fence.group(1), text, marked and marked.group(1))
            )
            i = end + 1
    return found


def runs(block: Block) -> bool:
    """Whether the block is one the test runs: python and console always, sh when it calls our commands."""
    if block.language == "sh":
        return bool(re.search(r"^\s*(edge-predict|edge-train)\b", block.text, re.MULTILINE))
    return block.language in RUNNABLE


ALL = [b for b in blocks() if runs(b)]
RUN = [b for b in ALL if b.not_run is None]


@pytest.fixture
def workdir(tmp_path):
    shutil.copy(DEFAULT_MODEL, tmp_path / "model.onnx")
    env = dict(CLEAN_ENV, PATH=f"{Path(sys.executable).parent}{os.pathsep}{CLEAN_ENV.get('PATH', '')}")
    env.pop("EDGE_PREDICT_MODEL", None)
    return tmp_path, env


@pytest.mark.slow  # a fresh interpreter or command per block: about 20 s in all
@pytest.mark.parametrize("block", RUN, ids=str)
def test_a_runnable_block_runs_as_written(block, workdir):
    where, env = workdir
    if block.language == "python":
        script = where / "block.py"
        script.write_text(block.text + "\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, script.name], cwd=where, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{block}: exit {done.returncode}\n{done.stderr[-2000:]}"
    elif block.language == "sh":
        done = subprocess.run(
            ["sh", "-ec", block.text], cwd=where, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{block}: exit {done.returncode}\n{done.stderr[-2000:]}"
    else:
        for command, shown in commands(block.text):
            check_command(block, command, shown, where, env)


def commands(text: str) -> list[tuple[str, list[str]]]:
    """The `$ ` commands of a console block (continued by lines ending in a backslash) and the lines shown after
    each."""
    out: list[tuple[str, list[str]]] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            out[-1][1].append(lines[i])
            i += 1
            continue
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command + "\n" + lines[i]
        out.append((command, []))
        i += 1
    return out


def check_command(block: Block, command: str, shown: list[str], where: Path, env: dict) -> None:
    if command.split("#")[0].rstrip().endswith("&"):
        pytest.fail(f"{block}: $ {command} would outlive the test in the background: mark the block not run")
    cat = re.fullmatch(r"cat (\S+)", command.strip())
    if cat and not (where / cat.group(1)).exists():
        (where / cat.group(1)).write_text("".join(line + "\n" for line in shown), encoding="utf-8")
    done = subprocess.run(["sh", "-c", command], cwd=where, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in shown if line.startswith("edge-predict")]
    printed = [line for line in shown if not line.startswith("edge-predict")]
    context = f"{block}: $ {command}"
    _match(done.stdout.rstrip("\n").split("\n") if done.stdout else [], printed, context + " (stdout)")
    _match(done.stderr.rstrip("\n").split("\n") if done.stderr else [], errors, context + " (stderr)")


def _match(got: list[str], shown: list[str], context: str) -> None:
    """Each line as shown, where `…` stands for any text and trailing spaces do not count."""
    assert len(got) == len(shown), f"{context}: {len(got)} lines, the page shows {len(shown)}:\n" + "\n".join(got)
    for have, want in zip(got, shown):
        pattern = ".*".join(re.escape(part) for part in want.rstrip().split("…"))
        assert re.fullmatch(pattern, have.rstrip()), f"{context}:\n  page: {want}\n  got:  {have}"


# The blocks that cannot run here, each with its reason on the page: a new one must be added here, on purpose.
EXPECTED_NOT_RUN = 17


def test_every_block_not_run_says_why_and_they_are_counted():
    skipped = [b for b in ALL if b.not_run is not None]
    listing = "\n".join(f"  {b}: {b.not_run}" for b in skipped)
    assert all(b.not_run for b in skipped), listing
    assert len(skipped) == EXPECTED_NOT_RUN, f"{len(skipped)} blocks are not run:\n{listing}"


def test_the_pages_hold_blocks_that_run():
    # the parser finds the blocks: a broken fence or a renamed language would silently run nothing
    assert {"python", "console"} <= {b.language for b in RUN}
    assert len(RUN) >= 10


@pytest.mark.parametrize(
    "got, shown, agree",
    [
        (["ok: 5 match; sha256 2012abcd"], ["ok: 5 match; sha256 2012…"], True),
        (["ok: 5 match; sha256 2012abcd; engine onnxruntime"], ["ok: 5 match; sha256 2012abcd"], False),
        (["a", "b"], ["a"], False),
        (["0.42295337 fail  "], ["0.42295337 fail"], True),
    ],
)
def test_a_console_line_matches_only_what_the_page_shows(got, shown, agree):
    if agree:
        _match(got, shown, "page")
    else:
        with pytest.raises(AssertionError):
            _match(got, shown, "page")
