"""The benchmark's report: the machine, the Markdown table, the targets of issues #5 and #13, and the JSON."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
from importlib import metadata
from pathlib import Path


def machine(repo: Path) -> dict:
    """What the figures were measured on, and how busy it was."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (int(line.split()[1]) for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal")), 0
    )
    commit = subprocess.run(
        ["git", "-C", str(repo), "describe", "--always", "--dirty"], capture_output=True, text=True
    ).stdout.strip()
    versions = {}
    for name in ("onnxruntime", "numpy", "click", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "commit": commit,
        "load_average_start": list(os.getloadavg()),
    }


def _read(path: str) -> str:
    try:
        with open(path) as stream:
            return stream.read()
    except OSError:
        return ""


def _find(rows: list[dict], workload: str, competitor: str) -> dict | None:
    return next((r for r in rows if r["workload"].startswith(workload) and r["competitor"] == competitor), None)


def targets(rows: list[dict]) -> list[dict]:
    """Issues #5, #10 and #13's targets, each with what was measured and whether it is met."""
    out = []

    def add(name, value, limit, text, higher_is_better=False):
        if value is not None:
            met = value >= limit if higher_is_better else value <= limit
            out.append({"target": name, "measured": text.format(value), "met": met})

    cli = _find(rows, "1.", "edge-predict predict 7")
    torch = _find(rows, "1.", "torch script")
    if cli:
        add("CLI cold start <= 1.2x raw onnxruntime script", cli["ratio"], 1.2, "{:.2f}x")
        add("CLI cold start <= 1.15x raw, with no click-free entry point (issue 10)", cli["ratio"], 1.15, "{:.2f}x")
        faster = torch and statistics.median(t / c for t, c in zip(torch["samples"], cli["samples"]))
        add("CLI cold start >= 8x faster than torch", faster, 8, "{:.1f}x", True)
        add("CLI peak RSS <= 60 MiB", cli["peak_mib"], 60, "{:.1f} MiB")
    numpy_cli = _find(rows, "12.", "edge-predict predict 7 --engine numpy")
    if numpy_cli:  # issue 29
        add("numpy engine: cold start of predict 7 <= 0.7x onnxruntime's", numpy_cli["ratio"], 0.7, "{:.2f}x")
        add("numpy engine: predict 7 peak RSS <= 35 MiB", numpy_cli["peak_mib"], 35, "{:.1f} MiB")
    wheel = next((r for r in rows if r["workload"].startswith("5.") and r["competitor"].startswith("wheel")), None)
    add("wheel with the default model <= 50 KB (issue 10)", wheel and wheel["median"] * 1.024, 50, "{:.0f} KB")
    batch1 = _find(rows, "2.", "Predictor.predict_proba")
    add("batch-1 predict_proba <= 1.5x raw session.run (same options)", batch1 and batch1["ratio"], 1.5, "{:.2f}x")
    biggest = [r for r in rows if r["workload"].startswith("3.") and r["competitor"] == "Predictor.predict_proba"]
    if biggest:
        row = biggest[-1]
        add(f"{row['workload'][3:]}: predict_proba <= 1.1x raw", row["ratio"], 1.1, "{:.2f}x")
    scored = _find(rows, "4.", "edge-predict --input F --format csv")
    add("file to CSV <= 0.4x the naive numpy script", scored and scored["ratio"], 0.4, "{:.2f}x")
    memory = [r for r in rows if r["workload"].startswith("4b.")]
    if len(memory) >= 2:
        growth = memory[-1]["peak_mib"] / memory[0]["peak_mib"]
        add(
            f"CLI memory flat from {memory[0]['competitor']} to {memory[-1]['competitor']} (<= 1.1x)",
            growth,
            1.1,
            "{:.2f}x" + f" ({memory[0]['peak_mib']:.1f} -> {memory[-1]['peak_mib']:.1f} MiB)",
        )
    _table_targets(rows, add)
    _call_targets(rows, add)
    return out


def _call_targets(rows: list[dict], add) -> None:
    """Issue #27's targets: predict_proba against the same-options raw session.run at every batch size."""

    def proba(prefix: str, competitor: str = "Predictor.predict_proba") -> list[dict]:
        return [r for r in rows if r["workload"].startswith(prefix) and r["competitor"] == competitor]

    for prefix, model in (("2.", "default model"), ("11.", "MLP 30-64-64-1")):
        batch1 = next((r for r in proba(prefix) if r["workload"].endswith("batch 1")), None)
        add(f"{model}, batch 1: predict_proba <= 1.0x raw (issue 27)", batch1 and batch1["ratio"], 1.0, "{:.2f}x")
    for competitor in ("Predictor.predict", "Predictor.predict_table"):
        row = next(iter(proba("2.", competitor)), None)
        add(f"default model, batch 1: {competitor[10:]} <= 1.0x raw (issue 27)", row and row["ratio"], 1.0, "{:.2f}x")
    for prefix, competitor in (
        ("2.", "Predictor.predict_proba([[7.0]]) (list)"),
        ("11.", "Predictor.predict_proba (list)"),
    ):
        row = next(iter(proba(prefix, competitor)), None)
        add(f"{competitor}, batch 1 <= 1.3x raw (issue 27)", row and row["ratio"], 1.3, "{:.2f}x")
    for prefix, model in (("3.", "default model"), ("11.", "MLP 30-64-64-1")):
        for r in proba(prefix):
            n = int(r["workload"].rsplit(" ", 1)[-1].replace(",", ""))
            limit = 1.0 if n <= 8 else 1.2 if n <= 1000 else (1.15 if prefix == "3." else 1.05)
            if n > 1:  # batch 1 above
                add(f"{model}, batch {n:,}: predict_proba <= {limit}x raw (issue 27)", r["ratio"], limit, "{:.2f}x")


