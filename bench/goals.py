"""Issue 27's goals, one row each: an edge-predict call against the raw onnxruntime script a user would write.

Every row pairs its candidate with its reference in ONE process: the same model file, a raw session with the options
Predictor uses (one intra-op and one inter-op thread, spinning off), `session.run(None, {name: x})[0]` as the
script calls it. The two are timed in turn, A B B A A B ... (the order swaps every repetition), each measurement
`calls` calls long; the ratio is the median of the per-repetition ratios, so a host that slows down mid-run moves
both sides alike. The cold-start, loop and tract rows run whole processes the same way, from a venv with only the
wheel built from this checkout (no torch: what a device installs), with onnxruntime's telemetry off for every
competitor (edge-predict turns it off itself; the raw scripts would otherwise pay for it). Batch-1 rows and some small batches are also counted in instructions under valgrind (callgrind), where a loaded host
makes wall time noisy: `--only instructions`.

    bench/run.py --only batch         # batch 1: predict_proba (numpy, a list), predict, predict_table; both models
    bench/run.py --only small         # 2..8, 16, 32, 64 and 1,000 rows
    bench/run.py --only large         # 1,000,000 rows
    bench/run.py --only csv           # 1e6 x 8 and 1e6 x 30 CSV tables: the CLI against a polars script
    bench/run.py --only coldstart     # `edge-predict predict 7`, whole processes: wall time and peak RSS
    bench/run.py --only loop          # the device loop: one line in, its answer out, 1,000 round trips
    bench/run.py --only tract         # the tract peer: cold start, peak RSS, batch 1 and 1e6 rows (no goal)
    bench/run.py --only instructions  # batch 1 and 2, 8, 32, 64, 1,000 rows in instructions per call (valgrind)
    bench/run.py --goals              # all of them: bench/goals.json and the top section of bench/results.md
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent / "models" / "default.onnx"
SCRIPTS = HERE / "scripts"
PIECES = ("batch", "small", "large", "csv", "coldstart", "loop", "tract", "instructions")
SMALL = [2, 3, 4, 5, 6, 7, 8, 16, 32, 64, 1000]
LARGE = 1_000_000
INSTRUCTION_SIZES = [2, 8, 32, 64, 1000]  # small batches also counted in instructions
QUIET = {**os.environ, "ORT_DISABLE_TELEMETRY": "1"}  # the whole-process competitors' environment
END = "<!-- end of the goals section; below: the last full `make bench` -->"


def target_for(rows: int, model: str) -> float:
    """The issue's ceiling on the ratio to raw session.run for predict_proba of `rows` numpy rows."""
    if rows <= 8:
        return 1.0
    if rows <= 1000:  # "<= 1.2x up to 64 rows, and a batch-1,000 row": held to the same
        return 1.2
    return 1.15 if model == "default" else 1.05  # the default model's domain scan of its one feature is the floor


