"""The workloads of `make bench`: each runs its competitors interleaved and returns rows for the table."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

import numpy as np

from timing import calibrate, interleave, per_call, run_child, summary

SCRIPTS = Path(__file__).resolve().parent / "scripts"
RAW = "raw session.run, Predictor's options"  # the reference: same session, so the ratio is edge-predict's overhead


def _rows(workload: str, unit: str, scale: float, samples: dict, reference: str, extra=None) -> list[dict]:
    stats = summary(samples, reference)
    return [
        {
            "workload": workload,
            "competitor": name,
            "unit": unit,
            "median": s["median"] * scale,
            "min": s["min"] * scale,
            "ratio": s["ratio"],
            "reference": reference,
            "n": s["n"],
            "samples": [v * scale for v in samples[name]],
            **((extra or {}).get(name, {})),
        }
        for name, s in stats.items()
    ]


def _processes(commands: dict[str, tuple[list[str], str]], reps: int) -> tuple[dict, dict]:
    """Interleaved whole-process runs: wall-time samples and peak-RSS samples per competitor."""
    peaks: dict[str, list[float]] = {name: [] for name in commands}

    def runner(name):
        def run():
            cmd, out = commands[name]
            wall, peak = run_child(cmd, out)
            peaks[name].append(peak)
            return wall

        return run

    for name in commands:  # one unmeasured run each: page cache and .pyc files are warm for all alike
        run_child(*commands[name])
    samples = interleave({name: runner(name) for name in commands}, reps)
    return samples, {name: {"peak_mib": statistics.median(v)} for name, v in peaks.items()}


def cold_start(device: Path, model: Path, weights: Path, reps: int, tract_env: Path | None = None) -> list[dict]:
    """Workload 1: `edge-predict predict 7` vs a raw onnxruntime script vs torch vs importing onnxruntime (and the
    same script with tract, in tract's own venv, where pip installs it)."""
    py = str(device / "bin" / "python")
    commands = {
        "edge-predict predict 7": ([str(device / "bin" / "edge-predict"), "predict", "7"], os.devnull),
        # the same without scoring the golden vectors at load: what that proof costs a cold start
        "edge-predict predict 7 --no-verify": (
            [str(device / "bin" / "edge-predict"), "predict", "7", "--no-verify"],
            os.devnull,
        ),
        "raw onnxruntime script": ([py, str(SCRIPTS / "raw_ort.py"), str(model), "7"], os.devnull),
        "torch script": ([sys.executable, str(SCRIPTS / "torch_predict.py"), str(weights), "7"], os.devnull),
        "python -c 'import onnxruntime'": ([py, "-c", "import onnxruntime"], os.devnull),
    }
    if tract_env:
        commands[TRACT + " script"] = (
            [str(tract_env / "bin" / "python"), str(SCRIPTS / "tract_predict.py"), str(model), "7"],
            os.devnull,
        )
    samples, peaks = _processes(commands, reps)
    return _rows("1. cold start, whole process", "ms", 1e3, samples, "raw onnxruntime script", peaks)


def _in_process(
    workload: str, competitors: dict, reference: str, reps: int, budget: float, unit="µs", scale=1e6
) -> list[dict]:
    numbers = {name: calibrate(fn, budget) for name, fn in competitors.items()}
    timed = {name: (lambda fn=fn, n=numbers[name]: per_call(fn, n)) for name, fn in competitors.items()}
    return _rows(workload, unit, scale, interleave(timed, reps), reference)


BOUND = "Runner.run (the call Predictor makes, no checks)"
TRACT = "tract (no checks)"


def tract_runner(model: Path):
    """tract's runnable model for the file, as its README's script makes it; None without the bench extra."""
    try:
        import tract
    except ImportError:
        return None
    runnable = tract.onnx().load(str(model)).into_model().into_runnable()
    return lambda x: runnable.run([x])[0].to_numpy()


def runner(model: Path):
    """The model layer's Runner on its own session: the call into onnxruntime Predictor makes (bound for small
    batches, model/_fast/binding.py), without the checks, to show what that call buys against session.run."""
    from edge_predict.model.session import Runner, make_session
    from edge_predict.model.file import scan

    data = Path(model).read_bytes()
    session = make_session(data, str(model), None, scan(data, str(model)))
    output = session.get_outputs()[0]
    return Runner(session, output.name, output.shape[-1] if isinstance(output.shape[-1], int) else 1).run


def scorers(model: Path, weights: Path):
    """The in-process competitors: edge-predict's Predictor, its Runner, a raw session, the torch module."""
    import onnxruntime as ort
    import torch

    from edge_predict import Predictor

    predictor = Predictor.from_path(model)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])  # its defaults
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # what Predictor uses
    same = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    # One thread, like Predictor: torch's default leaves OpenMP threads spin-waiting after each call,
    # which slows whichever competitor runs next on a small machine.
    torch.set_num_threads(1)
    module = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Sigmoid())
    module.load_state_dict(torch.load(weights))

    def torch_proba(x):
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return {
        "Predictor.predict_proba": predictor.predict_proba,
        BOUND: runner(model),
        RAW: lambda x: same.run(None, {name: x})[0],
        "raw session.run, onnxruntime's default options": lambda x: session.run(None, {name: x})[0],
        "torch module": torch_proba,
        **({TRACT: peer} if (peer := tract_runner(model)) else {}),
    }


