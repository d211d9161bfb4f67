"""pip install on 32-bit ARM: onnxruntime is a dependency only where it has wheels (environment markers); a 32-bit
userland whose kernel says aarch64 cannot be told apart by a marker, and pip then asks for onnxruntime (measured
here with pip's own --platform), which is why docs/install.md says pip install --no-deps there."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement

from helpers import CLEAN_ENV, REPO

DEPENDENCIES = [Requirement(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]]


def needed(machine: str) -> list[str]:
    env = {"platform_machine": machine, "sys_platform": "linux", "python_version": "3.11"}
    return sorted(r.name for r in DEPENDENCIES if r.marker is None or r.marker.evaluate(env))


@pytest.mark.parametrize("machine", ["armv7l", "armv6l", "armv8l"])
def test_32_bit_arm_needs_no_onnxruntime(machine):
    assert needed(machine) == ["click", "numpy"]


@pytest.mark.parametrize("machine", ["x86_64", "aarch64", "AMD64", "arm64"])
def test_every_other_machine_gets_onnxruntime(machine):
    assert needed(machine) == ["click", "numpy", "onnxruntime"]


@pytest.mark.slow
def test_pip_for_armv7l_wheels_on_a_machine_not_named_armv7l_asks_for_onnxruntime(tmp_path):
    """pip evaluates markers on the machine it runs on (here x86_64, as a 32-bit userland on an aarch64 kernel says
    aarch64) but picks wheels for the tags it is given: it asks for onnxruntime, which has no armv7l wheel."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-build-isolation", "--no-index", "--find-links",
         tmp_path, "--platform", "linux_armv7l", "--only-binary=:all:", "--python-version", "3.11", "--target",
         tmp_path / "t", "--no-deps", "onnxruntime>=1.18"],
        env=CLEAN_ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 1 and "No matching distribution found for onnxruntime" in done.stderr