# -- the competitors ------------------------------------------------------------------------------
def raw_session(model: Path):
    """The user's script: an InferenceSession with Predictor's options, called as its README calls it."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})[0]


def models(work: Path) -> dict[str, Path]:
    """The default model (one feature, format 3 binary: the graph emits (n, 2)) and the 30-64-64-1 MLP."""
    import tables

    return {"default": DEFAULT, "mlp-30": tables.mlp(work, 30, 50)}


def sample(model: str, n: int, k: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    x = rng.uniform(0, 12, (n, k)) if model == "default" else rng.normal(0, 1, (n, k))
    return x.astype(np.float32)


def batch1_pairs(name: str, path: Path) -> dict[str, tuple]:
    """Batch 1: title -> (candidate, reference, target), each a no-argument call."""
    from edge_predict import Predictor

    predictor, raw = Predictor.from_path(path), raw_session(path)
    x = sample(name, 1, predictor.n_features_in_)
    row = x.tolist()
    ref = lambda: raw(x)  # noqa: E731
    return {
        f"{name}, batch 1, predict_proba (1, k) float32": (lambda: predictor.predict_proba(x), ref, 1.0),
        f"{name}, batch 1, predict (1, k) float32": (lambda: predictor.predict(x), ref, 1.0),
        f"{name}, batch 1, predict_table (1, k) float32": (lambda: predictor.predict_table(x), ref, 1.0),
        f"{name}, batch 1, predict_proba of a Python list": (lambda: predictor.predict_proba(row), ref, 1.3),
    }


def batch_pairs(name: str, path: Path, sizes: list[int]) -> dict[str, tuple]:
    from edge_predict import Predictor

    predictor, raw = Predictor.from_path(path), raw_session(path)
    pairs = {}
    for n in sizes:
        x = sample(name, n, predictor.n_features_in_)
        pairs[f"{name}, batch {n:,}, predict_proba"] = (
            lambda x=x: predictor.predict_proba(x),
            lambda x=x: raw(x),
            target_for(n, name),
        )
    return pairs


# -- timing ---------------------------------------------------------------------------------------
def _per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def paired(candidate, reference, reps: int, budget: float) -> dict:
    """Median seconds per call of each and the median of the per-repetition ratios, timed A B B A A B ..."""
    for fn in (candidate, reference):
        fn()
    calls = max(1, int(budget / max(_per_call(reference, 3), 1e-9)))
    ours, theirs = [], []
    for rep in range(reps):
        if rep % 2:
            theirs.append(_per_call(reference, calls))
            ours.append(_per_call(candidate, calls))
        else:
            ours.append(_per_call(candidate, calls))
            theirs.append(_per_call(reference, calls))
    return {
        "candidate": statistics.median(ours),
        "reference": statistics.median(theirs),
        "ratio": statistics.median(a / b for a, b in zip(ours, theirs)),
        "reps": reps,
        "calls": calls,
    }


def _row(piece: str, title: str, target: float | None, stats: dict, unit: str, measure: str = "ratio") -> dict:
    """A goal row: PASS when stats[measure] (the ratio, the candidate's own figure or its excess over the reference)
    is at most `target`. Without a target the row only compares (the tract peer): edge-predict is ahead or behind."""
    value = stats[measure]
    if target is None:
        verdict = "ahead" if value < (0 if measure == "excess" else 1) else "behind"
    else:
        verdict = "PASS" if value <= target else "MISS"
    return {
        "piece": piece,
        "goal": title,
        "target": target,
        "unit": unit,
        "measure": measure,
        **stats,
        "verdict": verdict,
    }


def in_process(piece: str, pairs: dict[str, tuple], reps: int, budget: float) -> list[dict]:
    rows = []
    for title, (candidate, reference, target) in pairs.items():
        stats = paired(candidate, reference, reps, budget)
        rows.append(_row(piece, title, target, stats, "wall"))
        _print(rows[-1])
    return rows


# -- the pieces ----------------------------------------------------------------------------------
def batch(work: Path, reps: int = 61, budget: float = 0.004) -> list[dict]:
    pairs = {}
    for name, path in models(work).items():
        pairs.update(batch1_pairs(name, path))
    return in_process("batch", pairs, reps, budget)


def small(work: Path, reps: int = 41, budget: float = 0.004) -> list[dict]:
    pairs = {}
    for name, path in models(work).items():
        pairs.update(batch_pairs(name, path, SMALL))
    return in_process("small", pairs, reps, budget)


def large(work: Path, reps: int = 21, budget: float = 0.02) -> list[dict]:
    pairs = {}
    for name, path in models(work).items():
        pairs.update(batch_pairs(name, path, [LARGE]))
    return in_process("large", pairs, reps, budget)


def csv(work: Path, reps: int = 5) -> list[dict]:
    """1e6 x 8 and 1e6 x 30 CSV tables (the 64-64 MLPs, and the light 16-8 MLP on rows drawn anew with 5 decimals)
    to CSV: `edge-predict predict` against bench/scripts/polars_predict.py, whole processes, interleaved."""
    import tables
    from timing import run_child

    exe = Path(sys.executable).parent
    cases = {
        "1,000,000 x 8 table (64-64 MLP, %.4f) to CSV": (tables.mlp(work, 8, 50), tables.table_file(work, LARGE, 8)),
        "1,000,000 x 30 table (64-64 MLP, %.4f) to CSV": (
            tables.mlp(work, 30, 50),
            tables.table_file(work, LARGE, 30),
        ),
        "1,000,000 x 8 light table (16-8 MLP, %.5f, no repeats) to CSV": (
            tables.mlp(work, 8, 50, hidden="16,8"),
            tables.table_file(work, LARGE, 8, 5, False),
        ),
    }
    rows = []
    for title, (model, table) in cases.items():
        ours = [str(exe / "edge-predict"), "predict", "-m", str(model), "--input", str(table), "--format", "csv"]
        theirs = [str(exe / "python"), str(HERE / "scripts" / "polars_predict.py"), str(model), str(table)]
        theirs += [str(work / "scored-polars.csv"), "csv"]
        out = str(work / "scored-cli.csv")
        run_child(ours, out), run_child(theirs)  # warm the page cache for both
        a, b, peak = [], [], []
        for rep in range(reps):
            order = ((ours, out, a), (theirs, os.devnull, b))
            for cmd, dest, into in order if rep % 2 == 0 else order[::-1]:
                wall, rss = run_child(cmd, dest)
                into.append(wall)
                if into is a:
                    peak.append(rss)
        stats = {
            "candidate": statistics.median(a),
            "reference": statistics.median(b),
            "ratio": statistics.median(x / y for x, y in zip(a, b)),
            "reps": reps,
            "calls": 1,
            "peak_mib": max(peak),
        }
        rows.append(_row("csv", title, 1.0, stats, "wall"))
        _print(rows[-1])
    return rows


# -- whole processes -----------------------------------------------------------------------------
_devices: dict[Path, Path] = {}


def device(work: Path) -> Path:
    """A venv with only the wheel of this checkout and its dependencies (no torch): the installed CLI of a device.
    Built once per run; reused across runs while the wheel's contents are unchanged (bench/envs.py)."""
    import envs

    if work not in _devices:
        _devices[work] = envs.device_env(work, envs.build_wheel(work))
    return _devices[work]


def processes(commands: dict[str, list[str]], reps: int) -> dict[str, dict[str, list[float]]]:
    """Whole processes in turn, A B C C B A ... (after one unmeasured run each, so that the page cache and the .pyc
    files are warm for all alike): each command's wall seconds and peak RSS (MiB) per repetition."""
    from timing import run_child

    for cmd in commands.values():
        run_child(cmd, env=QUIET)
    runs = {name: {"wall": [], "peak": []} for name in commands}
    for rep in range(reps):
        for name in list(commands) if rep % 2 == 0 else list(commands)[::-1]:
            wall, peak = run_child(commands[name], env=QUIET)
            runs[name]["wall"].append(wall)
            runs[name]["peak"].append(peak)
    return runs


def walls(runs: dict, ours: str, theirs: str) -> dict:
    a, b = runs[ours]["wall"], runs[theirs]["wall"]
    return {
        "candidate": statistics.median(a),
        "reference": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b)),
        "reps": len(a),
        "calls": 1,
    }


