"""Time and peak memory of `edge-predict verify` on each hostile file (tests/helpers/hostile.py), at full size.

    python bench/hostile.py [EDGE_PREDICT_EXECUTABLE] [--timeout S]

Each run is a subprocess; its peak RSS comes from wait4, a run still going after the timeout is killed (shown as
"> S s"). Prints a Markdown table. Run with another checkout's edge-predict to get the "before" figures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import CLEAN_ENV  # noqa: E402
from helpers.hostile import CASES, many_nodes, tiny_fields  # noqa: E402

FULL = {"many_nodes": lambda: many_nodes(1_000_000), "tiny_fields": lambda: tiny_fields(250 * 2**20)}
ADDRESS_SPACE = 8 * 2**30  # so that a case that would take the machine's memory fails instead


def measure(cli: str, path: Path, timeout: float) -> tuple[str, str, str]:
    def limit():
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    start = time.perf_counter()
    proc = subprocess.Popen(
        [cli, "verify", "--model", str(path)],
        env=CLEAN_ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit,
        start_new_session=True,
    )
    killed = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace").strip().splitlines()
    shown = f"> {timeout:.0f} s (killed)" if killed else f"{seconds:.2f} s"
    what = "killed" if killed else f"exit {os.waitstatus_to_exitcode(status)}: " + (stderr[-1][:90] if stderr else "")
    return shown, f"{usage.ru_maxrss / 1024:.0f} MiB", what


def main() -> None:
    args = sys.argv[1:]
    timeout = 30.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i : i + 2]
    cli = args[0] if args else os.path.join(os.path.dirname(sys.executable), "edge-predict")
    print(f"| case | time | peak RSS | outcome ({cli}) |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        for name, (build, _) in CASES.items():
            path = Path(work) / f"{name}.onnx"
            path.write_bytes(FULL.get(name, build)())
            print(f"| {name} | " + " | ".join(measure(cli, path, timeout)) + " |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
