"""A model and its signature change together: SIGKILL at each rename, or a writer between the device's reads."""

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_predict import signing

from edge_predict.signing import files as sigfiles
from edge_predict.errors import ModelError

OLD, NEW = b"old model " * 50, b"new model " * 60  # signing never parses a model: any bytes will do

pytestmark = pytest.mark.slow  # races writer processes

# Replaces the model at argv[1] by argv[2]'s bytes, signed with argv[3], and SIGKILLs itself just before or
# just after the N-th os.replace (argv[4], argv[5]): a deterministic fault point, not a timer.
WRITER = r"""
import os, signal, sys
from pathlib import Path
from edge_predict import signing
from edge_predict.signing import files as sigfiles

target, model, key, when, n = sys.argv[1], Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes(), sys.argv[4], int(sys.argv[5])
replace, calls = os.replace, [0]
def replace_then_maybe_die(src, dst):
    calls[0] += 1
    if calls[0] == n and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    replace(src, dst)
    if calls[0] == n and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace_then_maybe_die
sigfiles.write_signed(target, model, signing.sign(model, key, "model.onnx"))
print(calls[0])
"""


@pytest.fixture(scope="module")
def keys():
    private = ec.generate_private_key(ec.SECP256R1())
    return (
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _install_old(tmp_path, keys) -> Path:
    target = tmp_path / "model.onnx"
    sigfiles.write_signed(target, OLD, signing.sign(OLD, keys[0], "model.onnx"))
    return target


def _write_new(tmp_path, target, keys, when, n):
    (tmp_path / "new.bin").write_bytes(NEW)
    (tmp_path / "key.pem").write_bytes(keys[0])
    return subprocess.run(
        [sys.executable, "-c", WRITER, str(target), str(tmp_path / "new.bin"), str(tmp_path / "key.pem"), when, str(n)],
        capture_output=True,
        text=True,
    )


def test_a_whole_write_renames_three_times_and_leaves_one_pair(tmp_path, keys):
    target = _install_old(tmp_path, keys)
    done = _write_new(tmp_path, target, keys, "never", 0)
    assert done.returncode == 0 and done.stdout.strip() == "3", done.stderr
    assert sigfiles.read_verified(target, keys[1], _read)[0] == NEW
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("model"))
    assert left == ["model.onnx", "model.onnx.lock", "model.onnx.sig"]  # the writers' lock file stays (signing.md)


@pytest.mark.parametrize(
    "when, n, expected",
    [
        ("before", 1, OLD),
        ("after", 1, OLD),  # PATH.sig.new written: the old pair is untouched
        ("before", 2, OLD),
        ("after", 2, NEW),  # the new model is in place, signed by PATH.sig.new
        ("before", 3, NEW),
        ("after", 3, NEW),  # PATH.sig.new renamed over PATH.sig
    ],
)
def test_sigkill_at_each_rename_leaves_a_pair_the_device_accepts(tmp_path, keys, when, n, expected):
    target = _install_old(tmp_path, keys)
    killed = _write_new(tmp_path, target, keys, when, n)
    assert killed.returncode == -signal.SIGKILL
    data, info = sigfiles.read_verified(target, keys[1], _read)
    assert data == expected and data == target.read_bytes()
    assert info.sha256 == hashlib.sha256(expected).hexdigest()
    # the next write (here: the old model again) leaves one clean pair
    sigfiles.write_signed(target, OLD, signing.sign(OLD, keys[0], "model.onnx"))
    assert sigfiles.read_verified(target, keys[1], _read)[0] == OLD
    assert not Path(sigfiles.pending_path(str(target))).exists()


def test_a_writer_between_the_devices_two_reads_makes_it_read_again(tmp_path, keys):
    target = _install_old(tmp_path, keys)
    reads = []

    def read_then_let_a_writer_finish(path):
        data = _read(path)
        if not reads:  # the device holds the old model; the new model and its signature land now
            sigfiles.write_signed(target, NEW, signing.sign(NEW, keys[0], "model.onnx"))
        reads.append(data)
        return data

    data, _ = sigfiles.read_verified(target, keys[1], read_then_let_a_writer_finish)
    assert reads == [OLD, NEW] and data == NEW


def test_a_symlinked_release_is_resolved_once(tmp_path, keys):
    for name, model in (("r1", OLD), ("r2", NEW)):
        sigfiles.write_signed(tmp_path / name / "model.onnx", model, signing.sign(model, keys[0], "model.onnx"))
    current = tmp_path / "current"
    current.symlink_to("r1")

    def read_then_swap_release(path):
        data = _read(path)
        tmp = tmp_path / "current.tmp"
        tmp.symlink_to("r2")
        os.replace(tmp, current)  # a deploy swaps `current` between the model read and the signature read
        return data

    data, _ = sigfiles.read_verified(current / "model.onnx", keys[1], read_then_swap_release)
    assert data == OLD  # the signature came from r1 too: resolved once


def test_a_mismatch_that_lasts_is_refused(tmp_path, keys):
    target = _install_old(tmp_path, keys)
    target.write_bytes(NEW)  # replaced by hand, no signature
    with pytest.raises(ModelError, match="its bytes do not match its signature"):
        sigfiles.read_verified(target, keys[1], _read)


def test_an_unsigned_model_is_refused_after_one_read(tmp_path, keys):
    target = tmp_path / "model.onnx"
    target.write_bytes(OLD)
    reads = []
    with pytest.raises(ModelError, match=r"model.onnx: not signed \(no .*model.onnx.sig\)"):
        sigfiles.read_verified(target, keys[1], lambda p: reads.append(p) or _read(p))
    assert len(reads) == 1


def test_signing_a_model_in_place_drops_a_leftover_pending_signature(tmp_path, keys):
    target = _install_old(tmp_path, keys)
    Path(sigfiles.pending_path(str(target))).write_bytes(b"left by a killed writer")
    sigfiles.write_signature(target, signing.sign(OLD, keys[0], "model.onnx"))
    assert not Path(sigfiles.pending_path(str(target))).exists()
    assert sigfiles.read_verified(target, keys[1], _read)[0] == OLD