def peaks(runs: dict, ours: str, theirs: str) -> dict:
    a, b = runs[ours]["peak"], runs[theirs]["peak"]
    return {
        "candidate": statistics.median(a),
        "reference": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b)),
        "excess": statistics.median(x - y for x, y in zip(a, b)),
        "reps": len(a),
        "calls": 1,
    }


def cold_commands(env: Path) -> dict[str, list[str]]:
    """`edge-predict predict 7` (the packaged model, verified at load), the raw onnxruntime script of workload 1 on
    the same file, and the floor under both: importing onnxruntime."""
    python = str(env / "bin" / "python")
    return {
        "edge-predict": [str(env / "bin" / "edge-predict"), "predict", "7"],
        "raw": [python, str(SCRIPTS / "raw_ort.py"), str(DEFAULT), "7"],
        "floor": [python, "-c", "import onnxruntime"],
    }


def coldstart(work: Path, reps: int = 21) -> list[dict]:
    """Cold start: `edge-predict predict 7` against bench/scripts/raw_ort.py, whole processes, interleaved; wall
    time (<= 1.05x), peak RSS (<= the script's + 3 MiB), and importing onnxruntime as the floor."""
    runs = processes(cold_commands(device(work)), reps)
    rows = [
        _row("coldstart", "cold start, edge-predict predict 7", 1.05, walls(runs, "edge-predict", "raw"), "wall"),
        _row(
            "coldstart",
            "cold start, python -c 'import onnxruntime' (the floor)",
            None,
            walls(runs, "floor", "raw"),
            "wall",
        ),
        _row(
            "coldstart",
            "cold start peak RSS, edge-predict predict 7",
            3.0,
            peaks(runs, "edge-predict", "raw"),
            "MiB",
            "excess",
        ),
    ]
    rows[1]["verdict"] = "floor"
    for row in rows:
        _print(row)
    return rows


