"""A model and its signature on disk: replaced together by the writer, read as one pair by the device.

Two files cannot change in one rename. The writer keeps this invariant instead: at every instant the model
at PATH is signed by PATH.sig or by PATH.sig.new.
  1. the new signature goes to PATH.sig.new (written atomically);
  2. the new model is renamed over PATH    (old model + PATH.sig, or new model + PATH.sig.new);
  3. PATH.sig.new is renamed over PATH.sig.
The reader resolves PATH once, reads the model, then PATH.sig, then (if that does not cover the bytes it
read) PATH.sig.new; a writer that finished both renames between its reads makes it read everything again.
Writers take an exclusive flock on PATH.lock for the three steps: two exports to one path run one after the
other, so neither leaves its model beside the other's signature, and each that returns has written its pair.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    with pair_lock(path):
        write_atomic(Path(pending_path(path)), sig_bytes)  # 1
        write_atomic(Path(path), model_bytes)  # 2
        os.replace(pending_path(path), signing.signature_path(path))  # 3
        sync_directory(Path(path).resolve().parent)


def write_signature(path: str | os.PathLike, sig_bytes: bytes) -> None:
    """Sign a model already in place: write PATH.sig atomically (and drop a pending one left by a killed writer)."""
    from edge_predict.atomicfile import write_atomic

    path = resolved(path)  # beside the file the reader reads, not beside a symlink to it
    with pair_lock(path):
        write_atomic(Path(signing.signature_path(path)), sig_bytes)
        Path(pending_path(path)).unlink(missing_ok=True)


@contextmanager
def pair_lock(path: str) -> Iterator[None]:
    """An exclusive flock on PATH.lock while a model and its signature are replaced (released if the writer dies).
    The lock file stays: removing it would let two writers lock two different files."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; one writer at a time is the caller's to arrange
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


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
    from edge_predict.regularfile import open_regular

    try:
        with open_regular(pending_path(real)) as f:  # a FIFO there is no signature, and not waited on
            return f.read(signing.MAX_SIG_BYTES + 1)
    except OSError:
        return None
