"""Model signatures: a sigstore-style bundle beside the model (PATH.sig), made and checked with an ECDSA key.

`cryptography` (the `signed` extra) is imported only when a key is used.
"""

from edge_predict.signing._bundle import key_hint
from edge_predict.signing._rules import (
    MAX_SIG_BYTES,
    SUFFIX,
    SignatureInfo,
    private_key_fingerprint,
    public_key_fingerprint,
    read_key,
    read_signature,
    sign,
    signature_path,
    verify_signature,
)
from edge_predict.signing.files import read_verified, resolved, write_signature, write_signed
from edge_predict.signing.versions import STATE_ENV, check_rollback, default_state_file, model_version

__all__ = [
    "MAX_SIG_BYTES",
    "STATE_ENV",
    "SUFFIX",
    "SignatureInfo",
    "check_rollback",
    "default_state_file",
    "key_hint",
    "model_version",
    "private_key_fingerprint",
    "public_key_fingerprint",
    "read_key",
    "read_signature",
    "read_verified",
    "resolved",
    "sign",
    "signature_path",
    "verify_signature",
    "write_signature",
    "write_signed",
]
