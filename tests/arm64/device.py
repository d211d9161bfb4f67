"""The emulated aarch64 device: the built wheel pip-installed for linux/aarch64, run under qemu-user."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Every wheel tag pip accepts on the sysroot's glibc 2.36; given one --platform, pip takes that tag alone.
GLIBC_MINOR = 36
PLATFORM = [
    *(arg for minor in range(GLIBC_MINOR, 16, -1) for arg in ("--platform", f"manylinux_2_{minor}_aarch64")),
    "--platform",
    "manylinux2014_aarch64",
    "--only-binary=:all:",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
]

# What qemu >= 8.1 shows an aarch64 guest as /proc/cpuinfo for its default CPU (measured with Debian 13's
# qemu 10.0). qemu 7.2 shows the host's x86 file instead, on which onnxruntime >= 1.28 crashes (docs/arm64.md).
QEMU_81_CPUINFO = """processor\t: {n}
model name\t: ARMv8 Processor rev 0 (v8l)
BogoMIPS\t: 100.00
Features\t: fp asimd aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop \
sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm sb paca pacg dcpodp sve2 sveaes svepmull \
svebitperm svesha3 svesm4 flagm2 frint svei8mm svef32mm svef64mm svebf16 i8mm bf16 rng bti mte mte3 sme \
smei16i64 smef64f64 smei8i32 smef16f32 smeb16f32 smef32f32 smefa64 mops hbc
CPU implementer\t: 0x00
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0x051
CPU revision\t: 0

"""

# onnxruntime prints this on every start when /proc/cpuinfo names no CPU vendor, as under any qemu; a real
# device's file names one. It is the emulator's line, not edge-predict's, so the one-line checks drop it.
EMULATOR_NOISE = "onnxruntime cpuid_info warning: Unknown CPU vendor. cpuinfo_vendor value: 0"


# How this machine reaches PyPI (a mirror, a proxy, its certificate authority), for pip inside a guest.
_NETWORK = (
    "PIP_INDEX_URL",
    "PIP_CERT",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
)


class CannotRun(Exception):
    """The machine cannot provide the device (no network to PyPI, no wheel for aarch64): a skip, not a failure."""


@dataclass(frozen=True)
class Runtime:
    """One aarch64 install: exact pins, and whether the guest needs an aarch64 /proc/cpuinfo (see above)."""

    name: str
    pins: tuple[str, ...]
    arm_cpuinfo: bool = False


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def errors(self) -> list[str]:
        """stderr's lines without the emulator's own."""
        return [line for line in self.stderr.splitlines() if line != EMULATOR_NOISE]


def _pip(*args, log: Path) -> bool:
    with open(log, "a") as out:
        return (
            subprocess.run(
                [sys.executable, "-m", "pip", *map(str, args)], stdout=out, stderr=out, stdin=subprocess.DEVNULL
            ).returncode
            == 0
        )


def build_wheel(work: Path) -> Path:
    """The project's wheel, built as `make bench` builds it (bench/envs.py, on sys.path via driver.py)."""
    import envs

    try:
        return envs.build_wheel(work)
    except subprocess.CalledProcessError as exc:
        raise CannotRun(
            f"pip wheel could not build the project: {exc.stderr.decode(errors='replace')[-300:]}"
        ) from None


class Device:
    """An aarch64 Python (a Debian sysroot under qemu) with the wheel installed by pip --target."""

    def __init__(self, qemu: str, sysroot: Path, target: Path, home: Path):
        self.qemu, self.sysroot, self.target, self.home = qemu, sysroot, target, home

    @classmethod
    def install(cls, runtime: Runtime, wheel: Path, qemu: str, sysroot: Path, cache: Path) -> "Device":
        """pip-install `wheel` for linux/aarch64 with `runtime`'s pins; downloads are kept in `cache`."""
        wheels, work = cache / "wheels" / runtime.name, cache / "work" / runtime.name
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        pins = work / "pins.txt"
        pins.write_text("\n".join(runtime.pins) + "\n")
        log = work / "pip.log"
        install = [
            "install",
            "-q",
            "--no-index",
            "--find-links",
            wheels,
            "--target",
            work / "site",
            *PLATFORM,
            "-c",
            pins,
            wheel,
        ]
        if not _pip(*install, log=log):  # first run, or the wheel's dependencies changed: fetch from PyPI
            if not _pip("download", "-q", "-d", wheels, *PLATFORM, "-c", pins, wheel, log=log):
                raise CannotRun(f"pip download for aarch64 failed ({log})")
            if not _pip(*install, log=log):
                raise RuntimeError(f"pip install --target for aarch64 failed ({log})")
        if runtime.arm_cpuinfo:
            sysroot = _with_cpuinfo(sysroot, work / "sysroot")
        (work / "home").mkdir()
        return cls(qemu, sysroot, work / "site", work / "home")

    @classmethod
    def pip_only(cls, qemu: str, sysroot: Path, work: Path) -> "Device":
        """A bare Python of another architecture with only the host's pip (pure Python) on its path."""
        import pip

        shutil.rmtree(work, ignore_errors=True)
        (work / "home").mkdir(parents=True)
        (work / "site").mkdir()
        (work / "site" / "pip").symlink_to(Path(pip.__file__).parent)
        return cls(qemu, sysroot, work / "site", work / "home")

    def python(self, *args, timeout: float = 600) -> Result:
        """Run the guest's python3.11 with the installed packages on its path, as a device's shell would."""
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "PYTHONPATH": str(self.target),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_CACHE_DIR": "1",
        }
        env.update({k: v for k, v in os.environ.items() if k in _NETWORK})
        start = time.perf_counter()
        done = subprocess.run(
            [self.qemu, "-L", self.sysroot, self.sysroot / "usr/bin/python3.11", *map(str, args)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(done.returncode, done.stdout, done.stderr, time.perf_counter() - start)

    def edge_predict(self, *args) -> Result:
        """The installed console script (its shebang names the host's python, so the guest's runs it)."""
        return self.python(self.target / "bin" / "edge-predict", *args)


def _with_cpuinfo(sysroot: Path, out: Path) -> Path:
    """A sysroot of symlinks to `sysroot` plus proc/cpuinfo: qemu -L serves that file for /proc/cpuinfo."""
    out.mkdir()
    for entry in sysroot.resolve().iterdir():
        (out / entry.name).symlink_to(entry)
    (out / "proc").mkdir()
    (out / "proc" / "cpuinfo").write_text("".join(QEMU_81_CPUINFO.format(n=n) for n in range(os.cpu_count() or 1)))
    return out
