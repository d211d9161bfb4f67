"""`make bench-serve`: edge-predict serve under load on loopback, and MLServer 1.7 serving the same ONNX file.

One client sending single rows (round-trip latency), then 32 concurrent keep-alive clients for --duration seconds,
each alternating single rows and 1,000-row batches, first all well-formed, then with a tenth malformed. Reports p50
and p99 per kind, rows/s, failed requests, and the server's peak RSS (VmHWM, and VmRSS sampled, from /proc).
Every request goes to 127.0.0.1; every loop is bounded in time. Writes bench/serve.md and bench/serve.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODEL = REPO / "models" / "default.onnx"
MLSERVER_RUNTIME = '''
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceResponse


class OnnxModel(MLModel):
    """The few-line onnxruntime runtime MLServer's custom-runtime docs describe."""

    async def load(self) -> bool:
        self._session = ort.InferenceSession(self.settings.parameters.uri, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        return True

    async def predict(self, payload):
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32)
        out = self._session.run(None, {self._input: x})[0]
        return InferenceResponse(model_name=self.name, outputs=[NumpyCodec.encode_output("probability", out)])
'''


def body(rows: int, malformed: bool = False) -> bytes:
    """The same request for every server: one FP32 input 'input' of shape [rows, 1] (hours 0..9)."""
    data = [[float(i % 10)] for i in range(rows)]
    if malformed:
        data[rows // 2] = ["x"]  # a string where a number belongs: 400, the request as a whole
    return json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [rows, 1], "data": data}]}).encode()


def client(port: int, path: str, until: float, batch: int, malformed_every: int, seed: int) -> dict:
    """One keep-alive connection sending single rows and batches alternately until `until`; latencies in ms."""
    bodies = {"single": body(1), "batch": body(batch), "bad": body(batch if seed % 2 else 1, malformed=True)}
    result = {"single": [], "batch": [], "bad": [], "failed": 0, "rows": 0, "errors": [], "bad_statuses": {}}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = seed
    while time.monotonic() < until:
        kind = "bad" if malformed_every and i % malformed_every == 0 else ("batch" if i % 2 else "single")
        i += 1
        start = time.perf_counter()
        try:
            connection.request("POST", path, bodies[kind], {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as exc:
            result["failed"] += 1
            result["errors"].append(f"{type(exc).__name__}: {exc}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        took = (time.perf_counter() - start) * 1000
        if kind == "bad":  # what the server answers a malformed request is reported, not counted as a failure
            result["bad_statuses"][response.status] = result["bad_statuses"].get(response.status, 0) + 1
        elif response.status != 200:
            result["failed"] += 1
            result["errors"].append(f"{response.status}: {answer[:200]!r}")
            continue
        result[kind].append(took)
        if kind != "bad":
            result["rows"] += 1 if kind == "single" else batch
    connection.close()
    return result


def _process(args: tuple) -> dict:
    """A load process: `threads` clients as threads (the parent runs several processes, so one GIL is not the
    bottleneck of the load generator)."""
    port, path, until, batch, malformed_every, threads, first_seed = args
    results: list[dict] = []
    workers = [
        threading.Thread(target=lambda s=s: results.append(client(port, path, until, batch, malformed_every, s)))
        for s in range(first_seed, first_seed + threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return _merge(results)


def _merge(results: list[dict]) -> dict:
    merged = {"single": [], "batch": [], "bad": [], "failed": 0, "rows": 0, "errors": [], "bad_statuses": {}}
    for r in results:
        for status, count in r["bad_statuses"].items():
            merged["bad_statuses"][status] = merged["bad_statuses"].get(status, 0) + count
        for key in ("single", "batch", "bad", "errors"):
            merged[key] += r[key]
        merged["failed"] += r["failed"]
        merged["rows"] += r["rows"]
    return merged


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_kib(pids: list[int], field: str = "VmRSS") -> int:
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        total += int(match.group(1)) if match else 0
    return total


def _tree(pid: int) -> list[int]:
    """pid and its descendants (MLServer runs inference workers as child processes)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            children = []
        todo += [int(c) for c in children]
    return found


def load(port: int, path: str, pid: int, duration: float, clients: int, batch: int, malformed_every: int) -> dict:
    """`clients` keep-alive clients for `duration` seconds, in 4 processes; the server's RSS sampled meanwhile."""
    processes = 4
    until = time.monotonic() + duration
    samples, stop = [], threading.Event()

    def sample():
        while not stop.wait(0.25):
            samples.append(_rss_kib(_tree(pid)))

    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:  # forked before the sampler thread starts
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        jobs = [
            (port, path, until, batch, malformed_every, clients // processes, i * clients // processes)
            for i in range(processes)
        ]
        merged = _merge(pool.map(_process, jobs, chunksize=1))
        elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    return {
        "clients": clients,
        "duration_s": round(elapsed, 1),
        "requests": len(merged["single"]) + len(merged["batch"]) + len(merged["bad"]),
        "failed": merged["failed"],  # well-formed requests not answered 200, or a connection error
        "first_errors": merged["errors"][:5],
        "malformed_statuses": {str(k): v for k, v in sorted(merged["bad_statuses"].items())},
        "rows_per_s": round(merged["rows"] / elapsed),
        "single_p50_ms": _round(percentile(merged["single"], 0.5)),
        "single_p99_ms": _round(percentile(merged["single"], 0.99)),
        "batch_p50_ms": _round(percentile(merged["batch"], 0.5)),
        "batch_p99_ms": _round(percentile(merged["batch"], 0.99)),
        "rss_mib_first_last_max": [round(v / 1024, 1) for v in (samples[0], samples[-1], max(samples))]
        if samples
        else None,
    }


def latency(port: int, path: str, n: int) -> dict:
    """One client, one row per request, n requests on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    single = body(1)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        connection.request("POST", path, single, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        times.append((time.perf_counter() - start) * 1000)
    connection.close()
    return {"requests": n, "p50_ms": _round(percentile(times, 0.5)), "p99_ms": _round(percentile(times, 0.99))}


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def _wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before it was ready")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/v2/models/default/ready")  # MLServer is ready before its models are
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"no server ready on port {port} after {timeout:g} s")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def run_server(argv: list[str], env: dict | None = None) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen(
        [a.replace("{port}", str(port)) for a in argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    _wait_ready(port, proc)
    return proc, port


def measure(name: str, proc: subprocess.Popen, port: int, path: str, args) -> dict:
    print(f"{name}: one client, {args.latency_requests} single rows", file=sys.stderr)
    result = {"server": name, "latency": latency(port, path, args.latency_requests)}
    for label, every in (("load", 0), ("load_malformed", 10)):
        print(f"{name}: {args.clients} clients for {args.duration:g} s ({label})", file=sys.stderr)
        result[label] = load(port, path, proc.pid, args.duration, args.clients, args.batch, every)
    result["vmhwm_mib"] = round(_rss_kib(_tree(proc.pid), "VmHWM") / 1024, 1)
    result["exit_code"] = _stop(proc)
    return result


def mlserver_env(work: Path) -> Path | None:
    """A venv with MLServer 1.7 and onnxruntime (bench/.work/mlserver), made once; None if pip cannot make it."""
    env = work / "mlserver"
    python = env / "bin" / "python"
    if not (env / ".installed-uvloop").exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        done = subprocess.run(
            # uvloop 0.22 removed what MLServer 1.7's inference workers call (asyncio.get_event_loop() outside a
            # loop): with it every worker dies at start ("There is no current event loop") and no model loads
            [str(python), "-m", "pip", "install", "-q", "mlserver==1.7.*", "uvloop<0.22", "onnxruntime", "numpy"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(f"MLServer could not be installed: {done.stderr[-2000:]}", file=sys.stderr)
            return None
        (env / ".installed-uvloop").touch()
    return env


def mlserver_models(work: Path, port: int) -> Path:
    root = work / "mlserver-models"
    (root / "default").mkdir(parents=True, exist_ok=True)
    (root / "onnx_runtime.py").write_text(MLSERVER_RUNTIME)
    settings = {"http_port": port, "grpc_port": _free_port(), "metrics_port": _free_port(), "host": "127.0.0.1"}
    (root / "settings.json").write_text(json.dumps(settings))
    model = {"name": "default", "implementation": "onnx_runtime.OnnxModel", "parameters": {"uri": str(MODEL)}}
    (root / "default" / "model-settings.json").write_text(json.dumps(model))
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per load phase (default 30)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--latency-requests", type=int, default=2000)
    parser.add_argument("--no-mlserver", action="store_true", help="measure edge-predict serve only")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    exe = str(Path(sys.executable).parent / "edge-predict")
    results = {
        "command": "make bench-serve  # = .venv/bin/python bench/serve_load.py " + " ".join(argv or sys.argv[1:]),
        "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpus": os.cpu_count(),
        "loadavg_before": os.getloadavg()[0],
        "servers": [],
    }
    proc, port = run_server([exe, "serve", "--port", "{port}", "--model", str(MODEL), "--name", "default"])
    results["servers"].append(measure("edge-predict serve", proc, port, "/v2/models/default/infer", args))
    if not args.no_mlserver:
        env = mlserver_env(work)
        if env is not None:
            port = _free_port()
            root = mlserver_models(work, port)
            proc = subprocess.Popen(
                [str(env / "bin" / "mlserver"), "start", str(root)],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            _wait_ready(port, proc)
            results["servers"].append(
                measure("MLServer 1.7 (onnxruntime runtime)", proc, port, "/v2/models/default/infer", args)
            )
    results["loadavg_after"] = os.getloadavg()[0]
    (args.out / "serve.json").write_text(json.dumps(results, indent=1) + "\n")
    (args.out / "serve.md").write_text(report(results))
    print(report(results))
    ours = results["servers"][0]
    clean = ours["load"]["failed"] == ours["load_malformed"]["failed"] == 0
    return 0 if clean and set(ours["load_malformed"]["malformed_statuses"]) == {"400"} else 1


def report(results: dict) -> str:
    lines = [
        "# edge-predict serve under load (`make bench-serve`)",
        "",
        f"{results['started_utc']} UTC, {results['cpus']} CPUs shared with the load generator (4 processes), load average "
        f"{results['loadavg_before']:.1f} before, {results['loadavg_after']:.1f} after. `{results['command']}`.",
        "Every request: one FP32 input `input` of shape [n, 1], JSON; single rows and 1,000-row batches alternating "
        "on each keep-alive connection; malformed: a tenth of the requests carry a string in one row (400 expected).",
        "",
        "| server | 1 client p50 / p99 ms | phase | requests | failed | malformed answered | rows/s | single p50 / p99 ms "
        "| batch p50 / p99 ms | RSS MiB first / last / max |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in results["servers"]:
        for phase in ("load", "load_malformed"):
            p = s[phase]
            rss = " / ".join(map(str, p["rss_mib_first_last_max"] or []))
            bad = ", ".join(f"{n} x {status}" for status, n in p["malformed_statuses"].items())
            lat = f"{s['latency']['p50_ms']} / {s['latency']['p99_ms']}" if phase == "load" else ""
            lines.append(
                f"| {s['server']} | {lat} | {phase} | {p['requests']} | {p['failed']} | {bad or '-'} | {p['rows_per_s']:,} "
                f"| {p['single_p50_ms']} / {p['single_p99_ms']} | {p['batch_p50_ms']} / {p['batch_p99_ms']} | {rss} |"
            )
        lines.append(
            f"| {s['server']} | peak RSS (VmHWM, all processes) {s['vmhwm_mib']} MiB; exit {s['exit_code']} | | | | | | | | |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
