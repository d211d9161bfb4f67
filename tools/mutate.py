"""make mutate: mutmut over runtime/, against the runtime's tests, within a time budget.

Prints the mutation score and every surviving mutant (`mutmut show NAME` in .mutate/ prints its diff).
Not part of `make test`: it takes tens of minutes. mutmut imports the package as src/edge_predict, so
the repository's layout (runtime/ installed as edge_predict) is staged in .mutate/ first.

    MUTATE_BUDGET=1800   seconds before the run is stopped; mutants not reached are reported as such
    MUTATE_MODULES=...   runtime modules to mutate (default: MODULES below; "all" for every one but cli/)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".mutate"
BUDGET = int(os.environ.get("MUTATE_BUDGET", "1800"))
# The checks between a model file and a score. cli/ is left out (click's parsing, tested through CliRunner,
# makes every run slow); so are, by default, the text reader/writer and signing, which have their own suites.
MODULES = [
    "predictor.py",
    "facts.py",
    "validation.py",
    "columns.py",
    "tasks.py",
    "golden.py",
    "manifest.py",
    "modelfile.py",
    "integrity.py",
    "session.py",
    "scoring.py",
    "numbers.py",
]
SKIP = ["cli/*", "__init__.py", "trainer/*", "models/*"]
# In-process tests of the runtime; mutmut runs, for each mutant, those that call the mutated function. Tests that
# score in a subprocess cannot see mutmut's mutants, and the trainer's tests retrain with torch: both left out.
TESTS = [
    "test_api.py",
    "test_threshold.py",
    "test_domain.py",
    "test_tails.py",
    "test_tasks.py",
    "test_bad_model.py",
    "test_bad_input.py",
    "test_external_data.py",
    "test_damaged_model.py",
    "test_cli.py",
    "test_cli_errors.py",
    "test_output.py",
    "test_fast_reader.py",
    "test_threads.py",
    "test_dataframes.py",
    "test_output_range.py",
    "test_info_plain.py",
    "test_passthrough.py",
]
SIGNING_TESTS = ["test_signing.py", "test_signing_atomic.py"]

CONFIG = """\
[tool.mutmut]
source_paths = ["src/edge_predict"]
only_mutate = {only}
do_not_mutate = {skip}
also_copy = ["models"]
pytest_add_cli_args = ["-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly", "--deselect", "{slow}"]
pytest_add_cli_args_test_selection = {tests}
timeout_multiplier = 5.0

[tool.pytest.ini_options]
pythonpath = ["tests"]
"""


def stage() -> None:
    """.mutate/: the package as src/edge_predict (runtime, trainer, models), the tests, the committed model."""
    shutil.rmtree(WORK, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    src = WORK / "src" / "edge_predict"
    shutil.copytree(REPO / "runtime", src, ignore=ignore)
    for part in ("trainer", "models"):
        shutil.copytree(REPO / part, src / part, ignore=ignore)
    shutil.copytree(REPO / "tests", WORK / "tests", ignore=ignore)
    shutil.copytree(REPO / "models", WORK / "models", ignore=ignore)
    modules = os.environ.get("MUTATE_MODULES", " ".join(MODULES)).split()
    only = [] if modules == ["all"] else [f"src/edge_predict/{m}" for m in modules]
    tests = TESTS + (SIGNING_TESTS if not only or any("sig" in m for m in modules) else [])
    (WORK / "pyproject.toml").write_text(
        CONFIG.format(
            only=json.dumps(only),
            skip=json.dumps([f"src/edge_predict/{p}" for p in SKIP]),
            slow="tests/test_threads.py::test_shared_predictor_matches_serial_results",
            tests=json.dumps([f"tests/{t}" for t in tests]),
        )
    )


def run_mutmut() -> bool:
    """mutmut run, stopped after BUDGET seconds; True if it finished."""
    env = dict(os.environ, EDGE_PREDICT_TEST_MODEL=str(WORK / "models" / "default.onnx"))
    proc = subprocess.Popen([sys.executable, "-m", "mutmut", "run"], cwd=WORK, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=BUDGET) == 0
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: mutmut and the workers it forked
        proc.wait()
        return False


def results() -> dict[str, list[str]]:
    """Mutant names by status ('killed', 'survived', 'timeout', 'not checked', ...)."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=WORK,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    by_status: dict[str, list[str]] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep:
            by_status.setdefault(status, []).append(name)
    return by_status


def main() -> int:
    stage()
    finished = run_mutmut()
    by_status = results()
    killed = len(by_status.get("killed", [])) + len(by_status.get("timeout", []))  # a hang is noticed too
    survived = by_status.get("survived", [])
    decided = killed + len(survived)
    modules = os.environ.get("MUTATE_MODULES", " ".join(MODULES))
    print(f"\nmutmut over runtime/ ({modules}): " + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_status.items())))
    if not finished:
        print(f"stopped after the budget of {BUDGET} s (MUTATE_BUDGET); mutants not reached are 'not checked'")
    if decided:
        print(f"score: {killed}/{decided} = {100 * killed / decided:.1f}% of the mutants checked were killed")
    for name in survived:
        print(f"survived: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
