"""Issue 24's bench rows: a mixed table (8 numbers, 3 text categories, gaps) scored CSV to CSV by edge-predict
against a polars and a pandas script running the same ONNX graph in onnxruntime, and the CLI's peak RSS as the
table grows. Writes bench/results-tables.md (and .json); `make bench` runs it after the rest, and
`bench/run.py --mixed` runs it alone (`--quick`: tiny sizes, a temporary directory, nothing written)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import envs
import report
import tables
from workloads import SCRIPTS, _processes, _rows

HERE = Path(__file__).resolve().parent
NUMBERS = [f"n{j}" for j in range(8)]
CATEGORIES = {  # three text columns of 3, 5 and 8 categories
    "site": ["north", "south", "east"],
    "colour": ["red", "green", "blue", "amber", "violet"],
    "product": [f"p-{c}" for c in "abcdefgh"],
}
GAPS = {"n2": 0.03, "n6": 0.01, "colour": 0.02}  # the share of empty fields per column; the rest have none
FULL = {"rows": 1_000_000, "reps": 5, "flat": [100_000, 1_000_000, 10_000_000], "train_rows": 20_000, "epochs": 50}
QUICK = {"rows": 2000, "reps": 2, "flat": [1000, 3000], "train_rows": 2000, "epochs": 5}
TARGETS = {"polars script": 1.0, "pandas script": 0.3}  # edge-predict's time / the rival's, at most
RSS_TARGET_MIB = 100.0


def _block(rng: np.random.Generator, rows: int, label: bool) -> str:
    """`rows` CSV lines of the mixed table (and a label learnt from numbers and categories), gaps as empty fields."""
    x = rng.normal(0, 1, (rows, len(NUMBERS))) * [1, 10, 100, 0.1, 1, 1000, 5, 1]
    picks = {name: rng.integers(len(values), size=rows) for name, values in CATEGORIES.items()}
    fields = [[f"{v:.4f}" for v in column] for column in x.T]
    fields += [np.asarray(values, dtype=object)[picks[name]].tolist() for name, values in CATEGORIES.items()]
    names = NUMBERS + list(CATEGORIES)
    for name, share in GAPS.items():
        column = fields[names.index(name)]
        for i in np.flatnonzero(rng.random(rows) < share):
            column[i] = ""
    if label:
        score = x[:, 0] - x[:, 1] / 10 + (picks["site"] == 1) - (picks["product"] >= 5) + rng.normal(0, 0.5, rows)
        fields.append(["yes" if s > 0 else "no" for s in score])
    return "".join(",".join(row) + "\n" for row in zip(*fields))


def table_file(work: Path, rows: int) -> Path:
    """The scoring table: one seeded 100,000-row block again and again (the size is what counts); made once."""
    path = work / f"mixed-{rows}.csv"
    if not path.exists():
        block_rows = min(rows, 100_000)
        block = _block(np.random.default_rng(24), block_rows, label=False)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as out:
            out.write(",".join(NUMBERS + list(CATEGORIES)) + "\n")
            for start in range(0, rows, block_rows):
                out.write(block if rows - start >= block_rows else "".join(block.splitlines(True)[: rows - start]))
        tmp.replace(path)
    return path


def model(work: Path, rows: int, epochs: int) -> Path:
    """A 64-64 MLP trained and exported by edge-train on a labelled table of the same kind (its gaps imputed in the
    graph, its text columns one-hot encoded there); made once."""
    path = work / f"mixed-mlp-{rows}-{epochs}.onnx"
    if not path.exists():
        data = work / f"mixed-train-{rows}.csv"
        data.write_text(
            ",".join(NUMBERS + list(CATEGORIES) + ["label"]) + "\n" + _block(np.random.default_rng(0), rows, label=True)
        )
        train = [str(Path(sys.executable).parent / "edge-train"), "--data", str(data), "--label", "label"]
        train += ["--model", "mlp", "--hidden", "64,64", "--standardize", "--epochs", str(epochs), "--lr", "0.2"]
        subprocess.run([*train, "--out", str(path), "-q"], check=True, capture_output=True)
    return path


def speed(device: Path, rivals: Path | None, model_path: Path, path: Path, work: Path, reps: int) -> list[dict]:
    """edge-predict, the polars and the pandas script, interleaved, each run a whole process; wall and peak RSS."""
    out = {name: str(work / f"scored-mixed-{name}.csv") for name in ("cli", "polars", "pandas")}
    cli = [
        str(device / "bin" / "edge-predict"),
        "predict",
        "-m",
        str(model_path),
        "--input",
        str(path),
        "--format",
        "csv",
    ]
    commands = {"edge-predict": (cli, out["cli"])}  # the CLI writes stdout; the launcher sends it to the file
    for rival in ("polars", "pandas") if rivals else ():
        script = [str(rivals / "bin" / "python"), str(SCRIPTS / f"{rival}_mixed.py"), str(model_path), str(path)]
        commands[f"{rival} script"] = ([*script, out[rival]], os.devnull)
    samples, peaks = _processes(commands, reps)
    for rival in ("polars", "pandas") if rivals else ():
        _same_answers(out["cli"], out[rival])
    reference = "polars script" if rivals else "edge-predict"
    rows = _rows(f"12. {_rows_of(path):,}-row mixed table to CSV", "ms", 1e3, samples, reference, peaks)
    if rivals:  # the ratio to pandas, paired as the one to polars
        pandas = samples["pandas script"]
        ratio = sorted(e / p for e, p in zip(samples["edge-predict"], pandas))[len(pandas) // 2]
        for row in rows:
            if row["competitor"] == "edge-predict":
                row["ratio_pandas"] = ratio
    return rows


def _same_answers(ours: str, theirs: str) -> None:
    """The two outputs' probabilities agree on every row (float32 printed two ways) and their labels are equal."""
    with open(ours, newline="") as a, open(theirs, newline="") as b:
        for i, (x, y) in enumerate(zip(csv.DictReader(a), csv.DictReader(b))):
            if abs(float(x["probability"]) - float(y["probability"])) > 1e-6 or x["label"] != y["label"]:
                raise AssertionError(f"{ours} and {theirs} differ at row {i}: {x} vs {y}")


