"""Signed models: edge-predict's signatures and PyPI model-signing's verify each other; bad ones are refused."""

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from helpers import examples
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edge_predict import signing
from edge_predict.errors import ModelError

MODEL = b"\x08\x07" + bytes(range(256)) * 4  # signing never parses the model: any bytes will do


def _pem_pair(private):
    return (
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    )


def _openssl_pair(tmp_path):
    """A P-256 key pair made the way docs/signing.md says: openssl ecparam -name prime256v1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, pub = tmp_path / "key.pem", tmp_path / "public.pem"
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)], check=True)
    subprocess.run(["openssl", "ec", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    return key.read_bytes(), pub.read_bytes()


@pytest.fixture(params=["cryptography", "openssl"])
def keys(request, tmp_path):
    """(private PEM, public PEM) of a P-256 key, made by the cryptography library or by the openssl tool."""
    if request.param == "openssl":
        return _openssl_pair(tmp_path)
    return _pem_pair(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture(scope="module")
def other_keys():
    return _pem_pair(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def files(tmp_path, keys):
    """model.onnx, key.pem and public.pem on disk, for model_signing's path-based API."""
    (tmp_path / "m").mkdir()
    model, key, pub = tmp_path / "m" / "model.onnx", tmp_path / "key.pem", tmp_path / "public.pem"
    model.write_bytes(MODEL)
    key.write_bytes(keys[0])
    pub.write_bytes(keys[1])
    return model, key, pub


def test_a_signature_verifies_and_names_the_key(keys):
    sig = signing.sign(MODEL, keys[0], "model.onnx")
    info = signing.verify_signature(MODEL, sig, keys[1], "model.onnx")
    assert info.key_fingerprint == hashlib.sha256(keys[1]).hexdigest()  # `sha256sum public.pem`
    assert info.key_fingerprint == signing.public_key_fingerprint(keys[1])
    assert info.sha256 == hashlib.sha256(MODEL).hexdigest()
    assert info.name == "model.onnx"


def test_the_bundle_has_model_signings_layout(keys):
    bundle = json.loads(signing.sign(MODEL, keys[0], "model.onnx"))
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    digest = hashlib.sha256(MODEL).digest()
    assert statement["predicate"]["resources"] == [{"name": ".", "algorithm": "sha256", "digest": digest.hex()}]
    assert statement["subject"] == [{"name": "model.onnx", "digest": {"sha256": hashlib.sha256(digest).hexdigest()}}]


def test_model_signing_verifies_what_edge_predict_signed(files):
    from model_signing import verifying

    model, key, pub = files
    sig = model.parent.parent / "model.onnx.sig"
    sig.write_bytes(signing.sign(MODEL, key.read_bytes(), "model.onnx"))
    verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)  # raises if not
    model.write_bytes(MODEL[:-1] + b"\x00")
    with pytest.raises(ValueError, match="Hash mismatch"):
        verifying.Config().use_elliptic_key_verifier(public_key=pub).verify(model, sig)


def test_edge_predict_verifies_what_model_signing_signed(files):
    from model_signing import signing as ms_signing

    model, key, pub = files
    sig = model.parent.parent / "model.onnx.sig"
    ms_signing.Config().use_elliptic_key_signer(private_key=key).sign(model, sig)
    info = signing.verify_signature(MODEL, sig.read_bytes(), pub.read_bytes(), "model.onnx")
    assert info.key_fingerprint == signing.public_key_fingerprint(pub.read_bytes())
    with pytest.raises(ModelError, match="do not match its signature"):
        signing.verify_signature(MODEL + b"\x00", sig.read_bytes(), pub.read_bytes(), "model.onnx")


