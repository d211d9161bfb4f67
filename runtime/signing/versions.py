"""Rollback protection: the highest model version a device accepted per model name, kept in a small state file.

A signature proves who made a model, not that it is the newest: last year's model with its valid signature still
verifies. So a device with a public key records, per model name (the manifest's `model.name`), the highest
`model.version` it accepted, and refuses an older one, or a model without a version once it recorded one.
The file is JSON, {"format": 1, "models": {name: version}}, replaced atomically under a lock (docs/signing.md).
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from edge_predict.errors import ModelError

STATE_ENV = "EDGE_PREDICT_STATE_FILE"
_FORMAT = 1
_MAX_STATE_BYTES = 1 << 20


def default_state_file() -> str:
    """Where the versions are kept unless told otherwise: $EDGE_PREDICT_STATE_FILE; a systemd service's
    $STATE_DIRECTORY (StateDirectory=edge-predict, which DynamicUser services need); /var/lib/edge-predict for root;
    else $XDG_STATE_HOME/edge-predict (~/.local/state/edge-predict)."""
    if os.environ.get(STATE_ENV):
        return os.environ[STATE_ENV]
    if os.environ.get("STATE_DIRECTORY"):
        return os.path.join(os.environ["STATE_DIRECTORY"].split(":")[0], "versions.json")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return "/var/lib/edge-predict/versions.json"
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "edge-predict", "versions.json")


def model_version(manifest: Mapping[str, Any]) -> tuple[str, int] | None:
    """(name, version) from a manifest's `model` object (format 3), or None for a model without one."""
    model = manifest.get("model")
    if not isinstance(model, dict):
        return None
    name, version = model.get("name"), model.get("version")
    if isinstance(name, str) and name and type(version) is int and version >= 0:
        return name, version
    return None


def check_rollback(
    manifest: Mapping[str, Any], source: str, state_file: str | os.PathLike | None = None
) -> tuple[str, int] | None:
    """Accept the model whose manifest is `manifest` on this device, or ModelError: refuse a version older than the
    highest recorded for its name, or an unversioned model once any version was recorded; record a newer one.
    The rule the CLI applies with a public key, and a server applies when it swaps models. Returns (name, version)."""
    path = Path(state_file if state_file is not None else default_state_file())
    found = model_version(manifest)
    models = _read(path, source)  # read without the lock: most loads record nothing (the same version again)
    _refuse_older(found, models, path, source, manifest)
    if found is None or models.get(found[0]) == found[1]:
        return found
    with _locked(path, source):
        models = _read(path, source)  # again: another process may have recorded a newer one meanwhile
        _refuse_older(found, models, path, source, manifest)
        if found[1] > models.get(found[0], -1):
            models[found[0]] = found[1]
            _write(path, models, source)
    return found


def _refuse_older(
    found: tuple[str, int] | None, models: dict[str, int], path: Path, source: str, manifest: Mapping[str, Any]
) -> None:
    if found is None:
        if models:
            name, version = max(models.items(), key=lambda item: item[1])
            raise ModelError(
                f"{source}: the model has no version (manifest format {manifest.get('format')!r}), but this "
                f"device accepted model {name!r} version {version} ({path}); an unversioned model could be an "
                "old one put back: re-export it (format 3 records a version), or pass --allow-rollback"
            )
        return
    name, version = found
    recorded = models.get(name)
    if recorded is not None and version < recorded:
        raise ModelError(
            f"{source}: model {name!r} version {version} is older than version {recorded}, which this device "
            f"already accepted ({path}): an old model put back is refused; if you mean to roll back, pass "
            "--allow-rollback, or remove the entry from the state file"
        )


def _read(path: Path, source: str) -> dict[str, int]:
    from edge_predict.regularfile import open_regular

    try:
        with open_regular(path) as stream:
            text = stream.read(_MAX_STATE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):  # nothing recorded yet
        return {}
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the accepted-versions state ({exc.strerror or exc})") from None
    try:
        state = json.loads(text)
        models = state["models"]
        if state.get("format") != _FORMAT or not all(isinstance(k, str) and type(v) is int for k, v in models.items()):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise ModelError(
            f"{path}: the accepted-versions state is corrupt, so {source} cannot be checked against rollback; "
            "restore it, or remove it (the device then accepts any version once)"
        ) from None
    return dict(models)


def _write(path: Path, models: dict[str, int], source: str) -> None:
    from edge_predict.atomicfile import write_atomic

    text = json.dumps({"format": _FORMAT, "models": dict(sorted(models.items()))}, indent=1) + "\n"
    try:
        write_atomic(path, text.encode())
    except OSError as exc:
        raise _unwritable(path, source, exc) from None


@contextmanager
def _locked(path: Path, source: str) -> Iterator[None]:
    """An exclusive flock on PATH.lock while the state is read and replaced: two loads never lose a version."""
    try:
        import fcntl
    except ImportError:  # Windows: one device process at a time
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if path.exists() and not os.access(path.parent, os.W_OK):  # a read-only state: check, and write nothing
            yield
            return
        raise _unwritable(path, source, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _unwritable(path: Path, source: str, exc: OSError) -> ModelError:
    return ModelError(
        f"{path}: cannot record the version of {source} ({exc.strerror or exc}), so a rollback could not be "
        f"refused later; give a writable --state-file (${STATE_ENV}; a systemd service: StateDirectory=edge-predict), "
        "or pass --allow-rollback to load without rollback protection"
    )