def flatness(device: Path, model_path: Path, paths: list[Path], work: Path) -> list[dict]:
    """The CLI's peak RSS (GNU time's 'Maximum resident set size') and wall time as the table grows; once each."""
    rows = []
    for path in paths:
        cmd = ["/usr/bin/time", "-v", str(device / "bin" / "edge-predict"), "predict", "-m", str(model_path)]
        cmd += ["--input", str(path), "--format", "csv"]
        start = time.perf_counter()
        with open(work / "scored-mixed-flat.csv", "w") as scored:
            done = subprocess.run(cmd, stdout=scored, stderr=subprocess.PIPE, text=True, check=True)
        wall = time.perf_counter() - start
        kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
        rows.append(
            {
                "workload": "13. CLI peak RSS vs mixed-table length",
                "competitor": f"{_rows_of(path):,} rows",
                "unit": "ms",
                "median": wall * 1e3,
                "min": wall * 1e3,
                "ratio": None,
                "n": 1,
                "reference": None,
                "peak_mib": kib / 1024,
            }
        )
    return rows


def _rows_of(path: Path) -> int:
    return int(re.search(r"-(\d+)\.csv$", path.name).group(1))


def verdicts(rows: list[dict]) -> list[str]:
    """One line per target of issue 24: the figure, the target, PASS or MISS."""
    lines = []
    ours = next((r for r in rows if r["competitor"] == "edge-predict" and r["workload"].startswith("12.")), None)
    if ours and ours["reference"] == "polars script":
        for rival, target, ratio in (
            ("polars script", TARGETS["polars script"], ours["ratio"]),
            ("pandas script", TARGETS["pandas script"], ours["ratio_pandas"]),
        ):
            verdict = "PASS" if ratio <= target else "MISS"
            lines.append(f"- edge-predict / {rival}: {ratio:.2f}x (target <= {target}x): {verdict}")
    peaks = [r["peak_mib"] for r in rows if r["workload"].startswith("13.")]
    if peaks:
        verdict = "PASS" if max(peaks) <= RSS_TARGET_MIB else "MISS"
        shown = ", ".join(f"{p:.0f}" for p in peaks)
        lines.append(f"- CLI peak RSS {shown} MiB (target <= {RSS_TARGET_MIB:.0f} MiB, flat): {verdict}")
    return lines


