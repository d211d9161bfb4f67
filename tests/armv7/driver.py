"""make test-armv7's checks: the wheel on emulated 32-bit ARM (Debian 12 armhf python3, numpy and click from Debian)
scores on the numpy engine as torch scores on x86-64, verifies, and fails well; pip there asks for no onnxruntime.

The checks and the models are test-arm64's (tests/arm64: checks.py, material.py, driver.MODELS, one per task);
only the device differs. Exit 0 when every check passes, 1 when one fails, 77 when it cannot be set up here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

ARM64 = Path(__file__).resolve().parents[1] / "arm64"
sys.path[:0] = [str(ARM64), str(ARM64.parent), str(ARM64.parents[1] / "bench")]

import checks  # noqa: E402
import material  # noqa: E402
from device import REPO, CannotRun, Device, Runtime, build_wheel  # noqa: E402
from driver import MODELS  # noqa: E402

RUNTIME = Runtime("armv7l-numpy", ())
# The host's error lines are the numpy engine's too (they name no engine, but a golden difference is the engine's)
os.environ["EDGE_PREDICT_ENGINE"] = "numpy"


def install(wheel: Path, qemu: str, sysroot: Path, work: Path) -> Device:
    """The wheel pip-installed with --no-deps into a target folder, as a device whose numpy and click are Debian's
    does it (pip install --no-deps edge-predict; docs/install.md): a pure-Python wheel, so the host's pip can."""
    shutil.rmtree(work, ignore_errors=True)
    (work / "home").mkdir(parents=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", work / "site", wheel],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install --no-deps --target failed: {done.stderr[-300:]}")
    import pip  # pure Python: the guest runs the host's pip for the dependency check below

    (work / "site" / "pip").symlink_to(Path(pip.__file__).parent)
    device = Device(qemu, sysroot, work / "site", work / "home")
    device.machine = "armv7l"
    return device


# Run by the guest: the wheel's dependencies as pip evaluates them on this machine (its environment markers).
_REQUIRES = """
import json, importlib.metadata, platform
from pip._vendor.packaging.requirements import Requirement
wanted = [Requirement(r) for r in importlib.metadata.requires("edge-predict")]
print(json.dumps({"machine": platform.machine(), "needs": sorted(r.name for r in wanted if r.marker is None or
    r.marker.evaluate({"extra": ""})), "maxsize": __import__("sys").maxsize}))
"""

_ENGINE = """
import sys, json
from edge_predict import Predictor
p = Predictor.default()
print(json.dumps({"engine": p.engine, "onnxruntime": "onnxruntime" in sys.modules, "pass": str(p.predict([[7.0]])[0])}))
"""


def device_cases(device: Device, report) -> None:
    """Model-independent: the interpreter is 32-bit armv7l, its dependencies exclude onnxruntime, the numpy engine is
    chosen by itself, usage errors and a missing file exit as documented."""
    import json

    name = RUNTIME.name
    done = device.python("-c", _REQUIRES)
    got = json.loads(done.stdout) if done.code == 0 else {}
    report.add(
        name,
        "-",
        "pip's dependencies on armv7l",
        got.get("machine") == "armv7l" and got.get("maxsize") == 2**31 - 1 and got.get("needs") == ["click", "numpy"],
        done.stdout.strip() or done.errors[-1:],
    )
    done = device.python("-c", _ENGINE)
    got = json.loads(done.stdout) if done.code == 0 else {}
    report.add(
        name,
        "-",
        "numpy engine chosen",
        got == {"engine": "numpy", "onnxruntime": False, "pass": "pass"},
        f"{done.stdout.strip() or done.errors[-1:]} ({done.seconds:.1f} s)",
    )
    start = device.edge_predict("predict", "7")
    report.add(name, "-", "predict 7", start.code == 0 and "pass" in start.stdout, start.stdout.strip()[-40:])
    report.notes.append(f"armv7l: edge-predict predict 7 took {start.seconds:.1f} s under qemu-arm (emulated)")
    checks._error_case(device, name, "-", "unknown --format", ["predict", "-f", "xml", "1"], 2, report)
    checks._error_case(device, name, "-", "missing model", ["verify", "-m", "/nonexistent/model.onnx"], 1, report)
    done = device.edge_predict("predict", "--engine", "onnxruntime", "7")  # the host has it: no line to compare
    said = "edge-predict: error: the onnxruntime engine is not installed here (ModuleNotFoundError"
    report.add(
        name,
        "-",
        "--engine onnxruntime refused",
        done.code == 1 and len(done.errors) == 1 and done.errors[0].startswith(said),
        f"exit {done.code}: {done.errors[:1]}",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--sysroot", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    args = parser.parse_args()
    start = time.perf_counter()
    cache = args.cache.resolve()
    report = checks.Report()
    try:
        wheel = build_wheel(cache / "build")
        models = [model for model in MODELS if not model.full]
        prepared = [material.prepare(model, REPO, cache / "models" / model.name) for model in models]
        print(
            "armv7: installing the wheel beside Debian's armhf python3, numpy and click, and checking", file=sys.stderr
        )
        device = install(wheel, args.qemu, args.sysroot.resolve(), cache / "work" / RUNTIME.name)
        device_cases(device, report)
        for case in prepared:
            began = time.perf_counter()
            try:
                checks.model_cases(device, RUNTIME, case, report, errors=case is prepared[0])
            except Exception as exc:  # a bug here or an output the checks cannot read: fail, go on
                traceback.print_exc()
                report.add(RUNTIME.name, case.model.name, "checks ran to the end", False, repr(exc))
            report.figure(RUNTIME.name, case.model.name, "time", f"{time.perf_counter() - began:.0f} s")
    except CannotRun as exc:
        print(f"armv7: skipped: {exc}", file=sys.stderr)
        return 0 if os.environ.get("ARMV7_ALLOW_SKIP") == "1" else 77
    report.print(time.perf_counter() - start)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
