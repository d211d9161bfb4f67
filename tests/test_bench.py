"""`make bench` in quick mode (tiny sizes, 2 repetitions): the harness runs and reports every workload.

Only the structure is checked: timings on a shared machine prove nothing in a unit test.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the wheel and a device venv, runs the benchmark's quick mode

BENCH = Path(__file__).resolve().parents[1] / "bench" / "run.py"
WORKLOADS = ["1.", "2.", "3.", "4.", "4b.", "5.", "6.", "7.", "8.", "9.", "10.", "11.", "12.", "12b."]


WORK = BENCH.parent / ".work"  # the full run's reusable wheel and device venv


def _entries(path: Path):
    """What a run could have changed in `path`: its entries and its modification time (None if absent)."""
    return (sorted(p.name for p in path.iterdir()), path.stat().st_mtime_ns) if path.exists() else None


@pytest.fixture(scope="module")
def quick(tmp_path_factory, wheel, device):
    """The quick run, on the wheel and device venv the device-install tests use: built once, not twice."""
    out = tmp_path_factory.mktemp("bench")
    before = _entries(WORK)
    subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--out", str(out), "--wheel", str(wheel), "--device-env", str(device)],
        check=True,
        capture_output=True,
    )
    return json.loads((out / "results.json").read_text()), (out / "results.md").read_text(), before


def test_quick_mode_writes_nothing_in_the_repository(quick):
    assert _entries(WORK) == quick[2]


@pytest.mark.parametrize("prefix", WORKLOADS)
def test_every_workload_has_rows(quick, prefix):
    result, _, _ = quick
    assert [r for r in result["rows"] if r["workload"].startswith(prefix + " ")]


@pytest.mark.parametrize("key", ["workload", "competitor", "unit", "median", "min", "ratio", "reference", "n"])
def test_every_row_has(quick, key):
    result, _, _ = quick
    assert all(key in row for row in result["rows"])


def test_each_reference_has_ratio_one(quick):
    result, _, _ = quick
    refs = [r for r in result["rows"] if r["competitor"] == r["reference"]]
    assert refs and all(r["ratio"] == pytest.approx(1.0, abs=1e-12) for r in refs)


def test_processes_report_peak_rss(quick):
    result, _, _ = quick
    peaks = [r["peak_mib"] for r in result["rows"] if r["workload"].startswith(("1.", "4.", "4b."))]
    assert peaks and all(peak > 0 for peak in peaks)


def test_targets_are_evaluated(quick):
    result, _, _ = quick
    # issue #5: 7; issue #10: 2 (cold start, wheel); issue #13 in quick mode (no polars, pandas): 10 (the MLP at
    # batch 1 only; 1e6 is not a quick size); issue #27: 2 light tables' RSS, batch 1 for both models, predict,
    # predict_table, two lists, and batches 8 and 1,000 for both models
    assert len(result["targets"]) == 33  # 31, and issue 29's two (the numpy engine)
    assert all(isinstance(t["met"], bool) for t in result["targets"])


@pytest.mark.parametrize(
    "text",
    [
        "| workload | competitor | median | min | ratio to reference | peak RSS | n |",
        "| goal (issues #5, #10, #13) | measured | result |",
        "Command: `make bench",
        "Measured ",
    ],
)
def test_markdown_has(quick, text):
    _, markdown, _ = quick
    assert text in markdown


def test_machine_is_described(quick):
    result, _, _ = quick
    assert {"cpu", "cores", "memory_gib", "python", "versions", "load_average_start"} <= set(result["machine"])