def _round_trips(cmd: list[str], trips: int) -> float:
    """The median round trip of one coprocess: a line written and flushed, its answer read, `trips` times."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=QUIET)
    trip = []
    for i in range(trips):
        start = time.perf_counter()
        proc.stdin.write(f"{i % 12}.25\n".encode())
        proc.stdin.flush()
        answer = proc.stdout.readline()
        trip.append(time.perf_counter() - start)
        if not answer.startswith(b'{"input"'):
            raise RuntimeError(f"{cmd[0]} answered {answer!r}")
    proc.stdin.close()
    if proc.wait(timeout=60):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}")
    return statistics.median(trip[10:])  # the first answers warm the caches


def loop(work: Path, trips: int = 1000, reps: int = 7) -> list[dict]:
    """The device loop: `edge-predict predict --input - --format json` as a coprocess, one line written and its
    answer read, `trips` times; beside it bench/scripts/raw_loop.py (onnxruntime, no checks), processes interleaved.
    The goal is the median round trip itself (<= 0.25 ms); the raw loop shows the floor."""
    env = device(work)
    ours = [str(env / "bin" / "edge-predict"), "predict", "-m", str(DEFAULT), "--input", "-", "--format", "json"]
    theirs = [str(env / "bin" / "python"), str(SCRIPTS / "raw_loop.py"), str(DEFAULT)]
    a, b = [], []
    for rep in range(reps):
        order = ((ours, a), (theirs, b))
        for cmd, into in order if rep % 2 == 0 else order[::-1]:
            into.append(_round_trips(cmd, trips))
    stats = {
        "candidate": statistics.median(a),
        "reference": statistics.median(b),
        "ratio": statistics.median(x / y for x, y in zip(a, b)),
        "reps": reps,
        "calls": trips,
    }
    rows = [_row("loop", f"device loop, median of {trips:,} round trips", 0.25e-3, stats, "wall", "candidate")]
    _print(rows[0])
    return rows


def tract(work: Path, reps: int = 21, large_reps: int = 7) -> list[dict]:
    """The peer a small-device user would pick instead: tract (sonos/tract's Python bindings, the bench extra), on
    the same files. Cold start and peak RSS: bench/scripts/tract_predict.py in a venv with tract and numpy only,
    against `edge-predict predict 7` (also with --engine numpy: no onnxruntime) and the raw onnxruntime script. In
    process: tract's runnable against Predictor.predict_proba and raw session.run, batch 1 and 1e6 rows, both models.
    No goal: ahead or behind."""
    import envs
    from workloads import tract_runner

    peer = envs.tract_env(work)
    if peer is None or tract_runner(DEFAULT) is None:
        raise RuntimeError("tract does not install here: pip install 'edge-predict[bench]' (x86-64 wheels only)")
    commands = cold_commands(device(work))
    del commands["floor"]
    commands["numpy engine"] = commands["edge-predict"] + ["--engine", "numpy"]  # no onnxruntime in the process
    commands["tract"] = [str(peer / "bin" / "python"), str(SCRIPTS / "tract_predict.py"), str(DEFAULT), "7"]
    runs = processes(commands, reps)
    labels = {
        "edge-predict": "edge-predict predict 7",
        "numpy engine": "edge-predict predict 7 --engine numpy",
        "raw": "raw onnxruntime script",
    }
    rows = [
        _row("tract", f"tract, cold start: {label} vs tract", None, walls(runs, key, "tract"), "wall")
        for key, label in labels.items()
    ]
    rows += [
        _row("tract", f"tract, peak RSS: {label} vs tract", None, peaks(runs, key, "tract"), "MiB", "excess")
        for key, label in labels.items()
    ]
    for row in rows:
        _print(row)
    from edge_predict import Predictor

    for name, path in models(work).items():
        predictor, raw, peer_run = Predictor.from_path(path), raw_session(path), tract_runner(path)
        for n in (1, LARGE):
            x = sample(name, n, predictor.n_features_in_)
            # the same answers, or the comparison means nothing: tract sums in another order than onnxruntime
            np.testing.assert_allclose(peer_run(x), raw(x), rtol=1e-5, atol=1e-6)
            r, budget = (reps, 0.004) if n == 1 else (large_reps, 0.02)
            for label, fn in (
                ("edge-predict predict_proba", lambda: predictor.predict_proba(x)),
                ("raw session.run, same options", lambda: raw(x)),
            ):
                stats = paired(fn, lambda: peer_run(x), r, budget)
                rows.append(_row("tract", f"tract, {name}, batch {n:,}: {label} vs tract", None, stats, "wall"))
                _print(rows[-1])
    return rows


def instructions(work: Path, calls: int = 2000) -> list[dict]:
    """The batch-1 rows and some small-batch rows in instructions per call, counted by valgrind's callgrind in a
    child process: each call's `calls` calls fall between two os.getppid() markers, where callgrind dumps its
    counters; each row's candidate and reference are counted in turn."""
    rows = []
    for name, path in models(work).items():
        with tempfile.TemporaryDirectory(prefix="goals-cg-") as tmp:
            out = Path(tmp) / "cg.out"
            cmd = ["valgrind", "--tool=callgrind", "--dump-before=getppid", f"--callgrind-out-file={out}"]
            cmd += [sys.executable, str(Path(__file__)), "_count", name, str(path), str(calls)]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=str(HERE))
            if done.returncode:
                raise RuntimeError(f"callgrind failed: {done.stderr[-2000:]}")
            titles = done.stdout.split("\n")[0].split("\t")
            counts = []
            for i in range(2, 4 * len(titles) + 2, 2):  # dump i ends the segment before the i-th marker
                text = Path(f"{out}.{i}").read_text(errors="replace")
                counts.append(int(re.search(r"^totals: (\d+)", text, re.M).group(1)))
        pairs = counted_pairs(name, path)
        for j, title in enumerate(titles):
            n = _calls(title, calls)
            ours, theirs = counts[2 * j] / n, counts[2 * j + 1] / n
            stats = {"candidate": ours, "reference": theirs, "ratio": ours / theirs, "reps": 1, "calls": n}
            rows.append(_row("instructions", title, pairs[title][2], stats, "instructions"))
            _print(rows[-1])
    return rows


