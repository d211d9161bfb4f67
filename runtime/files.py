"""What is done with a model file besides scoring it: describe a plain ONNX file, sign an edge-predict one."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Signed:
    """What sign_model wrote: the signature file, the model's sha256 and the signing key's fingerprint."""

    signature_path: str
    sha256: str
    key_fingerprint: str


def inspect_model(
    path: str | os.PathLike | None = None, max_bytes: int | None = None, allow_ops=None, limits=None
) -> dict | None:
    """What a plain ONNX model (no edge-predict manifest) declares: path, sha256, inputs, outputs, opsets, IR version,
    producer; None if the file is an edge-predict model. ModelError if it cannot be read, is refused by the graph
    checks (allow_ops and limits as for Predictor.from_bytes) or cannot be opened."""
    from edge_predict.model import operators
    from edge_predict.model.limits import GraphLimits
    from edge_predict.model.file import DEFAULT_MAX_BYTES, default_model_path, read_model_file
    from edge_predict.model.integrity import sha256_hex
    from edge_predict import engines
    from edge_predict.model.session import describe_plain

    source = os.fspath(path) if path is not None else default_model_path()
    limit = max_bytes or DEFAULT_MAX_BYTES
    bounds = GraphLimits.of(limits)
    data = read_model_file(source, limit, bounds)
    make = engines.factory(engines.resolve(None))
    facts = describe_plain(data, source, limit, bounds, operators.parse(allow_ops), make)
    if facts is None:
        return None
    return {"path": source, "sha256": sha256_hex(data), **facts}


def sign_model(path: str | os.PathLike, private_key: str | os.PathLike | bytes) -> Signed:
    """Sign the model at `path` with a private key (PEM path or bytes): writes PATH.sig beside it (beside the file
    a symlink points to). The model must load and verify here first; OSError if the signature cannot be written."""
    from edge_predict import signing
    from edge_predict.model.file import DEFAULT_MAX_BYTES, read_model_file
    from edge_predict.predictor import Predictor

    source = os.fspath(path)
    data = read_model_file(source, DEFAULT_MAX_BYTES)
    predictor = Predictor.from_bytes(data, source=source)  # sign only a model that loads and verifies here
    sig = signing.sign(data, signing.read_key(private_key, "signing key"), os.path.basename(source))
    signing.write_signature(source, sig)
    target = signing.signature_path(signing.resolved(source))
    return Signed(signature_path=target, sha256=predictor.sha256, key_fingerprint=signing.key_hint(sig) or "")