def warm(model: Path, weights: Path, sizes: list[int], reps: int, budget: float) -> list[dict]:
    """Workloads 2 and 3: batch 1 (also given as a Python list) and larger batches, in memory."""
    fns = scorers(model, weights)
    rows = []
    for n in sizes:
        x = np.random.default_rng(n).uniform(0, 12, (n, 1)).astype(np.float32)
        competitors = {name: (lambda fn=fn, x=x: fn(x)) for name, fn in fns.items()}
        if n == 1:
            predictor = fns["Predictor.predict_proba"].__self__
            competitors["Predictor.predict_proba([[7.0]]) (list)"] = lambda: predictor.predict_proba([[7.0]])
            competitors["Predictor.predict"] = lambda x=x: predictor.predict(x)
            competitors["Predictor.predict_table"] = lambda x=x: predictor.predict_table(x)
        title = "2. warm latency, batch 1" if n == 1 else f"3. throughput, batch {n:,}"
        unit, scale = ("µs", 1e6) if n < 100_000 else ("ms", 1e3)
        rows += _in_process(title, competitors, RAW, reps, budget, unit, scale)
    return rows


def session_options(model: Path, sizes: list[int], reps: int, budget: float) -> list[dict]:
    """Workload 6: onnxruntime intra-op threads (1 vs all cores) and spin-waiting, per batch size."""
    import onnxruntime as ort

    rows = []
    cores = os.cpu_count() or 1
    sessions = {}
    for threads in sorted({1, cores}):
        for spin in ("1", "0"):
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
            options.add_session_config_entry("session.intra_op.allow_spinning", spin)
            session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            sessions[f"{threads} thread(s), spinning {'on' if spin == '1' else 'off'}"] = session
    name = next(iter(sessions.values())).get_inputs()[0].name
    for n in sizes:
        x = np.random.default_rng(n).uniform(0, 12, (n, 1)).astype(np.float32)
        competitors = {label: (lambda s=s, x=x: s.run(None, {name: x})) for label, s in sessions.items()}
        unit, scale = ("µs", 1e6) if n < 100_000 else ("ms", 1e3)
        rows += _in_process(
            f"6. session options, batch {n:,}", competitors, "1 thread(s), spinning on", reps, budget, unit, scale
        )
    return rows


def files(device: Path, model: Path, data: Path, work: Path, reps: int) -> list[dict]:
    """Workload 4: a whole file scored to CSV by the CLI vs a naive numpy script."""
    out_cli, out_naive = str(work / "scored-cli.csv"), str(work / "scored-naive.csv")
    commands = {
        "edge-predict --input F --format csv": (
            [str(device / "bin" / "edge-predict"), "predict", "--input", str(data), "--format", "csv"],
            out_cli,
        ),
        "naive numpy script": (
            [str(device / "bin" / "python"), str(SCRIPTS / "naive_file.py"), str(model), str(data), out_naive],
            os.devnull,
        ),
    }
    samples, peaks = _processes(commands, reps)
    lines = _count_lines(data) - 1
    return _rows(f"4. file of {lines:,} lines to CSV", "ms", 1e3, samples, "naive numpy script", peaks)


def memory(device: Path, data: list[Path], work: Path) -> list[dict]:
    """Workload 4b: the CLI's peak RSS as the input grows (it streams, so it should stay flat)."""
    rows = []
    for path in data:
        wall, peak = run_child(
            [str(device / "bin" / "edge-predict"), "predict", "--input", str(path), "--format", "csv"],
            str(work / "scored-memory.csv"),
        )
        lines = _count_lines(path) - 1
        rows.append(one_run("4b. CLI memory vs input length", f"{lines:,} lines", wall, peak))
    return rows


def one_run(workload: str, competitor: str, wall: float, peak_mib: float) -> dict:
    """A row of one timed run (wall seconds) and its peak RSS: no repetitions, no reference."""
    ms = wall * 1e3
    return {
        "workload": workload,
        "competitor": competitor,
        "unit": "ms",
        "median": ms,
        "min": ms,
        "ratio": None,
        "n": 1,
        "reference": None,
        "peak_mib": peak_mib,
    }


def _count_lines(path: Path) -> int:
    with open(path, "rb") as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b""))
