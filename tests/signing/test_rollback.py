"""Rollback protection: a device with a public key keeps the highest version it accepted per model name and refuses
an older one (or an unversioned one once a version was recorded), naming both, unless --allow-rollback."""

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_predict import ModelError, signing
from edge_predict.cli import cli
from helpers.handmade import manifest, model


@pytest.fixture
def keys(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = tmp_path / "public.pem"
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _release(path, private, version, name="hours"):
    """An identity model carrying model {name, version}, signed, written to `path` with its .sig."""
    doc = manifest() if version is None else manifest(model={"name": name, "version": version})
    data = model(doc)
    signing.write_signed(path, data, signing.sign(data, private, path.name))


def test_a_newer_version_is_recorded_and_an_older_one_refused(cli_runner, keys, tmp_path):
    private, public = keys
    path, state = tmp_path / "model.onnx", tmp_path / "state" / "versions.json"
    args = ["verify", "--model", str(path), "--public-key", str(public), "--state-file", str(state)]
    _release(path, private, 7)
    assert cli_runner.invoke(cli, args).exit_code == 0
    assert json.loads(state.read_text()) == {"format": 1, "models": {"hours": 7}}
    _release(path, private, 5)  # last year's model and its valid signature, put back
    result = cli_runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr == (
        f"edge-predict: error: {path}: model 'hours' version 5 is older than version 7, which this device already "
        f"accepted ({state}): an old model put back is refused; if you mean to roll back, pass --allow-rollback, or "
        "remove the entry from the state file\n"
    )
    assert cli_runner.invoke(cli, [*args, "--allow-rollback"]).exit_code == 0
    assert json.loads(state.read_text())["models"] == {"hours": 7}  # --allow-rollback reads and writes nothing


def test_an_unversioned_model_is_refused_once_a_version_was_recorded(keys, tmp_path):
    private, public = keys
    path, state = tmp_path / "model.onnx", tmp_path / "versions.json"
    _release(path, private, None)
    from edge_predict import Predictor

    Predictor.from_path(path, public_key=public, state_file=state)  # nothing recorded: no file written
    assert not state.exists()
    _release(path, private, 3)
    Predictor.from_path(path, public_key=public, state_file=state)
    _release(path, private, None)
    with pytest.raises(ModelError, match=r"the model has no version \(manifest format 2\), but this device accepted "):
        Predictor.from_path(path, public_key=public, state_file=state)


def test_versions_are_kept_per_model_name(tmp_path):
    state = tmp_path / "versions.json"
    assert signing.check_rollback({"model": {"name": "a", "version": 9}}, "a.onnx", state) == ("a", 9)
    assert signing.check_rollback({"model": {"name": "b", "version": 1}}, "b.onnx", state) == ("b", 1)
    assert signing.check_rollback({"model": {"name": "a", "version": 9}}, "a.onnx", state) == ("a", 9)
    assert json.loads(state.read_text())["models"] == {"a": 9, "b": 1}


def test_a_corrupt_state_is_refused_not_reset(tmp_path):
    state = tmp_path / "versions.json"
    state.write_text("{not json")
    with pytest.raises(ModelError, match="the accepted-versions state is corrupt"):
        signing.check_rollback({"model": {"name": "a", "version": 1}}, "a.onnx", state)


def test_a_state_that_cannot_be_written_refuses_a_new_version_naming_the_fix(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("")
    state = blocked / "versions.json"  # under a regular file: nothing can be created there (as a read-only root)
    with pytest.raises(ModelError, match=r"cannot record the version of a.onnx .*--state-file"):
        signing.check_rollback({"model": {"name": "a", "version": 1}}, "a.onnx", state)


def test_the_default_state_follows_systemd_then_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(signing.STATE_ENV, raising=False)
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/edge-predict")
    assert signing.default_state_file() == "/var/lib/edge-predict/versions.json"
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    import os

    if os.geteuid() != 0:
        assert signing.default_state_file() == str(tmp_path / "edge-predict" / "versions.json")
