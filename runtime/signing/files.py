"""A model and its signature on disk: replaced together by the writer, read as one pair by the device.

Two files cannot change in one rename. The writer keeps this invariant instead: at every instant the model
at PATH is signed by PATH.sig or by PATH.sig.new.
  1. the new signature goes to PATH.sig.new (written atomically);
  2. the new model is renamed over PATH    (old model + PATH.sig, or new model + PATH.sig.new);
  3. PATH.sig.new is renamed over PATH.sig.
The reader resolves PATH once, reads the model, then PATH.sig, then (if that does not cover the bytes it
read) PATH.sig.new; a writer that finished both renames between its reads makes it read everything again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from edge_predict.signing import _rules as signing
from edge_predict.errors import ModelError

PENDING = ".new"  # PATH.sig.new: the signature of a model about to replace PATH
ATTEMPTS = 3  # reads of the pair before a mismatch is final; a writer needs only two renames


def resolved(path: str | os.PathLike) -> str:
    """The model file `path` names, symlinks resolved: its signature lies beside it (`current -> releases/7.onnx`
    is signed by releases/7.onnx.sig). `path` as given when it names the file itself."""
    shown = os.fspath(path)
    real = os.path.realpath(shown)
    return shown if real == os.path.abspath(shown) else real


def pending_path(model_path: str) -> str:
    """Where the writer puts the next model's signature before the model itself changes."""
    return signing.signature_path(model_path) + PENDING


def write_signed(path: str | os.PathLike, model_bytes: bytes, sig_bytes: bytes) -> None:
    """Replace the model at `path` and its signature so that a reader never accepts a mixed pair."""
    from edge_predict.atomicfile import sync_directory, write_atomic  # only writers pay for tempfile

    path = os.fspath(path)
    write_atomic(Path(pending_path(path)), sig_bytes)  # 1
    write_atomic(Path(path), model_bytes)  # 2
    os.replace(pending_path(path), signing.signature_path(path))  # 3
    sync_directory(Path(path).resolve().parent)


def write_signature(path: str | os.PathLike, sig_bytes: bytes) -> None:
    """Sign a model already in place: write PATH.sig atomically (and drop a pending one left by a killed writer)."""
    from edge_predict.atomicfile import write_atomic

    path = resolved(path)  # beside the file the reader reads, not beside a symlink to it
    write_atomic(Path(signing.signature_path(path)), sig_bytes)
    Path(pending_path(path)).unlink(missing_ok=True)


def read_verified(
    path: str | os.PathLike, public_key_pem: bytes, read_model: Callable[[str], bytes]
) -> tuple[bytes, signing.SignatureInfo]:
    """The model's bytes, read once and checked against its signature by `public_key_pem`; else ModelError."""
    shown = os.fspath(path)
    signing.public_key_fingerprint(public_key_pem)  # a bad key fails here, once, not once per attempt
    real = resolved(shown)  # once: a `current -> releases/7` swap cannot mix two releases
    for attempt in range(ATTEMPTS):
        data = read_model(real)
        sig = signing.read_signature(real)
        try:
            info = signing.verify_signature(data, sig, public_key_pem, shown)
            return data, replace(info, file=signing.signature_path(real))
        except ModelError as exc:
            error = exc
        pending = _read_pending(real)
        if pending is not None:
            try:
                info = signing.verify_signature(data, pending, public_key_pem, shown)
                return data, replace(info, file=pending_path(real))
            except ModelError:
                pass
        if sig is None and pending is None:
            break  # not signed at all: nothing is about to change
    raise error


def _read_pending(real: str) -> bytes | None:
    """PATH.sig.new's bytes, or None when there is none (the usual case) or it cannot be read."""
    try:
        with open(pending_path(real), "rb") as f:
            return f.read(signing.MAX_SIG_BYTES + 1)
    except OSError:
        return None
