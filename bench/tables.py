"""Workloads 8-11: k-feature tables against polars and pandas, peak RSS as the table grows, the device loop."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from workloads import SCRIPTS, _processes, _rows, one_run
from timing import run_child

RIVALS = ["polars", "pandas", "onnxruntime", "numpy"]  # the competitors' own env; never edge-predict's dependencies
HIDDEN = "64,64"


def rivals_env(work: Path) -> Path:
    """A venv with polars and pandas (and onnxruntime, numpy) for the competitor scripts; made once."""
    env = work / "rivals"
    if not (env / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(env)], check=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q", *RIVALS],
            check=True,
            capture_output=True,
        )
        (env / ".ready").touch()
    return env


def table_file(work: Path, rows: int, k: int, decimals: int = 4, repeated: bool = True) -> Path:
    """A CSV of `rows` samples of k features (header f0..), values like sensors write them ("%.4f"); made once.
    repeated: one 100,000-row block again and again (the size is what counts); else every row drawn anew."""
    spelling = ("" if decimals == 4 else f"-{decimals}d") + ("" if repeated else "-fresh")
    path = work / f"table-{k}x{rows}{spelling}.csv"
    if not path.exists():
        block_rows = min(rows, 100_000)
        rng = np.random.default_rng(k)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as out:
            out.write(",".join(f"f{j}" for j in range(k)) + "\n")
            for start in range(0, rows, block_rows):
                if start == 0 or not repeated:
                    x = rng.normal(0, 1, (min(block_rows, rows - start), k))
                    block = "\n".join(",".join(f"{v:.{decimals}f}" for v in row) for row in x.tolist()) + "\n"
                out.write(block if rows - start >= block_rows else "".join(block.splitlines(True)[: rows - start]))
        tmp.replace(path)
    return path


def mlp(work: Path, k: int, epochs: int, hidden: str = HIDDEN) -> Path:
    """A k -> 64 -> 64 -> 1 MLP (or `hidden`) trained and exported by edge-train (this env has torch) on generated
    data."""
    path = work / (f"mlp-{k}.onnx" if hidden == HIDDEN else f"mlp-{k}-{hidden.replace(',', '-')}.onnx")
    if not path.exists():
        rng = np.random.default_rng(k)
        x = rng.normal(0, 1, (2000, k))
        y = (x @ rng.normal(0, 1, k) + rng.normal(0, 0.5, 2000) > 0).astype(int)
        data = work / f"train-{k}.csv"
        data.write_text(
            ",".join([f"f{j}" for j in range(k)] + ["label"])
            + "\n"
            + "".join(",".join(f"{v:.4f}" for v in row) + f",{label}\n" for row, label in zip(x.tolist(), y.tolist()))
        )
        train = Path(sys.executable).parent / "edge-train"
        subprocess.run(
            [
                str(train),
                "--data",
                str(data),
                "--model",
                "mlp",
                "--hidden",
                hidden,
                "--epochs",
                str(epochs),
                "--lr",
                "0.2",
                "--out",
                str(path),
                "-q",
            ],
            check=True,
            capture_output=True,
        )
    return path


def tables(
    device: Path,
    rivals: Path | None,
    cases: dict[str, tuple[Path, Path]],
    work: Path,
    reps: int,
    workload: str = "8.",
    formats: tuple[str, ...] = ("csv", "json"),
) -> list[dict]:
    """Workload 8: tables (title -> (model, file)) scored to CSV and to JSON Lines: the CLI, a polars and a pandas
    script, interleaved."""
    rows = []
    for title, (model, path) in cases.items():
        for fmt in formats:
            out = str(work / f"scored.{fmt}")
            commands = {
                f"edge-predict --format {fmt}": (
                    [str(device / "bin" / "edge-predict"), "predict", "-m", str(model), "--input", str(path)]
                    + ["--format", fmt],
                    out,
                )
            }
            for rival in ("polars", "pandas") if rivals else ():
                commands[f"{rival} script"] = (
                    [
                        str(rivals / "bin" / "python"),
                        str(SCRIPTS / f"{rival}_predict.py"),
                        str(model),
                        str(path),
                        out,
                        fmt,
                    ],
                    os.devnull,
                )
            samples, peaks = _processes(commands, reps)
            reference = "polars script" if rivals else f"edge-predict --format {fmt}"
            rows += _rows(f"{workload} {title} to {fmt.upper()}", "ms", 1e3, samples, reference, peaks)
    return rows


def beside_a_hog(run):
    """run() while one core is kept busy by a spinning process (a device's other work), which is then ended."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        return run()
    finally:
        hog.kill()
        hog.wait()


def flatness(device: Path, model: Path, data: list[Path], work: Path) -> list[dict]:
    """Workload 9: the CLI's peak RSS on k-feature tables as they grow (it streams, so it should stay flat)."""
    rows = []
    for path in data:
        lines = sum(1 for _ in open(path, "rb")) - 1
        for fmt in ("csv", "json"):
            wall, peak = run_child(
                [
                    str(device / "bin" / "edge-predict"),
                    "predict",
                    "-m",
                    str(model),
                    "--input",
                    str(path),
                    "--format",
                    fmt,
                ],
                str(work / f"scored-flat.{fmt}"),
            )
            rows.append(one_run(f"9. CLI memory vs table length ({fmt.upper()})", f"{lines:,} rows", wall, peak))
    return rows


def device_loop(device: Path, model: Path, trips: int, reps: int) -> list[dict]:
    """Workload 10: `predict --input - --format json` as a coprocess: one line written, its answer read, again."""
    samples = []
    for _ in range(reps):
        proc = subprocess.Popen(
            [str(device / "bin" / "edge-predict"), "predict", "-m", str(model), "--input", "-", "--format", "json"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        trip = []
        for i in range(trips):
            start = time.perf_counter()
            proc.stdin.write(f"{i % 12}.25\n".encode())
            proc.stdin.flush()
            answer = proc.stdout.readline()
            trip.append(time.perf_counter() - start)
            assert answer.startswith(b'{"input"'), answer
        proc.stdin.close()
        proc.wait(timeout=60)
        samples.append(statistics.median(trip[10:] or trip))  # the first answers warm the caches
    return [
        {
            "workload": "10. device loop, one line in, its answer out",
            "competitor": f"median of {trips:,} round trips",
            "unit": "ms",
            "median": statistics.median(samples) * 1e3,
            "min": min(samples) * 1e3,
            "ratio": None,
            "n": reps,
            "reference": None,
            "samples": [s * 1e3 for s in samples],
        }
    ]


def bigger_model(model: Path, sizes: list[int], reps: int, budget: float) -> list[dict]:
    """Workload 11: predict_proba of the 30 -> 64 -> 64 -> 1 MLP against raw session.run with Predictor's options."""
    import onnxruntime as ort

    from edge_predict import Predictor
    from workloads import BOUND, RAW, TRACT, _in_process, runner, tract_runner

    predictor = Predictor.from_path(model)
    bound, peer = runner(model), tract_runner(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # what Predictor uses
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rows = []
    for n in sizes:
        x = np.random.default_rng(n).normal(0, 1, (n, len(predictor.feature_names))).astype(np.float32)
        competitors = {
            "Predictor.predict_proba": lambda x=x: predictor.predict_proba(x),
            BOUND: lambda x=x: bound(x),
            RAW: lambda x=x: session.run(None, {name: x})[0],
        }
        if n == 1:
            competitors["Predictor.predict_proba (list)"] = lambda row=x.tolist(): predictor.predict_proba(row)
        if peer and n in (1, 1_000_000):
            competitors[TRACT] = lambda x=x: peer(x)
        unit, scale = ("µs", 1e6) if n < 100_000 else ("ms", 1e3)
        rows += _in_process(f"11. MLP 30-64-64-1, batch {n:,}", competitors, RAW, reps, budget, unit, scale)
    return rows