def markdown(result: dict) -> str:
    m = result["machine"]
    out = [
        "# Mixed tables (issue 24): text categories and gaps, CSV to CSV",
        "",
        f"`{result['command']}`, {m['date']}, {m['cpu']} ({m['cores']} cores), commit {m['commit']}; load average "
        f"{' '.join(f'{v:.2f}' for v in m['load_average'])} at the start, "
        f"{' '.join(f'{v:.2f}' for v in m['load_average_end'])} at the end (a shared host: other work was running); "
        f"{result['seconds']:.0f} s.",
        "",
        "The table: 8 numbers (`%.4f`, gaps in n2 3 % and n6 1 %), 3 text categories (3, 5 and 8 values, gaps in "
        "colour 2 %), a seeded 100,000-row block repeated. The model: `edge-train --model mlp --hidden 64,64 "
        "--standardize` on 20,000 labelled rows of the same kind (gaps imputed and text one-hot encoded in the graph). "
        "Competitors: `edge-predict predict --input T --format csv > O` from the device env (the wheel, no torch); "
        "bench/scripts/polars_mixed.py and pandas_mixed.py (read_csv, the graph's inputs from the manifest, the same "
        "file in onnxruntime, write_csv) in their own venv. Each a whole process, one unmeasured run each, then "
        "interleaved (rotating order); ratios are the median of paired per-repetition ratios. Every run's "
        "probabilities and labels are checked equal (1e-6) between edge-predict and each script. Peak RSS: "
        "os.wait4's ru_maxrss for row 12 (median), GNU `/usr/bin/time -v` for row 13 (one run each).",
        "",
        "| workload | competitor | median | min | ratio | n | peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        if "ratio_pandas" in r:
            ratio += f" (pandas {r['ratio_pandas']:.2f}x)"
        out.append(
            f"| {r['workload']} | {r['competitor']} | {r['median']:.0f} {r['unit']} | {r['min']:.0f} {r['unit']} | "
            f"{ratio} | {r['n']} | {r.get('peak_mib', 0):.0f} MiB |"
        )
    out += ["", "Targets:", "", *verdicts(result["rows"]), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 repetitions, no rivals, nothing kept")
    parser.add_argument("--out", type=Path, default=HERE, help="where results-tables.md and .json go")
    parser.add_argument("--device-env", type=Path, help="a venv with only the edge-predict wheel installed")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    scratch = tempfile.TemporaryDirectory(prefix="edge-predict-bench-") if args.quick else None
    work = Path(scratch.name) if scratch else HERE / ".work"
    work.mkdir(exist_ok=True)
    started = time.perf_counter()
    machine = report.machine(envs.REPO)
    machine["load_average"] = list(os.getloadavg())
    device = args.device_env or envs.device_env(work, envs.build_wheel(work))
    rivals = None if args.quick else tables.rivals_env(work)
    model_path = model(work, plan["train_rows"], plan["epochs"])
    rows = speed(device, rivals, model_path, table_file(work, plan["rows"]), work, plan["reps"])
    rows += flatness(device, model_path, [table_file(work, n) for n in plan["flat"]], work)
    machine["load_average_end"] = list(os.getloadavg())
    command = "make bench  # = bench/run.py, then bench/tables_mixed.py" + (" --quick" if args.quick else "")
    result = {"command": command, "machine": machine, "seconds": time.perf_counter() - started, "rows": rows}
    text = markdown(result)
    if not scratch:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results-tables.md").write_text(text)
        (args.out / "results-tables.json").write_text(json.dumps(result, indent=2) + "\n")
    else:
        scratch.cleanup()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