def counted_pairs(name: str, path: Path) -> dict[str, tuple]:
    """The rows counted in instructions: every batch-1 row and predict_proba of INSTRUCTION_SIZES rows."""
    return {**batch1_pairs(name, path), **batch_pairs(name, path, INSTRUCTION_SIZES)}


def _calls(title: str, calls: int) -> int:
    """How many calls a row is counted over: fewer for larger batches (valgrind runs them 50-100x slower)."""
    rows = int(re.search(r"batch ([\d,]+)", title).group(1).replace(",", ""))
    return max(100, calls // max(1, rows // 8))


def _count(name: str, path: str, calls: int) -> None:
    """The child under callgrind: each row's candidate, then its reference, between two markers each."""
    pairs = counted_pairs(name, Path(path))
    print("\t".join(pairs), flush=True)
    for title, (candidate, reference, _) in pairs.items():
        for fn in (candidate, reference):
            for _ in range(20):
                fn()
            os.getppid()
            for _ in range(_calls(title, calls)):
                fn()
            os.getppid()


def _cells(row: dict) -> tuple[str, str, str, str, str]:
    """A row's figures as text: edge-predict's, the reference's, how measured, the compared value, the target."""
    if row["unit"] == "instructions":
        ours, theirs, kind = f"{row['candidate']:,.0f}", f"{row['reference']:,.0f}", "instructions/call"
    elif row["unit"] == "MiB":
        ours, theirs, kind = f"{row['candidate']:.1f} MiB", f"{row['reference']:.1f} MiB", "peak RSS, median"
    else:
        ours, theirs, kind = _time(row["candidate"]), _time(row["reference"]), "wall, median"
    if "peak_mib" in row:
        ours += f" ({row['peak_mib']:.0f} MiB peak)"
    target = row["target"]
    if row["measure"] == "excess":
        value = f"{row['excess']:+.1f} MiB"
        bound = "—" if target is None else f"≤ {target:+.1f} MiB"
    elif row["measure"] == "candidate":  # the goal is edge-predict's own figure; the ratio to the reference beside it
        value = f"{row['ratio']:.2f}×"
        bound = f"≤ {_time(target)}"
    else:
        value = f"{row['ratio']:.2f}×"
        bound = "—" if target is None else f"≤ {target:.2f}×"
    return ours, theirs, kind, value, bound


def _print(row: dict) -> None:
    ours, theirs, _, value, bound = _cells(row)
    print(f"{row['goal']:<62} {ours:>10} vs {theirs:>10}  {value:>9}  (target {bound})  {row['verdict']}", flush=True)


def _time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def run(pieces: list[str], work: Path) -> list[dict]:
    rows = []
    for piece in pieces:
        rows += globals()[piece](work)
    return rows


def markdown(rows: list[dict], machine: dict, seconds: float) -> str:
    """The goals section of bench/results.md."""
    lines = [
        "## Issue 27's goals (`bench/run.py --goals`)",
        "",
        f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores; commit {machine['commit']}; "
        f"load average {machine['load_average_start'][0]:.2f} at the start, {machine['load_average_end'][0]:.2f} "
        f"at the end; {seconds:.0f} s. The host is shared: the `instructions` rows are instruction counts "
        "(valgrind callgrind, per call, the competitor's calls between two markers), the others wall time.",
        "",
        "Each row pairs edge-predict with the raw onnxruntime script (`session.run(None, {name: x})[0]` on a session "
        "with Predictor's options) in one process, timed in turn (A B B A ...); ratio = median of the "
        "per-repetition ratios. CSV rows: whole processes, `edge-predict predict` against "
        "`bench/scripts/polars_predict.py`, interleaved. Cold-start rows: whole processes, `edge-predict predict 7` "
        "against `bench/scripts/raw_ort.py` on the same file, from a venv with only the wheel (no torch), "
        "onnxruntime's telemetry off for both; peak RSS from the child's rusage. Loop row: the median round trip of "
        "one line written and its JSON answer read, per coprocess (the median of its processes'), beside "
        "`bench/scripts/raw_loop.py` (onnxruntime, no checks). tract rows: no goal, edge-predict (or raw "
        "onnxruntime) against tract, the reference there; tract's cold start runs in a venv with tract and numpy "
        "only.",
        "",
        "| goal | measured as | edge-predict | reference | ratio | target | verdict | reps × calls |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        ours, theirs, kind, value, bound = _cells(r)
        lines.append(
            f"| {r['goal']} | {kind} | {ours} | {theirs} | {value} | {bound} | {r['verdict']} | "
            f"{r['reps']} × {r['calls']:,} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__" and sys.argv[1:2] == ["_count"]:
    sys.path.insert(0, str(HERE))
    _count(sys.argv[2], sys.argv[3], int(sys.argv[4]))
