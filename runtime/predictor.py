"""Predictor: an edge-predict model loaded into an onnxruntime session, scored with checked input."""

from __future__ import annotations

import json
import math
import os
from typing import Any

import numpy as np

from .errors import InputError, ModelError, VerificationError
from .manifest import Manifest
from .modelfile import DEFAULT_MAX_BYTES, check_limit, check_size, scan
from .session import check_signature, check_width, make_session, manifest_text, run_failure
from .validation import SMALL, InputCheck

_ONE_BITS = int(np.float32(1.0).view(np.uint32))
_OVERFLOW = "the input overflows float32 arithmetic inside the model"


def default_model_path() -> str:
    """Where the model packaged with edge-predict lives."""
    from . import models

    return os.path.join(os.path.dirname(models.__file__), "default.onnx")


class Predictor:
    """Scores samples with one edge-predict model; build it with from_path, from_bytes or default."""

    def __init__(self, session: Any, manifest: Manifest, model_bytes: bytes, *, source: str = "<bytes>",
                 threads: int | None = None, threshold: float | None = None):
        import onnxruntime as ort

        self._session = session
        self._manifest = manifest
        self._model_bytes = model_bytes
        self._source = source
        self._threads = threads
        self._threshold = manifest.threshold if threshold is None else _checked_threshold(threshold)
        self._input_name = session.get_inputs()[0].name
        self._output_names = [session.get_outputs()[0].name]
        self._run_options = ort.RunOptions()  # passing one spares onnxruntime building one per call
        self._check = InputCheck(manifest.feature_names, manifest.domain)

    # -- named constructors -------------------------------------------------------------------
    @classmethod
    def from_path(cls, path: str | os.PathLike, **options: Any) -> "Predictor":
        """Load the model file at `path`; options as for from_bytes."""
        path = os.fspath(path)
        max_bytes = options.get("max_bytes", DEFAULT_MAX_BYTES)
        check_limit(max_bytes)
        try:
            with open(path, "rb") as stream:
                data = stream.read(max_bytes + 1)  # never more: the file may be huge, or /dev/zero
        except FileNotFoundError as exc:
            raise ModelError(f"{path}: no such model file; pass --model PATH to an exported .onnx") from exc
        except IsADirectoryError as exc:
            raise ModelError(f"{path}: is a directory, not a model file; pass the .onnx file itself") from exc
        except OSError as exc:
            raise ModelError(f"{path}: cannot read the model file ({exc.strerror})") from exc
        return cls.from_bytes(data, source=str(path), **options)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bytes>", threads: int | None = None,
                   threshold: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                   verify: bool = True) -> "Predictor":
        """Load a model from the bytes of a self-contained .onnx file (no external data).

        The golden vectors are scored before it is returned (VerificationError if this device computes them
        differently); verify=False skips that, for callers that verify once and load many times.
        """
        check_limit(max_bytes)
        check_size(len(data), max_bytes, source)
        facts = scan(data, source)  # before onnxruntime sees the bytes: it must never open another file
        session = make_session(data, source, threads, facts)
        check_signature(session, source)
        manifest = Manifest.from_json(manifest_text(session, source), source)
        check_width(session, len(manifest.feature_names), source)
        predictor = cls(session, manifest, data, source=source, threads=threads, threshold=threshold)
        if verify:
            predictor.verify()
        return predictor

    @classmethod
    def default(cls, **options: Any) -> "Predictor":
        """Load the model packaged with edge-predict (the lecture's hours -> pass model)."""
        return cls.from_path(default_model_path(), **options)

    # -- read-only facts ----------------------------------------------------------------------
    @property
    def feature_names(self) -> tuple[str, ...]:
        return self._manifest.feature_names

    @property
    def labels(self) -> tuple[str, str]:
        return self._manifest.labels

    @property
    def threshold(self) -> float:
        return self._threshold

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the whole manifest (changing it changes nothing here)."""
        return json.loads(json.dumps(self._manifest.raw))

    @property
    def sha256(self) -> str:
        import hashlib  # only here: the CLI's start-up does not need OpenSSL

        return hashlib.sha256(self._model_bytes).hexdigest()

    @property
    def source(self) -> str:
        return self._source

    # -- scoring ------------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability of the positive label (labels[1]) per sample: float32 array of shape (n,)."""
        return self._run(self._check(X))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 per sample (index into `labels`): 1 where probability >= threshold; int64, shape (n,)."""
        return (self.predict_proba(X) >= self._threshold).astype(np.int64)

    def predict_table(self, X: Any) -> dict[str, np.ndarray]:
        """The outputs per sample as named columns, as the CLI's CSV prints them: probability, label."""
        proba = self.predict_proba(X)
        return {"probability": proba, "label": np.asarray(self.labels)[(proba >= self._threshold).astype(np.int64)]}

    def input_errors(self, X: Any) -> list[InputError]:
        """One InputError per sample of 2-D `X` holding a non-finite or out-of-domain value (for skipping rows)."""
        return self._check.errors(X)

    def verify(self) -> float:
        """Score the golden vectors stored at export: the largest absolute difference, or VerificationError."""
        x = np.asarray(self._manifest.golden_inputs, dtype=np.float32)
        expected = np.asarray(self._manifest.golden_probabilities, dtype=np.float64)
        atol = self._manifest.golden_atol
        try:
            got = self._run(x).astype(np.float64)
        except InputError as exc:  # the manifest's own vectors: this device computes them wrong
            raise VerificationError(f"{self._source}: golden vectors do not match: golden vector {exc.row} "
                                    f"scores NaN on this device (expected {expected[exc.row]:g})",
                                    difference=math.inf) from None
        diff = float(np.max(np.abs(got - expected)))
        if not diff <= atol:
            raise VerificationError(f"{self._source}: golden vectors do not match: largest difference {diff:.3g} > "
                                    f"atol {atol:g}; this file or this device does not compute what torch computed",
                                    difference=diff)
        return diff

    def _run(self, x: np.ndarray) -> np.ndarray:
        try:  # free when nothing is raised (Python 3.11): the hot path pays nothing for it
            out = self._session.run(self._output_names, {self._input_name: x}, self._run_options)
        except Exception as exc:  # onnxruntime's pybind classes never leave the library
            raise run_failure(exc, self._source) from exc
        proba = out[0].reshape(-1)
        # onnxruntime's Sigmoid returns 1.0000001 for some logits in [17.48, 18); a probability never exceeds 1
        if proba.size <= SMALL:
            in_range = all(0.0 <= v <= 1.0 for v in proba.tolist())
        else:  # as uint32, 0.0..1.0 are exactly the patterns up to 1.0's: one read instead of a read and a write
            in_range = proba.view(np.uint32).max() <= _ONE_BITS
        if in_range:
            return proba
        broken = np.flatnonzero(np.isnan(proba))  # only here: NaN fails the range check above too
        if broken.size:
            row = int(broken[0])
            raise InputError(f"sample {row}: the model computed NaN ({_OVERFLOW})", row=row,
                             problem=f"makes the model compute NaN ({_OVERFLOW})")
        return np.clip(proba, 0.0, 1.0, out=proba)

    # -- pickling: ship the model bytes, rebuild the session on the other side ---------------
    def __reduce__(self):
        return (_rebuild, (self._model_bytes, self._source, self._threads, self._threshold))

    def __repr__(self) -> str:
        return f"Predictor(source={self._source!r}, features={list(self.feature_names)}, threshold={self._threshold})"


def _rebuild(data: bytes, source: str, threads: int | None, threshold: float) -> Predictor:
    return Predictor.from_bytes(data, source=source, threads=threads, threshold=threshold, max_bytes=len(data))


def _checked_threshold(threshold: Any) -> float:
    """`threshold` as a float, or InputError (a ValueError; exit 2 in the CLI) if it is not in [0, 1]."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise InputError(f"threshold={threshold!r}: expected a number in [0, 1] (a probability)")
    return value
