"""Signed models: a device runs only what a trusted key signed, in the OpenSSF model-signing format.

The signature is a detached bundle beside the model (`model.onnx.sig`, see sigbundle.py), interchangeable
with PyPI `model-signing`'s: each tool verifies the other's. Checking it needs `cryptography` (the
`signed` extra), imported only when a key is given. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from edge_predict.signing import _bundle as sigbundle
from edge_predict.errors import ModelError

SUFFIX = ".sig"  # model.onnx -> model.onnx.sig, the name model_signing's docs use
MAX_SIG_BYTES = 1 << 20  # a bundle is ~1.4 kB; a bigger file is not one (and /dev/zero must not fill memory)
_INSTALL = "pip install 'edge-predict[signed]'"
_CURVES = {"secp256r1": "SHA256", "secp384r1": "SHA384", "secp521r1": "SHA512"}  # as model_signing accepts
_MAKE_KEY = "openssl ecparam -name prime256v1 -genkey -noout -out key.pem"


@dataclass(frozen=True)
class SignatureInfo:
    """A verified signature: whose key made it, and the model digest it covers."""

    key_fingerprint: str  # sha256 of the public key's PEM (SubjectPublicKeyInfo): model_signing's key hint
    sha256: str  # of the model file
    name: str  # the model name recorded when signing (informative: renaming a model keeps it valid)
    file: str = ""  # the signature file that verified (sigfiles.read_verified sets it)


def signature_path(model_path: str) -> str:
    """Where a model's signature lives: beside it, with `.sig` appended."""
    return model_path + SUFFIX


