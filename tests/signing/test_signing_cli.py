"""Signed models on the device: --public-key on predict, info and verify; `edge-predict sign`; from_path(public_key=)."""

import json
import shutil

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge_predict import ModelError, Predictor

from edge_predict import signing
from edge_predict.cli import cli


def _pair(tmp_path, name):
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


@pytest.fixture
def signed(cli_runner, model_path, tmp_path):
    """(model.onnx signed with `edge-predict sign`, its public key, another key's public key)."""
    model = tmp_path / "model.onnx"
    shutil.copy(model_path, model)
    key, public = _pair(tmp_path, "key")
    result = cli_runner.invoke(cli, ["sign", "--key", str(key), str(model)])
    assert result.exit_code == 0, result.stderr
    fingerprint = signing.public_key_fingerprint(public.read_bytes())
    assert (
        result.stdout == f"signed {model} (sha256 {Predictor.from_path(model).sha256}) with key {fingerprint}: "
        f"wrote {model}.sig\n"
    )
    return model, public, _pair(tmp_path, "other")[1]


@pytest.mark.parametrize("command", [["predict", "1", "7"], ["info"], ["verify"]])
def test_a_signed_model_runs_with_its_key_given_as_option_or_environment(cli_runner, signed, command):
    model, public, _ = signed
    plain = cli_runner.invoke(cli, [*command, "--model", str(model)])
    with_key = cli_runner.invoke(cli, [*command, "--model", str(model), "--public-key", str(public)])
    from_env = cli_runner.invoke(cli, [*command, "--model", str(model)], env={"EDGE_PREDICT_PUBLIC_KEY": str(public)})
    assert plain.exit_code == with_key.exit_code == from_env.exit_code == 0, with_key.stderr
    assert with_key.stdout == from_env.stdout
    if command[0] == "predict":
        assert with_key.stdout == plain.stdout  # a key changes what is accepted, not what is computed


def _flip(path, offset=-1):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


REFUSED = {
    "unsigned": (lambda m, p, o: m.with_suffix(".onnx.sig").unlink(), "not signed (no "),
    "another key": (lambda m, p, o: p.write_bytes(o.read_bytes()), ".sig: signed by another key (fingerprint "),
    "a flipped model byte": (lambda m, p, o: _flip(m, 20), ": its bytes do not match its signature"),
    "a flipped signature byte": (lambda m, p, o: _flip(m.with_suffix(".onnx.sig"), -40), ".sig: "),
    "an empty signature": (
        lambda m, p, o: m.with_suffix(".onnx.sig").write_bytes(b""),
        ".sig: the signature file is empty",
    ),
    "a malformed key": (
        lambda m, p, o: p.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        "the public key is not a PEM public key (its PUBLIC KEY block does not decode as a key",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("command", [["predict", "1", "7"], ["info"], ["verify"]])
def test_with_a_key_a_bad_pair_is_refused_in_one_line_exit_1(cli_runner, signed, case, command):
    model, public, other = signed
    spoil, message = REFUSED[case]
    spoil(model, public, other)
    result = cli_runner.invoke(cli, [*command, "--model", str(model), "--public-key", str(public)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("edge-predict: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_missing_key_file_is_a_usage_error(cli_runner, signed, tmp_path):
    result = cli_runner.invoke(
        cli, ["predict", "1", "--model", str(signed[0]), "--public-key", str(tmp_path / "none.pem")]
    )
    assert result.exit_code == 2 and "'--public-key'" in result.stderr and result.stderr.count("\n") == 1


def test_info_says_whether_and_by_which_key_a_model_is_signed(cli_runner, signed, model_path):
    model, public, _ = signed
    fingerprint = signing.public_key_fingerprint(public.read_bytes())

    def info(*args):
        result = cli_runner.invoke(cli, ["info", *args])
        assert result.exit_code == 0, result.stderr
        return result.stdout

    assert info("--model", str(model_path)).splitlines()[-1] == "signature: none (unsigned)"
    assert info("--model", str(model)).splitlines()[-1] == (
        f"signature: {model}.sig, claims key {fingerprint} (not verified: pass --public-key PEM to check it)"
    )
    assert info("--model", str(model), "--public-key", str(public)).splitlines()[-1] == (
        f"signature: {model}.sig, key {fingerprint} (verified)"
    )
    facts = json.loads(info("--model", str(model), "--public-key", str(public), "--format", "json"))["signature"]
    assert facts == {"file": f"{model}.sig", "key_fingerprint": fingerprint, "verified": True}
    assert json.loads(info("--model", str(model_path), "--format", "json"))["signature"] is None


def test_verify_names_the_signing_key(cli_runner, signed):
    model, public, _ = signed
    result = cli_runner.invoke(cli, ["verify", "--model", str(model), "--public-key", str(public)])
    fingerprint = signing.public_key_fingerprint(public.read_bytes())
    assert result.stdout.rstrip().endswith(f"; signed by key {fingerprint}; engine onnxruntime")


def test_from_path_takes_the_key_as_a_path_or_pem_bytes(signed):
    model, public, other = signed
    by_path = Predictor.from_path(model, public_key=public)
    by_bytes = Predictor.from_path(model, public_key=public.read_bytes())
    assert by_path.signature == by_bytes.signature
    assert by_path.signature.sha256 == by_path.sha256
    assert Predictor.from_path(model).signature is None
    with pytest.raises(ModelError, match="signed by another key"):
        Predictor.from_path(model, public_key=other)


def test_the_model_is_refused_before_onnxruntime_sees_it(signed, monkeypatch):
    import onnxruntime

    model, public, _ = signed
    _flip(model, 20)
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: pytest.fail("onnxruntime saw the bytes"))
    with pytest.raises(ModelError, match="its bytes do not match its signature"):
        Predictor.from_path(model, public_key=public)


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda m, k, p: p, "the signing key given is a PUBLIC key"),
        (lambda m, k, p: (m.write_bytes(b"not a model"), k)[1], "not a valid ONNX model"),
    ],
)
def test_sign_refuses_in_one_line(cli_runner, model_path, tmp_path, setup, message):
    model = tmp_path / "model.onnx"
    shutil.copy(model_path, model)
    key, public = _pair(tmp_path, "key")
    result = cli_runner.invoke(cli, ["sign", "--key", str(setup(model, key, public)), str(model)])
    assert result.exit_code == 1 and message in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "model.onnx.sig").exists()


