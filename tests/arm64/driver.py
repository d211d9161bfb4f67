"""make test-arm64's checks: the wheel on emulated linux/aarch64 scores like torch, verifies, and fails well.

Adding a model is one MODELS entry (its file and its torch reference); adding an onnxruntime is one RUNTIMES
entry. Exit 0 when every check passes, 1 when one fails, 77 when the device cannot be set up here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

# device, references; parity; the bench's wheel builder
sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1]), str(Path(__file__).parents[2] / "bench")]

import checks  # noqa: E402
import material  # noqa: E402
import references  # noqa: E402
from device import REPO, CannotRun, Device, Runtime, build_wheel  # noqa: E402

# make test-arm64 (CI) runs the first runtime and the models not marked full; make test-arm64-full runs all.
FULL = os.environ.get("ARM64_FULL") == "1"
BASE = ("numpy==2.4.6", "click==8.5.1")
RUNTIMES = [
    # What pip gives a device today; it needs the aarch64 /proc/cpuinfo a device (or qemu >= 8.1) has.
    Runtime("onnxruntime-1.32.0", ("onnxruntime==1.32.0", *BASE), arm_cpuinfo=True),
    # The newest onnxruntime that starts under Debian 12's qemu 7.2 as it is.
    Runtime("onnxruntime-1.27.0", ("onnxruntime==1.27.0", *BASE)),
]


@dataclass(frozen=True)
class Model:
    """A model file (committed, or made by edge-train on the host) and its torch reference."""

    name: str
    reference: Callable[..., references.Expected]  # (model bytes, manifest, grid) -> what torch computes
    path: str | None = None  # relative to the repository; or else made on the host by
    train: tuple[str, ...] = ()  # edge-train with these arguments (and --out)
    table: Callable[[Path], Path] | None = None  # (work dir) -> the --data table edge-train reads
    packaged: bool = False  # the wheel's own model: scored without --model, and through Predictor.default()
    full: bool = False  # only in make test-arm64-full


MODELS = [  # one per task, a mixed table, a deeper binary one; the bad-input and bad-model cases run on the first in CI
    Model("default", references.logistic, path="models/default.onnx", packaged=True),
    # Eight features through a standardization and three Linear+sigmoid layers: sums of many terms.
    Model(
        "diabetes-mlp",
        references.graph,
        train=(
            "--data",
            "tests/data/diabetes.csv.gz",
            "--model",
            "mlp",
            "--standardize",
            "--lr",
            "1.0",
            "--epochs",
            "300",
        ),
        full=True,
    ),
    # A mixed table (issue 24): island and sex as text, gaps in the measurements and in sex, imputed in the graph.
    Model(
        "penguins",
        references.mixed,
        table=material.penguins,
        train=("--label", "species", "--standardize", "--lr", "0.01", "--epochs", "1000", "--model-version", "1"),
    ),
    Model(
        "iris",
        references.graph,
        train=(
            "--data",
            "tests/data/iris.csv",
            "--task",
            "multiclass",
            "--standardize",
            "--lr",
            "0.5",
            "--epochs",
            "300",
        ),
    ),
    Model(
        "progression",
        references.graph,
        train=(
            "--data",
            "tests/data/progression.csv.gz",
            "--task",
            "regression",
            "--standardize",
            "--lr",
            "0.1",
            "--epochs",
            "300",
        ),
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--sysroot", type=Path, required=True)
    parser.add_argument("--qemu-arm", help="with --armhf-sysroot: check what pip says on 32-bit ARM")
    parser.add_argument("--armhf-sysroot", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    cache = args.cache.resolve()
    report = checks.Report()
    try:
        wheel = build_wheel(cache / "build")
        models = [model for model in MODELS if FULL or not model.full]
        prepared = [material.prepare(model, REPO, cache / "models" / model.name) for model in models]
        for runtime in RUNTIMES if FULL else RUNTIMES[:1]:
            began = time.perf_counter()
            print(f"arm64: {runtime.name}: installing the wheel for linux/aarch64 and checking", file=sys.stderr)
            device = Device.install(runtime, wheel, args.qemu, args.sysroot.resolve(), cache)
            checks.runtime_cases(device, runtime, report)
            report.figure(runtime.name, "-", "time", f"{time.perf_counter() - began:.0f} s")
            for case in prepared:
                began = time.perf_counter()
                try:
                    checks.model_cases(device, runtime, case, report, errors=FULL or case is prepared[0])
                except Exception as exc:  # a bug here or an output the checks cannot read: fail, go on
                    traceback.print_exc()
                    report.add(runtime.name, case.model.name, "checks ran to the end", False, repr(exc))
                report.figure(runtime.name, case.model.name, "time", f"{time.perf_counter() - began:.0f} s")
        if args.armhf_sysroot:
            armv7l = Device.pip_only(args.qemu_arm, args.armhf_sysroot.resolve(), cache / "work" / "armv7l")
            checks.armv7(armv7l, wheel, report)
    except CannotRun as exc:
        print(f"arm64: skipped: {exc}", file=sys.stderr)
        return 0 if os.environ.get("ARM64_ALLOW_SKIP") == "1" else 77
    report.print(time.perf_counter() - start)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
