"""Workload 12 (issue 29): the numpy engine against onnxruntime on the default model: a cold start of
`edge-predict predict 7` on each (the floor: `python -c 'import numpy'`), peak RSS, batch 1 and 1e6 rows in process.

`python bench/engines.py` runs these rows alone (the wheel and device venv of bench/.work) and prints them."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

import workloads

NUMPY, ORT = "--engine numpy", "--engine onnxruntime"


def cold_start(device: Path, reps: int) -> list[dict]:
    cli, py = str(device / "bin" / "edge-predict"), str(device / "bin" / "python")
    commands = {
        f"edge-predict predict 7 {NUMPY}": ([cli, "predict", "7", "--engine", "numpy"], os.devnull),
        f"edge-predict predict 7 {ORT}": ([cli, "predict", "7", "--engine", "onnxruntime"], os.devnull),
        "python -c 'import numpy'": ([py, "-c", "import numpy"], os.devnull),
    }
    samples, peaks = workloads._processes(commands, reps)
    return workloads._rows(
        "12. numpy engine: cold start, whole process", "ms", 1e3, samples, f"edge-predict predict 7 {ORT}", peaks
    )


def warm(model: Path, sizes: list[int], reps: int, budget: float) -> list[dict]:
    from edge_predict import Predictor

    predictors = {engine: Predictor.from_path(model, engine=engine) for engine in ("numpy", "onnxruntime")}
    rows = []
    for n in sizes:
        x = np.random.default_rng(n).uniform(0, 12, (n, 1)).astype(np.float32)
        competitors = {
            f"Predictor.predict_proba, {e}": (lambda p=p, x=x: p.predict_proba(x)) for e, p in predictors.items()
        }
        unit, scale = ("µs", 1e6) if n < 100_000 else ("ms", 1e3)
        rows += workloads._in_process(
            f"12b. numpy engine: batch {n:,}",
            competitors,
            "Predictor.predict_proba, onnxruntime",
            reps,
            budget,
            unit,
            scale,
        )
    return rows


def rows(device: Path, model: Path, plan: dict) -> list[dict]:
    sizes = [plan["batches"][0], plan["batches"][-1]]
    return cold_start(device, plan["reps"]) + warm(model, sizes, plan["warm_reps"], plan["budget"])


if __name__ == "__main__":
    import envs
    import run

    work = run.HERE / ".work"
    work.mkdir(exist_ok=True)
    wheel = envs.build_wheel(work)
    device = envs.device_env(work, wheel)
    start = os.getloadavg()[0]
    found = rows(device, envs.REPO / "models" / "default.onnx", run.FULL)
    for row in found:
        row.pop("samples")
        print(json.dumps(row))
    print(f"load average {start:.2f} at the start, {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)
