"""make bench-scale: score Parquet on a Dask LocalCluster with 1 and 2 worker processes; writes bench/scale.md.

Measured: rows/s of score_dask over 1e7 rows (1 vs 2 workers), each worker's peak RSS after 1e6 and after 1e7
rows (a fresh cluster for each), a naive Dask script that loads the model in every partition, and, in one process,
what reading the Parquet and scoring cost apart (the per-core rate the docs' 1e9-row estimate starts from).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROWS_PER_FILE = 250_000
WORK = Path(__file__).resolve().parent / ".work" / "scale"


def write_table(rows: int) -> Path:
    """`rows` rows (id, hours) in Parquet files of ROWS_PER_FILE rows; reused when already there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = WORK / f"rows-{rows}"
    done = folder / "_complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        ids = np.arange(start, min(start + ROWS_PER_FILE, rows))
        pq.write_table(pa.table({"id": ids, "hours": rng.uniform(0, 10, len(ids))}), folder / f"part-{i:04d}.parquet")
    done.touch()
    return folder


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def import_engines() -> None:
    """What a worker's first partition would import otherwise: about 1 CPU-second here, paid by every worker."""
    import dask.dataframe  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    import edge_predict.distributed  # noqa: F401


def naive_partition(frame, model_bytes: bytes):
    """What a first attempt looks like: load (and verify) the model for every partition."""
    from edge_predict import Predictor

    predictor = Predictor.from_bytes(model_bytes)
    table = predictor.predict_table(frame[["hours"]].to_numpy())
    return frame.assign(probability=table["probability"], label=table["label"])


def run_dask(folder: Path, workers: int, naive: bool = False) -> dict:
    """Score every row of `folder` on a fresh cluster; the job ends in two sums so no rows travel back."""
    import dask
    import dask.dataframe as dd
    from dask.dataframe.utils import make_meta
    from distributed import Client, LocalCluster

    from edge_predict import Predictor
    from edge_predict.distributed import score_dask

    predictor = Predictor.default()
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.run(import_engines)  # imports are start-up, not scoring
        ddf = dd.read_parquet(folder)
        if naive:
            data = predictor.model_bytes
            meta = make_meta(ddf).assign(probability=np.float32(0), label="")
            scored = ddf.map_partitions(naive_partition, data, meta=meta)
        else:
            scored = score_dask(ddf, predictor)
        cpu, here = sum(client.run(cpu_seconds).values()), cpu_seconds()
        load = os.getloadavg()[0]
        start = time.perf_counter()
        total, passed = dask.compute(scored["probability"].sum(), (scored["label"] == "pass").sum())
        seconds = time.perf_counter() - start
        here = cpu_seconds() - here  # the client and, in a LocalCluster, the scheduler: CPU the workers do not get
        cpu = sum(client.run(cpu_seconds).values()) - cpu
        rows = int(ddf.shape[0].compute())
        rss = sorted(client.run(peak_rss_mib).values())
    return {
        "workers": workers,
        "naive": naive,
        "rows": rows,
        "partitions": ddf.npartitions,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "worker_cpu_s": cpu,
        "rows_per_cpu_s": rows / cpu,
        "load_before": load,
        "client_scheduler_cpu_s": here,
        "peak_rss_mib": rss,
        "check": [float(total), int(passed)],
    }


def one_process(folder: Path) -> dict:
    """Reading to float64 and scoring, timed apart in this process with one onnxruntime thread."""
    import pyarrow.parquet as pq

    from edge_predict import Predictor

    predictor = Predictor.default(threads=1)
    read = score = 0.0
    rows = 0
    for path in sorted(folder.glob("*.parquet")):
        start = time.perf_counter()
        x = pq.read_table(path, columns=["hours"]).column("hours").to_numpy().reshape(-1, 1)
        read += time.perf_counter() - start
        start = time.perf_counter()
        predictor.predict_table(x)
        score += time.perf_counter() - start
        rows += len(x)
    return {
        "rows": rows,
        "read_s": read,
        "score_s": score,
        "read_rows_per_s": rows / read,
        "score_rows_per_s": rows / score,
    }


def report(results: dict) -> str:
    big, small = results["dask_1e7"], results["dask_1e6_2"]
    one, two = big[0], big[1]
    naive = results["naive_1e7_2"]
    alone = results["one_process"]
    lines = [
        "# Distributed scoring: make bench-scale",
        "",
        f"{results['machine']}. Dask LocalCluster, processes, one thread per worker; default model (1 feature);",
        f"Parquet files of {ROWS_PER_FILE:,} rows; each job ends in two sums (no rows return to the client).",
        "",
        "| job | rows | workers | seconds | rows/s | worker CPU s | rows per CPU s | client+scheduler CPU s | load avg before "
        "| peak RSS per worker (MiB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, r in [
        ("score_dask", small),
        ("score_dask", one),
        ("score_dask", two),
        ("naive: a session per partition", naive),
    ]:
        lines.append(
            f"| {name} | {r['rows']:.0e} | {r['workers']} | {r['seconds']:.2f} | {r['rows_per_s']:,.0f} | "
            f"{r['worker_cpu_s']:.1f} | {r['rows_per_cpu_s']:,.0f} | {r['client_scheduler_cpu_s']:.2f} | "
            f"{r['load_before']:.1f} | "
            f"{', '.join(f'{v:.0f}' for v in r['peak_rss_mib'])} |"
        )
    rss_ratio = max(two["peak_rss_mib"]) / max(small["peak_rss_mib"])
    loads = ", ".join(f"{r['load_before']:.1f}" for r in (small, one, two, naive))
    lines += [
        "",
        f"- 2 workers vs 1: {two['rows_per_s'] / one['rows_per_s']:.2f}x (goal >= 1.6x).",
        f"- peak RSS per worker, {two['rows']:.0e} vs {small['rows']:.0e} rows (2 workers): {rss_ratio:.2f}x "
        "(goal <= 1.2x).",
        f"- naive vs score_dask (2 workers, {two['rows']:.0e} rows): {naive['seconds'] / two['seconds']:.2f}x the time.",
        f"- one process, no Dask: reading Parquet to float64 {alone['read_rows_per_s']:,.0f} rows/s, "
        f"scoring (predict_table) {alone['score_rows_per_s']:,.0f} rows/s.",
        f"- per core: {two['rows_per_cpu_s']:,.0f} rows per worker CPU second (2 workers, {two['rows']:.0e} rows), "
        "so 1e9 rows "
        f"take {1e9 / two['rows_per_cpu_s'] / 3600:.2f} core-hours: "
        + ", ".join(f"{1e9 / two['rows_per_cpu_s'] / n / 60:.1f} min on {n} cores" for n in (2, 16, 64))
        + ".",
        f"- load average before the runs: {loads} "
        "(other processes share the 2 cores: wall-clock rows/s and the 2-vs-1 ratio depend on the share the workers got).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "scale.md"))
    args = parser.parse_args()
    small, big = write_table(args.rows // 10), write_table(args.rows)
    results = {
        "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "dask_1e6_2": run_dask(small, 2),
        "dask_1e7": [run_dask(big, 1), run_dask(big, 2)],
        "naive_1e7_2": run_dask(big, 2, naive=True),
        "one_process": one_process(big),
    }
    text = report(results)
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
