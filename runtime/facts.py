"""The read-only facts of a loaded model, read from its manifest and file: Predictor's properties."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from . import tasks
from .integrity import sha256_hex


class ModelFacts:
    """Predictor's read-only properties; Predictor.__init__ sets the attributes they read."""

    _manifest: Any
    _model_bytes: bytes
    _source: str
    _signature: Any

    @property
    def task(self) -> str:
        """'binary', 'multiclass' or 'regression'."""
        return self._manifest.task

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self._manifest.feature_names

    @property
    def feature_names_in_(self) -> np.ndarray:
        return np.asarray(self._manifest.feature_names, dtype=object)

    @property
    def n_features_in_(self) -> int:
        return len(self._manifest.feature_names)

    @property
    def classes_(self) -> np.ndarray:
        """The class labels in predict_proba's column order (classifiers only)."""
        if self.task == "regression":
            raise AttributeError("a regression model has no classes_; its outputs are named in .targets")
        return np.asarray(self._manifest.labels)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._manifest.labels

    @property
    def targets(self) -> tuple[str, ...]:
        """The names of a regression model's outputs (() for classifiers)."""
        return self._manifest.targets

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the whole manifest (changing it changes nothing here)."""
        return json.loads(json.dumps(self._manifest.raw))

    @property
    def sha256(self) -> str:
        return sha256_hex(self._model_bytes)

    @property
    def model_bytes(self) -> bytes:
        """The model file's bytes, as loaded (what from_bytes takes, e.g. to ship the model to other processes)."""
        return self._model_bytes

    @property
    def source(self) -> str:
        return self._source

    @property
    def signature(self):
        """The signing.SignatureInfo a public key verified at load (key fingerprint, sha256), else None."""
        return self._signature

    @property
    def output_names(self) -> tuple[str, ...]:
        """The names of predict_table's columns, the CLI's output columns."""
        return tasks.column_names(self.task, self.labels, self.targets)
