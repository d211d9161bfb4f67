"""Model, signature and key paths must be regular files: a FIFO is refused at once (opening one waits for a writer);
the exit code stays the documented one when stderr cannot be written; `sign` reports success only with its
signature in place."""

import os
import shutil
import subprocess
import sys

import pytest

from helpers import CLEAN_ENV

CLI = os.path.join(os.path.dirname(sys.executable), "edge-predict")
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and /dev/full: POSIX")


def _run(*args, **kwargs):
    return subprocess.run([CLI, *map(str, args)], env=CLEAN_ENV, capture_output=True, text=True, timeout=20, **kwargs)


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def test_a_fifo_as_the_model_is_refused_at_once(cli_runner, fifo):
    from edge_predict.cli import cli

    result = cli_runner.invoke(cli, ["predict", "--model", str(fifo), "1"])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"edge-predict: error: {fifo}: is a FIFO (named pipe), not a model file; pass the .onnx file itself\n"
    )


@pytest.mark.parametrize("suffix", [".sig", ".sig.new"])
def test_a_fifo_beside_the_model_does_not_hang_info_or_a_key_check(cli_runner, model_path, tmp_path, suffix):
    from edge_predict.cli import cli

    model = tmp_path / "model.onnx"
    shutil.copy(model_path, model)
    os.mkfifo(f"{model}{suffix}")
    assert cli_runner.invoke(cli, ["info", "--model", str(model)]).exit_code == 0
    key = tmp_path / "public.pem"
    os.mkfifo(key)
    result = cli_runner.invoke(cli, ["verify", "--model", str(model), "--public-key", str(key)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"edge-predict: error: {key}: cannot read the public key file (is a FIFO (named pipe), not a regular file)\n"
    )


@pytest.mark.slow
def test_the_exit_code_stays_when_stderr_is_full():
    with open("/dev/full", "w") as full:
        assert subprocess.run([CLI, "predict", "x"], env=CLEAN_ENV, stderr=full, timeout=20).returncode == 2


@pytest.mark.slow
def test_sign_with_a_full_stdout_removes_the_signature_it_reports_failing(model_path, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    model, key = tmp_path / "model.onnx", tmp_path / "key.pem"
    shutil.copy(model_path, model)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key.write_bytes(pem)
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [CLI, "sign", "--key", key, model], env=CLEAN_ENV, stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert done.returncode == 1
    assert done.stderr == (
        f"edge-predict: error: cannot write the output: No space left on device; so {model}.sig was removed again: "
        "sign the model again\n"
    )
    assert not (tmp_path / "model.onnx.sig").exists()
