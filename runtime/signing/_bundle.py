"""The OpenSSF model-signing bundle for one model file, read and written with json alone (no crypto here).

A bundle (Sigstore v0.3 JSON) holds a DSSE envelope whose payload is an in-toto statement: one resource
named "." (model_signing's name for a model that is a single file) with the file's sha256, and a subject
whose digest is the sha256 of that digest. This is exactly what `model_signing sign key MODEL` writes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from edge_predict.errors import ModelError

BUNDLE_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"


@dataclass(frozen=True)
class Envelope:
    """What a bundle carries: the signed payload, its signatures, and the key fingerprint it claims."""

    payload: bytes
    signatures: list[bytes]
    key_hint: str | None


def pae(payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding of the payload: the bytes the key actually signs."""
    return b"DSSEv1 %d %s %d %s" % (len(PAYLOAD_TYPE), PAYLOAD_TYPE.encode(), len(payload), payload)


def statement(model_bytes: bytes, model_name: str) -> bytes:
    """The in-toto statement (the payload to sign) naming `model_bytes` by its sha256."""
    digest = hashlib.sha256(model_bytes).hexdigest()
    st = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": model_name, "digest": {"sha256": _root(digest)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": {"method": "files", "hash_type": "sha256", "allow_symlinks": False},
            "resources": [{"name": ".", "algorithm": "sha256", "digest": digest}],
        },
    }
    return json.dumps(st, indent=2).encode()


def bundle(payload: bytes, signature: bytes, key_fingerprint: str) -> bytes:
    """The bundle bytes (a `.sig` file) for a signed payload."""
    b = {
        "mediaType": BUNDLE_TYPE,
        "verificationMaterial": {"publicKey": {"hint": key_fingerprint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": _b64(payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": _b64(signature), "keyid": ""}],
        },
    }
    return json.dumps(b, separators=(",", ":")).encode()


def key_hint(sig_bytes: bytes) -> str | None:
    """The key fingerprint a bundle claims, UNVERIFIED (what `info` shows without a key); None if unreadable."""
    try:
        return _hint(json.loads(sig_bytes))
    except (ValueError, RecursionError):
        return None


def parse_bundle(sig_bytes: bytes, sig_name: str) -> Envelope:
    """The envelope in a bundle; a one-line ModelError saying what is wrong otherwise."""
    if not sig_bytes.strip():
        raise ModelError(f"{sig_name}: the signature file is empty; sign the model again")
    try:
        b = json.loads(sig_bytes)
    except (ValueError, RecursionError):
        raise ModelError(
            f"{sig_name}: not a signature bundle (not JSON: truncated or corrupt); sign the model again"
        ) from None
    media = b.get("mediaType") if isinstance(b, dict) else None
    if media != BUNDLE_TYPE:
        got = f"mediaType {str(media)[:60]!r}" if media else "no mediaType"
        raise ModelError(
            f"{sig_name}: a bundle of another format ({got}); expected "
            f"{BUNDLE_TYPE!r} as `model_signing sign key` writes"
        )
    try:
        env = b["dsseEnvelope"]
        if env["payloadType"] != PAYLOAD_TYPE:
            raise ValueError(env["payloadType"])
        payload = base64.b64decode(env["payload"], validate=True)
        sigs = [base64.b64decode(s["sig"], validate=True) for s in env["signatures"]]
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise ModelError(
            f"{sig_name}: not a key-signed DSSE bundle (keyless Sigstore bundles and "
            "certificates are not supported); sign the model with a key"
        ) from None
    if not sigs:
        raise ModelError(f"{sig_name}: the bundle holds no signature; sign the model again")
    return Envelope(payload, sigs, _hint(b))


def signed_digest(payload: bytes, sig_name: str) -> tuple[str, str]:
    """(sha256 of the one signed file, recorded model name) from a verified statement; else ModelError."""
    try:
        st = json.loads(payload)
        ser, res, subject = st["predicate"]["serialization"], st["predicate"]["resources"], st["subject"][0]
        ok = st["_type"] == STATEMENT_TYPE and st["predicateType"] == PREDICATE_TYPE
        ok = ok and ser["method"] == "files" and ser["hash_type"] == "sha256"
        ok = ok and len(res) == 1 and res[0]["name"] == "." and res[0]["algorithm"] == "sha256"
        digest = res[0]["digest"]
        ok = ok and subject["digest"]["sha256"] == _root(digest)  # a consistent statement repeats it
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        ok = False
    if not ok:
        raise ModelError(
            f"{sig_name}: the signed statement is not a sha256 signature of one model file "
            "(a directory, sharded or blake3 signature?); sign the .onnx file itself"
        )
    return digest, str(subject.get("name", ""))


def _root(digest_hex: str) -> str:
    """model_signing's subject digest: sha256 over the resources' raw digests, here just one."""
    return hashlib.sha256(bytes.fromhex(digest_hex)).hexdigest()


def _hint(b) -> str | None:
    try:
        hint = b["verificationMaterial"]["publicKey"]["hint"]
    except (TypeError, KeyError):
        return None
    return hint if isinstance(hint, str) and hint else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