def test_without_the_signed_extra_a_key_is_refused_in_one_line(signed):
    import subprocess
    import sys

    model, public, _ = signed
    script = (
        "import sys; sys.modules['cryptography'] = None\n"  # as on a device without the signed extra
        "from edge_predict.cli import main; main(sys.argv[1:])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "predict", "1", "--model", str(model), "--public-key", str(public)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (
        "edge-predict: error: verifying signed models needs the cryptography library, which is "
        "not installed; install it with: pip install 'edge-predict[signed]'\n"
    )


def test_a_model_behind_a_symlink_is_signed_and_shown_beside_the_file_the_device_reads(
    cli_runner, model_path, tmp_path
):
    """`current.onnx -> releases/7.onnx`: the device checks releases/7.onnx.sig. `sign current.onnx` wrote
    current.onnx.sig, which no key check reads, and `info` named current.onnx.sig as the verified file (it does not
    exist) and, without a key, called the signed model unsigned."""
    (tmp_path / "releases").mkdir()
    target = tmp_path / "releases" / "7.onnx"
    shutil.copy(model_path, target)
    link = tmp_path / "current.onnx"
    link.symlink_to(target)
    key, public = _pair(tmp_path, "key")
    signed = cli_runner.invoke(cli, ["sign", "--key", str(key), str(link)])
    assert signed.exit_code == 0, signed.stderr
    assert signed.stdout.endswith(f": wrote {target}.sig\n")
    assert sorted(p.name for p in tmp_path.rglob("*.sig")) == ["7.onnx.sig"]
    verify = cli_runner.invoke(cli, ["verify", "--model", str(link), "--public-key", str(public)])
    assert verify.exit_code == 0, verify.stderr
    fingerprint = signing.public_key_fingerprint(public.read_bytes())
    for extra, facts in (
        (["--public-key", str(public)], {"file": f"{target}.sig", "key_fingerprint": fingerprint, "verified": True}),
        ([], {"file": f"{target}.sig", "key_fingerprint": fingerprint, "verified": False}),
    ):
        info = cli_runner.invoke(cli, ["info", "-f", "json", "--model", str(link), *extra])
        assert info.exit_code == 0, info.stderr
        assert json.loads(info.stdout)["signature"] == facts
