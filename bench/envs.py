"""What the benchmark runs on: the wheel, a device environment without torch, weights and input files."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def build_wheel(work: Path) -> Path:
    """Build the edge-predict wheel from a copy of this checkout, so the build writes nothing into it."""
    src, dist = work / "src", work / "dist"
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(dist, ignore_errors=True)
    shutil.copytree(
        REPO,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", ".work"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(src), "-w", str(dist)],
        check=True,
        capture_output=True,
    )
    return next(dist.glob("edge_predict-*.whl"))


def tract_env(work: Path) -> Path | None:
    """A venv with tract and numpy only, the peer's own device install (x86-64 wheels only); None where pip
    cannot install it. Made once."""
    env = work / "tract"
    if not (env / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(env)], check=True)
        installed = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q", "tract", "numpy"],
            capture_output=True,
        )
        if installed.returncode:
            return None
        (env / ".ready").touch()
    return env


def device_env(work: Path, wheel: Path) -> Path:
    """A venv with only the wheel and its dependencies (no torch, no pip); reused while the wheel is unchanged."""
    with zipfile.ZipFile(wheel) as archive:  # the contents, not the zip: its timestamps change every build
        digest = hashlib.sha256(
            b"".join(archive.read(name) for name in sorted(archive.namelist()) if not name.endswith("RECORD"))
        ).hexdigest()[:12]
    env = work / f"device-{digest}"
    python = env / "bin" / "python"
    if not (env / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(env)], check=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)],
            check=True,
            capture_output=True,
        )
        (env / ".ready").touch()
    for stale in work.glob("device-*"):  # keep one device env, not one per wheel ever built
        if stale != env:
            shutil.rmtree(stale)
    return env


def site_packages(env: Path) -> Path:
    return next((env / "lib").glob("python3*/site-packages"))


def tree_bytes(path: Path) -> int:
    """Total size of the files under `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def installed_closure_bytes(*roots: str) -> tuple[int, list[str]]:
    """Size of the installed files of `roots` and everything they require (here, in this interpreter)."""
    from packaging.requirements import Requirement

    seen, todo, total = set(), list(roots), 0
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        total += sum(os.path.getsize(f.locate()) for f in dist.files or [] if os.path.isfile(f.locate()))
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return total, sorted(seen)


def torch_weights(model_path: Path, work: Path) -> Path:
    """The default model's weights as a torch state_dict, read from the ONNX initializers."""
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(model_path)).graph
    tensors = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    gemm = next(n for n in graph.node if n.op_type == "Gemm")
    weight, bias = tensors[gemm.input[1]], tensors[gemm.input[2]]
    out = work / "lecture_state_dict.pt"
    torch.save(
        {
            "0.weight": torch.from_numpy(weight.reshape(1, -1).copy()),
            "0.bias": torch.from_numpy(bias.reshape(1).copy()),
        },
        out,
    )
    return out


def hours_file(work: Path, lines: int) -> Path:
    """A CSV of `lines` samples, header 'hours', values 0.00..12.00 with two decimals; made once."""
    path = work / f"hours-{lines}.csv"
    if not path.exists():
        rng = np.random.default_rng(lines)
        cents = rng.integers(0, 1201, lines)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as out:
            out.write("hours\n")
            for start in range(0, lines, 1_000_000):
                part = cents[start : start + 1_000_000].tolist()
                out.write("\n".join(f"{c // 100}.{c % 100:02d}" for c in part) + "\n")
        tmp.replace(path)
    return path


def footprint(env: Path, wheel: Path) -> list[dict]:
    """Workload 5: the device env's site-packages vs torch and what it requires (+ numpy), and the wheel."""
    device = tree_bytes(site_packages(env)) / 2**20
    torch_bytes, _ = installed_closure_bytes("torch", "numpy")
    torch_env = torch_bytes / 2**20
    row = {
        "workload": "5. footprint",
        "unit": "MiB",
        "n": 1,
        "reference": "torch env: torch + its requirements + numpy",
    }
    return [
        {
            **row,
            "competitor": "device env site-packages (wheel, no torch)",
            "median": device,
            "min": device,
            "ratio": device / torch_env,
        },
        {**row, "competitor": row["reference"], "median": torch_env, "min": torch_env, "ratio": 1.0},
        {
            **row,
            "competitor": f"wheel {wheel.name}",
            "unit": "KiB",
            "median": wheel.stat().st_size / 1024,
            "min": wheel.stat().st_size / 1024,
            "ratio": None,
        },
    ]