def read_signature(model_path: str) -> bytes | None:
    """The bytes of the signature beside `model_path`, or None when there is none."""
    from edge_predict.regularfile import open_regular

    path = signature_path(model_path)
    try:
        with open_regular(path) as f:  # a FIFO is refused at once, not waited on
            data = f.read(MAX_SIG_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the signature: {exc.strerror or exc}") from None
    if len(data) > MAX_SIG_BYTES:
        raise ModelError(f"{path}: over {MAX_SIG_BYTES:,} bytes, so not a signature bundle; sign the model again")
    return data


def verify_signature(
    model_bytes: bytes, sig_bytes: bytes | None, public_key_pem: bytes, source: str = "model"
) -> SignatureInfo:
    """Check that `sig_bytes` was made by `public_key_pem` over exactly `model_bytes`; else a ModelError."""
    key, fingerprint = _load_public_key(public_key_pem)
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sig_name = signature_path(source)
    if sig_bytes is None:
        raise ModelError(
            f"{source}: not signed (no {sig_name}) and a public key requires a signature; "
            f"sign it with: edge-predict sign --key KEY.pem {source}"
        )
    env = sigbundle.parse_bundle(sig_bytes, sig_name)
    if env.key_hint is not None and env.key_hint != fingerprint:
        raise ModelError(
            f"{sig_name}: signed by another key (fingerprint {env.key_hint[:16]}…), "
            f"not by the public key given ({fingerprint[:16]}…)"
        )
    signed, algorithm = sigbundle.pae(env.payload), ec.ECDSA(getattr(hashes, _CURVES[key.curve.name])())
    for sig in env.signatures:
        try:
            key.verify(sig, signed, algorithm)
            break
        except InvalidSignature:
            continue
    else:
        raise ModelError(
            f"{sig_name}: the signature does not verify with the public key given "
            "(the signature file was altered, or another key made it)"
        )
    digest, name = sigbundle.signed_digest(env.payload, sig_name)
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != digest:
        raise ModelError(
            f"{source}: its bytes do not match its signature (sha256 {actual[:16]}…, signed "
            f"{digest[:16]}…): the model was altered, or {sig_name} belongs to another file"
        )
    return SignatureInfo(fingerprint, actual, name)


def sign(model_bytes: bytes, private_key_pem: bytes, model_name: str) -> bytes:
    """The bytes of a model_signing-compatible `.sig` bundle over `model_bytes`, made with the private key."""
    ec, hashes, serialization = _crypto("signing models")
    if b"PUBLIC KEY-----" in private_key_pem:
        raise ModelError("the signing key given is a PUBLIC key; signing needs the private key (key.pem)")
    try:
        key = serialization.load_pem_private_key(private_key_pem, password=None)
    except TypeError:  # cryptography's way of saying "encrypted, and no password given"
        raise ModelError(
            "the signing key is encrypted; decrypt it first: openssl ec -in key.pem -out plain-key.pem"
        ) from None
    except ValueError:
        raise ModelError(
            f"the signing key is not a PEM private key ({_pem_problem(private_key_pem, 'PRIVATE KEY')}); "
            f"make one with: {_MAKE_KEY}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _CURVES:
        raise ModelError(
            f"the signing key is {_describe(key)}; model signatures need an elliptic-curve P-256 key: {_MAKE_KEY}"
        )
    payload = sigbundle.statement(model_bytes, model_name)
    sig = key.sign(sigbundle.pae(payload), ec.ECDSA(getattr(hashes, _CURVES[key.curve.name])()))
    return sigbundle.bundle(payload, sig, _fingerprint(key.public_key(), serialization))


def read_key(key: str | os.PathLike | bytes, what: str = "public key") -> bytes:
    """A key's PEM bytes: `key` itself if bytes, else the contents of the file it names."""
    from edge_predict.regularfile import open_regular

    if isinstance(key, bytes):
        return key
    try:
        with open_regular(key) as f:
            return f.read(MAX_SIG_BYTES)  # a PEM key is a few hundred bytes
    except OSError as exc:
        raise ModelError(f"{os.fspath(key)}: cannot read the {what} file ({exc.strerror or exc})") from None


def private_key_fingerprint(private_key_pem: bytes) -> str:
    """The fingerprint of the public half of a signing key (checks the key as `sign` would)."""
    return sigbundle.key_hint(sign(b"", private_key_pem, "check")) or ""


def public_key_fingerprint(public_key_pem: bytes) -> str:
    """The fingerprint edge-predict and model_signing show for a public key (sha256 of its canonical PEM)."""
    return _load_public_key(public_key_pem)[1]


def _crypto(purpose: str):
    """The cryptography modules, or a one-line ModelError naming the extra to install."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        raise ModelError(
            f"{purpose} needs the cryptography library, which is not installed; install it with: {_INSTALL}"
        ) from None
    return ec, hashes, serialization


def _load_public_key(pem: bytes):
    """An EC public key from PEM bytes, and its fingerprint; a ModelError naming the fix otherwise."""
    ec, _, serialization = _crypto("verifying signed models")
    if b"PRIVATE KEY-----" in pem:
        raise ModelError(
            "the public key given is a PRIVATE key; give its public half (devices must not hold "
            "the private key): openssl ec -in key.pem -pubout -out public.pem"
        )
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        raise ModelError(
            f"the public key is not a PEM public key ({_pem_problem(pem, 'PUBLIC KEY')}); "
            "make it with: openssl ec -in key.pem -pubout -out public.pem"
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise ModelError(
            f"the public key is {_describe(key)}; model signatures use an elliptic-curve "
            "P-256 key (openssl ecparam -name prime256v1)"
        )
    return key, _fingerprint(key, serialization)


def _fingerprint(public_key, serialization) -> str:
    """sha256 of the key's PEM SubjectPublicKeyInfo: model_signing's key hint, and `sha256sum public.pem`."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def _describe(key) -> str:
    """'an RSA key', 'an elliptic-curve secp256k1 key', ...: what was given instead."""
    curve = getattr(getattr(key, "curve", None), "name", None)
    if curve:
        return f"an elliptic-curve {curve} key"
    kind = type(key).__name__.lstrip("_").replace("PublicKey", "").replace("PrivateKey", "")
    return f"an {kind} key" if kind[:1] in "AEIOUR" else f"a {kind} key"  # "an RSA", "an Ed25519", "a DSA"


def _pem_problem(pem: bytes, label: str) -> str:
    """Why bytes that cryptography would not load are no PEM key of `label`, from the bytes themselves (cryptography's
    messages are its own, and change between versions): no PEM block, an unfinished one, another kind, or one whose
    contents are not a key."""
    if not pem.strip():
        return "the file is empty"
    begin = re.search(rb"-----BEGIN ([A-Z0-9 ]{1,40})-----", pem)
    if begin is None:
        return "no -----BEGIN line"
    found = begin.group(1).decode("ascii")
    if b"-----END " + begin.group(1) + b"-----" not in pem[begin.end() :]:
        return f"its {found} block has no -----END {found}----- line: truncated?"
    if not found.endswith(label):
        return f"it holds a {found} block"
    return f"its {found} block does not decode as a key: damaged?"
