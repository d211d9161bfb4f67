"""The model being served, and its replacement: loaded and checked first, then swapped in one assignment."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from edge_predict import Predictor
from edge_predict.serve import protocol


@dataclass(frozen=True)
class ServedModel:
    """A loaded Predictor under the name and version it is served as, with its metadata document encoded once."""

    predictor: Any  # a Predictor
    name: str
    version: str  # the manifest's model.version; files before format 3: the first 12 hex digits of the sha256
    metadata: bytes

    @classmethod
    def of(cls, predictor, name: str) -> "ServedModel":
        version = str(predictor.model_version) if predictor.model_version is not None else predictor.sha256[:12]
        doc = protocol.metadata(predictor, name, version)
        return cls(predictor, name, version, json.dumps(doc, separators=(",", ":")).encode())


class ModelSlot:
    """Holds the ServedModel. A request reads `current` once and finishes on that model, whatever reload does."""

    def __init__(self, load: Callable[[], Any], name: str, current: ServedModel):
        self._load = load
        self._name = name
        self._current = current
        self._reloading = threading.Lock()  # one reload at a time; requests never wait for it

    @classmethod
    def from_path(cls, path: str | os.PathLike | None, *, name: str | None = None, **options: Any) -> "ModelSlot":
        """Load the model at `path` (None: the packaged model) with Predictor.from_path's options (public_key,
        max_bytes, threads); it is verified, as every load is. `name` defaults to the manifest's model name (format 3),
        else the file's name without .onnx."""
        first = Predictor.from_path(path, **options) if path is not None else Predictor.default(**options)
        source = first.source  # the packaged model's path, when path is None: a reload reads the same file
        if name is None:
            name = first.model_name or os.path.basename(source).removesuffix(".onnx") or "model"
        return cls(lambda: Predictor.from_path(source, **options), name, ServedModel.of(first, name))

    @property
    def current(self) -> ServedModel:
        return self._current

    @property
    def name(self) -> str:
        return self._name

    def reload(self) -> ServedModel:
        """Read the file again, check its signature (with a key), verify it, and only then serve it. Any failure
        raises the library's error and leaves the model being served as it was."""
        with self._reloading:
            served = ServedModel.of(self._load(), self._name)
            self._current = served  # one assignment: a request sees the old model or the new one, never a mix
            return served
