"""Workload 7 (signed models): what the `signed` extra costs on a device: disk, and cold start with a key."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from envs import site_packages, tree_bytes
from timing import interleave, run_child, summary

WORKLOAD = "7. signed models"


def signed_env(work: Path, wheel: Path) -> Path:
    """A venv with the wheel and its `signed` extra (no torch, no pip); reused while the wheel is unchanged."""
    env = work / f"signed-{hashlib.sha256(wheel.read_bytes()).hexdigest()[:12]}"
    if not (env / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", "--without-pip", str(env)], check=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q", f"{wheel}[signed]"],
            check=True,
            capture_output=True,
        )
        (env / ".ready").touch()
    for stale in work.glob("signed-*"):
        if stale != env:
            shutil.rmtree(stale)
    return env


def signed_model(model: Path, work: Path) -> tuple[Path, Path]:
    """A copy of `model` signed with a fresh P-256 key, and the public key's PEM file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from edge_predict.signing import files as sigfiles

    from edge_predict.signing import _rules as signing

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = work / "signing-public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    target, data = work / "signed" / "model.onnx", model.read_bytes()
    sigfiles.write_signed(target, data, signing.sign(data, pem, target.name))
    return target, public


def rows(work: Path, wheel: Path, device: Path, model: Path, reps: int) -> list[dict]:
    """Install size of the extra; `edge-predict predict` cold, without a key and with --public-key."""
    env = signed_env(work, wheel)
    extra = (tree_bytes(site_packages(env)) - tree_bytes(site_packages(device))) / 2**20
    signed, public = signed_model(model, work)
    exe, py = str(env / "bin" / "edge-predict"), str(env / "bin" / "python")
    commands = {
        "predict 7, no key (signed extra installed)": [exe, "predict", "--model", str(signed), "7"],
        "predict 7, --public-key (verifies first)": [
            exe,
            "predict",
            "--model",
            str(signed),
            "--public-key",
            str(public),
            "7",
        ],
        "python -c 'import cryptography ec'": [py, "-c", "from cryptography.hazmat.primitives.asymmetric import ec"],
    }
    reference = next(iter(commands))
    for cmd in commands.values():  # one unmeasured run each: page cache and .pyc files warm for all alike
        run_child(cmd, os.devnull)
    samples = interleave(
        {name: (lambda cmd=cmd: run_child(cmd, os.devnull)[0]) for name, cmd in commands.items()}, reps
    )
    out = [
        {
            "workload": WORKLOAD,
            "competitor": name,
            "unit": "ms",
            "median": s["median"] * 1e3,
            "min": s["min"] * 1e3,
            "ratio": s["ratio"],
            "reference": reference,
            "n": s["n"],
            "samples": [v * 1e3 for v in samples[name]],
        }
        for name, s in summary(samples, reference).items()
    ]
    size = {
        "workload": WORKLOAD,
        "competitor": "install size of the signed extra (cryptography, cffi, pycparser)",
        "unit": "MiB",
        "median": extra,
        "min": extra,
        "ratio": None,
        "reference": reference,
        "n": 1,
    }
    return [size, *out]