def _paired(a: dict, b: dict) -> float:
    return statistics.median(x / y for x, y in zip(a["samples"], b["samples"]))


def _table_targets(rows: list[dict], add) -> None:
    """Issue #13's targets: k-feature tables against polars and pandas, their memory, the device loop, an MLP."""
    for workload in sorted({r["workload"] for r in rows if r["workload"].startswith(("8.", "8b."))}):
        fmt = workload.rsplit(" ", 1)[-1].lower()
        cli = _find(rows, workload, f"edge-predict --format {fmt}")
        for rival, limit in (("polars", 1.0), ("pandas", 0.3)):
            other = _find(rows, workload, f"{rival} script")
            if cli and other and fmt == "csv":
                add(
                    f"{workload.split(' ', 1)[1]}: CLI <= {limit}x the {rival} script",
                    _paired(cli, other),
                    limit,
                    "{:.2f}x",
                )
        if cli:
            add(f"{workload[3:]}: CLI peak RSS <= 80 MiB", cli["peak_mib"], 80, "{:.1f} MiB")
        csv = _find(rows, workload[:-4] + "CSV", "edge-predict --format csv")
        if cli and csv and fmt == "json":
            add(f"{workload[3:-8]}: JSON Lines <= 1.5x CSV", cli["median"] / csv["median"], 1.5, "{:.2f}x")
    for fmt in ("CSV", "JSON"):
        memory = [r for r in rows if r["workload"] == f"9. CLI memory vs table length ({fmt})"]
        if len(memory) >= 2:  # the largest peak over the first: flat all the way, not only at the ends
            peaks = [r["peak_mib"] for r in memory]
            add(
                f"{fmt}: CLI memory flat from {memory[0]['competitor']} to {memory[-1]['competitor']} (<= 1.1x)",
                max(peaks) / peaks[0],
                1.1,
                "{:.2f}x (" + " -> ".join(f"{p:.1f}" for p in peaks) + " MiB)",
            )
    loop = _find(rows, "10.", next((r["competitor"] for r in rows if r["workload"].startswith("10.")), ""))
    add("device loop: median round trip <= 1 ms", loop and loop["median"], 1.0, "{:.2f} ms")
    for row in (
        r
        for r in rows
        if r["workload"].startswith("11.")
        and r["competitor"] == "Predictor.predict_proba"
        and r["workload"].endswith(("batch 1", "batch 1,000,000"))
    ):
        add(f"{row['workload'][4:]}: predict_proba <= 1.1x raw", row["ratio"], 1.1, "{:.2f}x")


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def markdown(result: dict) -> str:
    """The whole report as Markdown: machine, table, targets, command."""
    m = result["machine"]
    v = m["versions"]
    lines = [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
        f"Python {m['python']}, onnxruntime {v['onnxruntime']}, numpy {v['numpy']}, torch {v['torch']}; "
        f"commit {m['commit']}; load average {m['load_average_start'][0]:.2f} at the start, "
        f"{m['load_average_end'][0]:.2f} at the end (a shared machine: read the ratios).",
        "",
        f"Command: `{result['command']}` ({result['mode']} mode). Competitors interleaved, medians and minimums "
        "of the repetitions (n); ratio = median of the paired per-repetition ratios to the reference.",
        "",
        "| workload | competitor | median | min | ratio to reference | peak RSS | n |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        unit = r["unit"]
        ratio = (
            "reference"
            if r["competitor"] == r["reference"]
            else (f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—")
        )
        peak = f"{r['peak_mib']:.1f} MiB" if r.get("peak_mib") else "—"
        lines.append(
            f"| {r['workload']} | {r['competitor']} | {_num(r['median'])} {unit} | {_num(r['min'])} {unit} "
            f"| {ratio} | {peak} | {r['n']} |"
        )
    lines += ["", "| goal (issues #5, #10, #13) | measured | result |", "|---|---:|:---:|"]
    lines += [f"| {t['target']} | {t['measured']} | {'PASS' if t['met'] else '**MISS**'} |" for t in result["targets"]]
    return "\n".join(lines) + "\n"
