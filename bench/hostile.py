"""Time and peak memory of `edge-predict verify` on each hostile file (tests/helpers/hostile.py), at full size.

    python bench/hostile.py [EDGE_PREDICT_EXECUTABLE] [--timeout S]

Each run is a subprocess under an 8 GiB address-space limit; its peak RSS comes from wait4 (helpers.hostile.measure),
a run still going after the timeout is killed (shown as "> S s"). Prints a Markdown table. Run with another checkout's edge-predict to get the "before" figures.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import CLEAN_ENV  # noqa: E402
from helpers.hostile import CASES, many_nodes, measure, tiny_fields  # noqa: E402

FULL = {"many_nodes": lambda: many_nodes(1_000_000), "tiny_fields": lambda: tiny_fields(250 * 2**20)}
ADDRESS_SPACE = 8 * 2**30  # so that a case that would take the machine's memory fails instead


def row(cli: str, path: Path, timeout: float) -> str:
    seconds, peak, code, stderr = measure(
        [cli, "verify", "--model", path], timeout, env=CLEAN_ENV, address_space=ADDRESS_SPACE
    )
    lines = stderr.strip().splitlines()
    shown = f"> {timeout:.0f} s (killed)" if code is None else f"{seconds:.2f} s"
    what = "killed" if code is None else f"exit {code}: " + (lines[-1][:100].replace("|", "/") if lines else "")
    return f"{shown} | {peak / 2**20:.0f} MiB | {what}"


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
            print(f"| {name} | {row(cli, path, timeout)} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
