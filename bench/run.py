"""`make bench`: edge-predict against raw onnxruntime, torch and a naive script; see bench/results.md."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import engines
import envs
import goals
import report
import signing as signed_models
import tables
import tables_mixed
import workloads

HERE = Path(__file__).resolve().parent
FULL = {
    "reps": 15,
    "warm_reps": 9,
    "file_reps": 5,
    "budget": 0.1,
    "batches": [1, 2, 4, 8, 32, 64, 1000, 1_000_000],  # issue 27: every small size, a thousand, a million
    "file_lines": 1_000_000,
    "memory_lines": [100_000, 10_000_000],
    "rivals": True,
    "epochs": 50,
    "table_rows": 1_000_000,
    "table_reps": 5,  # polars and pandas vary run to run by 10-30% here (page faults): five make the median hold
    "flat_rows": [100_000, 1_000_000, 10_000_000],
    "trips": 1000,
    "loop_reps": 5,
}
QUICK = {
    "reps": 2,
    "warm_reps": 2,
    "file_reps": 2,
    "budget": 0.002,
    "batches": [1, 8, 1000],
    "file_lines": 2000,
    "memory_lines": [1000, 10_000],
    "rivals": False,
    "epochs": 20,
    "table_rows": 2000,
    "table_reps": 2,
    "flat_rows": [1000, 3000, 10_000],
    "trips": 50,
    "loop_reps": 2,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 repetitions: checks the harness")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md and results.json go")
    parser.add_argument("--wheel", type=Path, help="an edge-predict wheel already built from this checkout")
    parser.add_argument("--device-env", type=Path, help="a venv with only that wheel installed (no torch)")
    parser.add_argument("--mixed", action="store_true", help="only issue 24's mixed-table rows (bench/tables_mixed.py)")
    parser.add_argument(
        "--tables",
        action="store_true",
        help="run only workloads 8-11 (issue #13); keep the rows of 1-7 from the existing results.json",
    )
    parser.add_argument(
        "--only",
        choices=goals.PIECES,
        action="append",
        help="issue 27's goal rows of one piece (repeatable), printed; nothing written (bench/goals.py)",
    )
    parser.add_argument(
        "--goals", action="store_true", help="every goal row; writes bench/goals.json and results.md's top section"
    )
    args = parser.parse_args(argv)
    if args.only or args.goals:
        return _goals(args.only or list(goals.PIECES), write=args.goals and not args.only, out=args.out)
    plan = QUICK if args.quick else FULL
    mixed = (
        ["--quick"] * args.quick
        + ["--out", str(args.out)]
        + ["--device-env", str(args.device_env)] * bool(args.device_env)
    )
    if args.mixed:
        return tables_mixed.main(mixed)
    # quick mode (make test) leaves nothing in the repository: its wheel and device venv go to a temporary
    # directory; the full run reuses bench/.work/ while the wheel is unchanged
    scratch = tempfile.TemporaryDirectory(prefix="edge-predict-bench-") if args.quick else None
    work = Path(scratch.name) if scratch else HERE / ".work"
    work.mkdir(exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    model = envs.REPO / "models" / "default.onnx"

    started = time.perf_counter()
    result = {
        "mode": "quick" if args.quick else "full",
        "command": "make bench  # = .venv/bin/python bench/run.py"
        + (" --quick" if args.quick else "")
        + (" --tables (rows 1-7: the run before)" if args.tables else ""),
        "machine": report.machine(envs.REPO),
    }
    _say("building the wheel and the device environment (no torch)")
    wheel = args.wheel or envs.build_wheel(work)
    device = args.device_env or envs.device_env(work, wheel)
    if args.tables:  # the rows of 1-7 from the run before, this run's of 8-11
        rows = [
            r
            for r in json.loads((args.out / "results.json").read_text())["rows"]
            if int(re.match(r"[0-9]+", r["workload"]).group()) < 8
        ]
    else:
        rows = _issue5(device, wheel, model, work, plan)
    _say("8-11. k-feature tables (against polars and pandas in full mode), their memory, the device loop, an MLP")
    rivals = tables.rivals_env(work) if plan["rivals"] else None
    mlps = {k: tables.mlp(work, k, plan["epochs"]) for k in (8, 30)}
    n = plan["table_rows"]
    cases = {f"{n:,} x {k} table": (mlps[k], tables.table_file(work, n, k)) for k in mlps}
    rows += tables.tables(device, rivals, cases, work, plan["table_reps"])
    # issue 27: a light model (16-8 MLP: the parse, not the model, is the work) on tables drawn row by row, 5 decimals
    light = tables.mlp(work, 8, plan["epochs"], hidden="16,8")
    fresh = {
        f"{n:,} x 8 light table (16-8 MLP, %.5f, no repeats)": (light, tables.table_file(work, n, 8, 5, False)),
        f"{n:,} x 8 light table (16-8 MLP, %.4f)": (light, tables.table_file(work, n, 8)),
    }
    rows += tables.tables(device, rivals, fresh, work, plan["table_reps"], formats=("csv",))
    if rivals:  # once, beside a one-core CPU hog: polars' threads lose most on a loaded host
        hogged = {
            **{f"{t}, beside a CPU hog": c for t, c in cases.items()},
            **{f"{t}, beside a CPU hog": c for t, c in fresh.items()},
        }
        rows += tables.beside_a_hog(lambda: tables.tables(device, rivals, hogged, work, 1, "8b.", ("csv",)))
    rows += tables.flatness(device, mlps[8], [tables.table_file(work, n, 8) for n in plan["flat_rows"]], work)
    rows += tables.device_loop(device, model, plan["trips"], plan["loop_reps"])
    rows += tables.bigger_model(mlps[30], plan["batches"], plan["warm_reps"], plan["budget"])
    _say("12. the numpy engine against onnxruntime (issue 29)")
    rows += engines.rows(device, model, plan)
    result["machine"]["load_average_end"] = list(os.getloadavg())
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["rows"] = sorted(rows, key=lambda r: int(re.match(r"[0-9]+", r["workload"]).group()))  # 4, 4b, ..., 10
    result["targets"] = report.targets(result["rows"])
    text = report.markdown(result)
    (args.out / "results.md").write_text(text)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)
    status = tables_mixed.main(mixed + ["--device-env", str(device)] * (not args.device_env))  # issue 24's rows
    if scratch:
        scratch.cleanup()
    return status


def _issue5(device: Path, wheel: Path, model: Path, work: Path, plan: dict) -> list[dict]:
    """Workloads 1-7: footprint, cold start, warm latency, throughput, files, session options, signed models."""
    weights = envs.torch_weights(model, work)
    rows = envs.footprint(device, wheel)
    _say("1. cold start")
    peer = envs.tract_env(work) if plan["rivals"] else None  # the peer a small-device user might pick (issue 27)
    rows += workloads.cold_start(device, model, weights, plan["reps"], peer)
    _say("2-3. warm latency and throughput")
    rows += workloads.warm(model, weights, plan["batches"], plan["warm_reps"], plan["budget"])
    _say("4. files")
    rows += workloads.files(device, model, envs.hours_file(work, plan["file_lines"]), work, plan["file_reps"])
    rows += workloads.memory(device, [envs.hours_file(work, n) for n in plan["memory_lines"]], work)
    _say("6. session options")
    rows += workloads.session_options(
        model, [plan["batches"][0], plan["batches"][-1]], plan["warm_reps"], plan["budget"]
    )
    _say("7. signed models")
    return rows + signed_models.rows(work, wheel, device, model, plan["reps"])


def _goals(pieces: list[str], write: bool, out: Path) -> int:
    """Issue 27's goals in this venv (bench/goals.py); with write, the top section of results.md is replaced."""
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    machine = report.machine(envs.REPO)
    started = time.perf_counter()
    rows = goals.run(pieces, work)
    machine["load_average_end"] = list(os.getloadavg())
    seconds = time.perf_counter() - started
    if write:
        section = goals.markdown(rows, machine, seconds)
        (out / "goals.json").write_text(json.dumps({"machine": machine, "seconds": seconds, "rows": rows}, indent=2))
        results = out / "results.md"
        rest = results.read_text() if results.exists() else ""
        rest = rest.split(goals.END, 1)[1].lstrip() if goals.END in rest else rest
        results.write_text(section + "\n" + goals.END + "\n\n" + rest)
    goal_rows = [r for r in rows if r["target"] is not None]  # the floor and the tract peer only compare
    misses = [r["goal"] for r in goal_rows if r["verdict"] == "MISS"]
    _say(f"{len(goal_rows) - len(misses)} of {len(goal_rows)} goal rows PASS" + (f"; MISS: {misses}" if misses else ""))
    return 0


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
