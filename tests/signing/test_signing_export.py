"""Trainer side: export(..., sign_key=) and edge-train --sign-key write a model and its signature together."""

import hashlib
import signal
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_predict import Predictor

from edge_predict import signing
from edge_predict.trainer.cli import cli as train_cli

from helpers import TESTS, export_lecture

# Exports the lecture model (seed argv[4]) to argv[1], signed with argv[2], and SIGKILLs itself right after
# the argv[3]-th os.replace: a deterministic fault point inside the export, not a timer.
EXPORTER = r"""
import os, signal, sys
from helpers import export_lecture
from edge_predict.trainer.data import lecture_data
from edge_predict.trainer.train import TrainConfig, train
x, y = lecture_data()
result = train(x, y, TrainConfig(epochs=50, seed=int(sys.argv[4])))
replace, calls, n = os.replace, [0], int(sys.argv[3])
def replace_then_die(src, dst):
    replace(src, dst)
    calls[0] += 1
    if calls[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace_then_die
export_lecture(result, x, y, sys.argv[1], sign_key=sys.argv[2])
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    key = ec.generate_private_key(ec.SECP256R1())
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "key.pem", folder / "public.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def test_export_with_a_sign_key_writes_a_signature_the_device_accepts(lecture, tmp_path, keys):
    target = tmp_path / "m.onnx"
    data = export_lecture(*lecture, target, sign_key=keys[0])
    predictor = Predictor.from_path(target, public_key=keys[1])
    assert predictor.signature.sha256 == predictor.sha256 and target.read_bytes() == data
    assert predictor.signature.name == "m.onnx"


@pytest.mark.slow
@pytest.mark.parametrize("renames_before_kill, expected", [(1, "old"), (2, "new"), (3, "new")])
def test_sigkill_inside_a_signed_export_leaves_the_old_or_the_new_pair(
    lecture, tmp_path, keys, renames_before_kill, expected
):
    target = tmp_path / "m.onnx"
    old = export_lecture(*lecture, target, sign_key=keys[0])
    killed = subprocess.run(
        [sys.executable, "-c", EXPORTER, str(target), str(keys[0]), str(renames_before_kill), "1"],
        capture_output=True,
        text=True,
        cwd=TESTS,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    predictor = Predictor.from_path(target, public_key=keys[1])  # accepted: a model with its own signature
    assert (predictor.sha256 == hashlib.sha256(old).hexdigest()) == (expected == "old")


def test_edge_train_sign_key(cli_runner, tmp_path, keys):
    out = tmp_path / "lecture.onnx"
    result = cli_runner.invoke(train_cli, ["--out", str(out), "--sign-key", str(keys[0]), "-q"])
    assert result.exit_code == 0, result.stderr
    fingerprint = signing.public_key_fingerprint(keys[1].read_bytes())
    assert result.stdout.splitlines()[-1] == f"signed with key {fingerprint}: wrote {out}.sig"
    assert Predictor.from_path(out, public_key=keys[1]).signature.key_fingerprint == fingerprint


def test_edge_train_refuses_a_bad_sign_key_before_training(cli_runner, tmp_path, keys):
    out = tmp_path / "lecture.onnx"
    result = cli_runner.invoke(train_cli, ["--out", str(out), "--sign-key", str(keys[1])])
    assert result.exit_code == 1
    assert (
        result.stderr == "edge-train: error: the signing key given is a PUBLIC key; signing needs the private "
        "key (key.pem)\n"
    )
    assert result.stdout == "" and not out.exists()