def test_the_model_signing_command_line_verifies_edge_predict_signatures(files):
    model, key, pub = files
    sig = model.with_name("model.onnx.sig")
    sig.write_bytes(signing.sign(MODEL, key.read_bytes(), "model.onnx"))
    cmd = [
        sys.executable,
        "-m",
        "model_signing",
        "verify",
        "key",
        str(model),
        "--signature",
        str(sig),
        "--public_key",
        str(pub),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0 and "Verification succeeded" in out.stdout, out.stdout + out.stderr


def test_a_sharded_model_signing_signature_is_refused_in_one_line(files):
    from model_signing import hashing, signing as ms_signing

    model, key, pub = files
    sig = model.parent.parent / "model.onnx.sig"
    config = ms_signing.Config().use_elliptic_key_signer(private_key=key)
    config.set_hashing_config(hashing.Config().use_shard_serialization(shard_size=256))
    config.sign(model, sig)
    with pytest.raises(ModelError, match=r"^model.onnx.sig: the signed statement is not a sha256 signature of one"):
        signing.verify_signature(MODEL, sig.read_bytes(), pub.read_bytes(), "model.onnx")


def _flip_signature_byte(sig: bytes) -> bytes:
    bundle = json.loads(sig)
    raw = bytearray(base64.b64decode(bundle["dsseEnvelope"]["signatures"][0]["sig"]))
    raw[len(raw) // 2] ^= 0x01
    bundle["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    return json.dumps(bundle).encode()


def _reformat(sig: bytes, **fields) -> bytes:
    return json.dumps({**json.loads(sig), **fields}).encode()


RSA_PUBLIC = (
    rsa.generate_private_key(65537, 2048)
    .public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
)
K1_PUBLIC = _pem_pair(ec.generate_private_key(ec.SECP256K1()))[1]

# case -> (model bytes, signature bytes, public key) from (model, good sig, public, other key's sig, private),
# and the start of the one line that refuses it.
BAD = {
    "missing signature": (lambda m, s, p, o, k: (m, None, p), "model.onnx: not signed (no model.onnx.sig)"),
    "another key": (lambda m, s, p, o, k: (m, o, p), "model.onnx.sig: signed by another key (fingerprint "),
    "a model byte flipped": (
        lambda m, s, p, o, k: (m[:9] + b"\xff" + m[10:], s, p),
        "model.onnx: its bytes do not match its signature (sha256 ",
    ),
    "a signature byte flipped": (
        lambda m, s, p, o, k: (m, _flip_signature_byte(s), p),
        "model.onnx.sig: the signature does not verify with the public key given",
    ),
    "another file's signature": (
        lambda m, s, p, o, k: (m, signing.sign(b"other", k, "model.onnx"), p),
        "model.onnx: its bytes do not match its signature",
    ),
    "key hint removed, other key": (
        lambda m, s, p, o, k: (m, _reformat(o, verificationMaterial={"publicKey": {}}), p),
        "model.onnx.sig: the signature does not verify with the public key given",
    ),
    "malformed PEM": (
        lambda m, s, p, o, k: (m, s, b"-----BEGIN PUBLIC KEY-----\nnot base64\n"),
        "the public key is not a PEM public key (its PUBLIC KEY block has no -----END PUBLIC KEY----- line: trunc",
    ),
    "truncated PEM": (
        lambda m, s, p, o, k: (m, s, p[: len(p) // 2]),
        "the public key is not a PEM public key (its PUBLIC KEY block has no -----END PUBLIC KEY----- line",
    ),
    "damaged PEM": (
        lambda m, s, p, o, k: (m, s, b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        "the public key is not a PEM public key (its PUBLIC KEY block does not decode as a key: damaged?); make it",
    ),
    "no PEM at all": (
        lambda m, s, p, o, k: (m, s, b"ssh-ed25519 AAAA"),
        "the public key is not a PEM public key (no -",
    ),
    "a certificate": (
        lambda m, s, p, o, k: (m, s, b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "the public key is not a PEM public key (it holds a CERTIFICATE block); make it with: openssl ec",
    ),
    "a private key": (lambda m, s, p, o, k: (m, s, k), "the public key given is a PRIVATE key; give its public"),
    "an RSA key": (lambda m, s, p, o, k: (m, s, RSA_PUBLIC), "the public key is an RSA key; model signatures use"),
    "a secp256k1 key": (lambda m, s, p, o, k: (m, s, K1_PUBLIC), "the public key is an elliptic-curve secp256k1"),
    "an empty signature": (lambda m, s, p, o, k: (m, b"", p), "model.onnx.sig: the signature file is empty"),
    "a truncated signature": (
        lambda m, s, p, o, k: (m, s[: len(s) // 2], p),
        "model.onnx.sig: not a signature bundle (not JSON: truncated or corrupt)",
    ),
    "JSON but not a bundle": (lambda m, s, p, o, k: (m, b"[1, 2]", p), "model.onnx.sig: a bundle of another format"),
    "a bundle of another format": (
        lambda m, s, p, o, k: (m, _reformat(s, mediaType="application/vnd.dev.sigstore.bundle+json;version=0.1"), p),
        "model.onnx.sig: a bundle of another format (mediaType 'application/vnd.dev.sigstore.bundle+json;",
    ),
    "a keyless bundle": (
        lambda m, s, p, o, k: (m, _reformat(s, dsseEnvelope=None, messageSignature={}), p),
        "model.onnx.sig: not a key-signed DSSE bundle",
    ),
    "deeply nested JSON": (lambda m, s, p, o, k: (m, b"[" * 100_000, p), "model.onnx.sig: not a signature bundle"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_signatures_and_keys_are_refused_in_one_line(case, keys, other_keys):
    make, message = BAD[case]
    good = signing.sign(MODEL, keys[0], "model.onnx")
    other = signing.sign(MODEL, other_keys[0], "model.onnx")
    model, sig, public = make(MODEL, good, keys[1], other, keys[0])
    with pytest.raises(ModelError) as err:
        signing.verify_signature(model, sig, public, "model.onnx")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("loader", ["load_pem_public_key", "load_pem_private_key"])
def test_a_key_refusal_is_worded_from_the_bytes_never_from_cryptographys_message(loader, keys, monkeypatch):
    def refuse(*args, **kwargs):
        raise ValueError("Could not deserialize key data.\nTheir words, [<OpenSSLError(code=1, lib=2)>]")

    monkeypatch.setattr(serialization, loader, refuse)
    with pytest.raises(ModelError) as err:
        if loader == "load_pem_public_key":
            signing.verify_signature(MODEL, signing.sign(MODEL, keys[0], "model.onnx"), keys[1], "model.onnx")
        else:
            signing.sign(MODEL, keys[0], "model.onnx")
    assert "does not decode as a key: damaged?" in str(err.value)
    assert "deserialize" not in str(err.value) and "OpenSSL" not in str(err.value)


@pytest.mark.parametrize(
    "key, message",
    [
        (lambda k, p: p, "the signing key given is a PUBLIC key"),
        (lambda k, p: b"garbage", "the signing key is not a PEM private key (no -----BEGIN line); make one with"),
        (
            lambda k, p: rsa.generate_private_key(65537, 2048).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            "the signing key is an RSA key; model signatures need an elliptic-curve P-256 key",
        ),
        (
            lambda k, p: ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"pw"),
            ),
            "the signing key is encrypted; decrypt it first",
        ),
    ],
)
def test_bad_signing_keys_are_refused_in_one_line(key, message, other_keys):
    with pytest.raises(ModelError) as err:
        signing.sign(MODEL, key(*other_keys), "model.onnx")
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_verifying_touches_no_network(monkeypatch, other_keys):
    sig = signing.sign(MODEL, other_keys[0], "model.onnx")

    def no_network(*args, **kwargs):
        raise AssertionError("verification tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert signing.verify_signature(MODEL, sig, other_keys[1]).sha256 == hashlib.sha256(MODEL).hexdigest()


def test_read_signature_finds_it_beside_the_model(tmp_path):
    model = tmp_path / "model.onnx"
    assert signing.read_signature(str(model)) is None
    (tmp_path / "model.onnx.sig").write_bytes(b"{}")
    assert signing.read_signature(str(model)) == b"{}"
    (tmp_path / "model.onnx.sig").write_bytes(b" " * (signing.MAX_SIG_BYTES + 1))
    with pytest.raises(ModelError, match=r"model.onnx.sig: over 1,048,576 bytes, so not a signature bundle"):
        signing.read_signature(str(model))


def test_key_hint_reads_the_claimed_signer_without_cryptography(other_keys):
    sig = signing.sign(MODEL, other_keys[0], "model.onnx")
    assert signing.key_hint(sig) == signing.public_key_fingerprint(other_keys[1])
    assert signing.key_hint(b"not json") is None


LAZY = r"""
import json, sys
if sys.argv[1] == "missing":
    sys.modules["cryptography"] = None  # as on a device without the signed extra
from edge_predict import signing
from edge_predict.errors import ModelError
loaded = sys.modules.get("cryptography") is not None
try:
    signing.verify_signature(b"m", b"{}", open(sys.argv[2], "rb").read(), "model.onnx")
except ModelError as exc:
    print(json.dumps([loaded, str(exc)]))
"""


@pytest.mark.parametrize(
    "state, expected",
    [
        ("installed", "model.onnx.sig: a bundle of another format (no mediaType); expected 'application/vnd.dev."),
        (
            "missing",
            "verifying signed models needs the cryptography library, which is not installed; "
            "install it with: pip install 'edge-predict[signed]'",
        ),
    ],
)
def test_cryptography_is_imported_only_when_a_key_is_given(state, expected, tmp_path, other_keys):
    (tmp_path / "public.pem").write_bytes(other_keys[1])
    out = subprocess.run(
        [sys.executable, "-c", LAZY, state, str(tmp_path / "public.pem")], capture_output=True, text=True, check=True
    )
    loaded_at_import, message = json.loads(out.stdout)
    assert loaded_at_import is False
    assert message.startswith(expected)


KEY = _pem_pair(ec.generate_private_key(ec.SECP256R1()))
SIGNED = signing.sign(MODEL, KEY[0], "model.onnx")


@settings(max_examples=examples(200), deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode)))
def test_arbitrary_signature_bytes_are_a_model_error(sig):
    with pytest.raises(ModelError):
        signing.verify_signature(MODEL, sig, KEY[1], "model.onnx")


@settings(max_examples=examples(300), deadline=None)
@given(st.integers(0, len(SIGNED) - 1), st.integers(1, 255))
def test_any_flipped_signature_byte_is_refused_or_changes_nothing_signed(index, xor):
    flipped = bytearray(SIGNED)
    flipped[index] ^= xor
    try:
        info = signing.verify_signature(MODEL, bytes(flipped), KEY[1], "model.onnx")
    except ModelError:
        return
    # accepted: the flip hit bytes outside what is signed (a JSON key name, an unused base64 bit)
    assert info.sha256 == hashlib.sha256(MODEL).hexdigest()
