"""Timing with public tools only: time.perf_counter for time, os.wait4's rusage for a process's peak RSS."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

LAUNCH = Path(__file__).resolve().parent / "scripts" / "launch.py"


def run_child(cmd: Sequence[str], stdout_path: str = os.devnull, env: dict | None = None) -> tuple[float, float]:
    """Run one whole process (through the small launcher, in `env`, default this one's); return its wall seconds and
    peak RSS in MiB."""
    launched = subprocess.run(
        [sys.executable, "-S", str(LAUNCH), stdout_path, *cmd], capture_output=True, text=True, check=True, env=env
    )
    report = json.loads(launched.stdout)
    if report["exit"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {report['exit']}: {report['stderr']}")
    return report["wall"], report["peak_kib"] / 1024


def per_call(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of fn, over `number` calls in a row."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calibrate(fn: Callable[[], object], budget: float) -> int:
    """How many calls of fn take about `budget` seconds (at least 1)."""
    fn()  # warm-up: first-call allocations are not what a loop pays
    once = per_call(fn, 3)
    return max(1, int(budget / max(once, 1e-9)))


def interleave(competitors: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Call each competitor's measurement once per repetition, rotating the order each time."""
    names = list(competitors)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            samples[name].append(competitors[name]())
    return samples


def summary(samples: dict[str, list[float]], reference: str) -> dict[str, dict[str, float]]:
    """Median, min and the median of the per-repetition ratios to `reference` (paired, so drift cancels)."""
    ref = samples[reference]
    return {
        name: {
            "median": statistics.median(values),
            "min": min(values),
            "ratio": statistics.median(v / r for v, r in zip(values, ref)),
            "n": len(values),
        }
        for name, values in samples.items()
    }
