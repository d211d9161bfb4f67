"""Predictor: an edge-predict model loaded into an onnxruntime session, scored with checked input."""

from __future__ import annotations

import json
import math
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from .errors import InputError, ModelError, VerificationError
from .manifest import METADATA_KEY, Manifest
from .validation import SMALL, InputCheck
from .modelfile import DEFAULT_MAX_BYTES, ModelFacts, check_limit, check_size, scan

if TYPE_CHECKING:
    from pathlib import Path

_ONE_BITS = int(np.float32(1.0).view(np.uint32))
_OVERFLOW = "the input overflows float32 arithmetic inside the model"


def default_model_path() -> "Path":
    """Where the model packaged with edge-predict lives."""
    from pathlib import Path

    return Path(_default_model_file())


def _default_model_file() -> str:
    from . import models  # pathlib stays unimported on the CLI's path: it costs ~3 ms at start-up

    return os.path.join(os.path.dirname(models.__file__), "default.onnx")


class Predictor:
    """Scores samples with one edge-predict model; build it with from_path, from_bytes or default."""

    def __init__(self, session: ort.InferenceSession, manifest: Manifest, model_bytes: bytes,
                 *, source: str = "<bytes>", threads: int | None = None, threshold: float | None = None):
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
    def from_path(cls, path: str | os.PathLike, *, threads: int | None = None, threshold: float | None = None,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> "Predictor":
        """Load the model file at `path` (refused if larger than `max_bytes`)."""
        path = os.fspath(path)
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
        return cls.from_bytes(data, source=str(path), threads=threads, threshold=threshold, max_bytes=max_bytes)

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "<bytes>", threads: int | None = None,
                   threshold: float | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> "Predictor":
        """Load a model from the bytes of an .onnx file; only self-contained models (no external data)."""
        check_limit(max_bytes)
        check_size(len(data), max_bytes, source)
        facts = scan(data, source)  # before onnxruntime sees the bytes: it must never open another file
        session = _make_session(data, source, threads, facts)
        _check_signature(session, source)
        text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        manifest = Manifest.from_json(text, source)
        _check_width(session, manifest, source)
        return cls(session, manifest, data, source=source, threads=threads, threshold=threshold)

    @classmethod
    def default(cls, *, threads: int | None = None, threshold: float | None = None) -> "Predictor":
        """Load the model packaged with edge-predict (the lecture's hours -> pass model)."""
        return cls.from_path(_default_model_file(), threads=threads, threshold=threshold)

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
        import hashlib  # only here: it loads OpenSSL, ~3 MiB and ~2 ms the CLI's start-up does not need

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

    def verify(self) -> float:
        """Score the golden vectors stored at export; return the largest absolute difference."""
        x = np.asarray(self._manifest.golden_inputs, dtype=np.float32)
        expected = np.asarray(self._manifest.golden_probabilities, dtype=np.float32)
        try:
            got = self._run(x)
        except InputError as exc:  # the manifest's own vectors: this device computes them wrong
            raise VerificationError(f"{self._source}: golden vectors do not match: golden vector {exc.row} "
                                    f"scores NaN on this device (expected {expected[exc.row]:g})") from None
        return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))

    def _run(self, x: np.ndarray) -> np.ndarray:
        try:  # free when nothing is raised (Python 3.11): the hot path pays nothing for it
            out = self._session.run(self._output_names, {self._input_name: x}, self._run_options)
        except Exception as exc:  # onnxruntime's pybind classes never leave the library
            raise ModelError(_run_failure(str(exc), self._source)) from exc
        proba = out[0].reshape(-1)
        # onnxruntime's Sigmoid returns 1.0000001 for some logits in [17.48, 18); a probability never exceeds 1
        if proba.size <= SMALL:
            in_range = all(0.0 <= v <= 1.0 for v in proba.tolist())  # a tenth of np.clip's 2 µs on one value
        else:  # as uint32, 0.0..1.0 are exactly the patterns up to 1.0's: one read instead of a read and a write
            in_range = proba.view(np.uint32).max() <= _ONE_BITS
        if in_range:
            return proba
        broken = np.flatnonzero(np.isnan(proba))  # only here: NaN fails the range check above too
        if broken.size:
            row = int(broken[0])
            raise InputError(f"sample {row}: the model computed NaN ({_OVERFLOW})", row=row, col=0,
                             problem=f"makes the model compute NaN ({_OVERFLOW})")
        return np.clip(proba, 0.0, 1.0, out=proba)

    def check_input(self, X: Any) -> np.ndarray:
        """X as a C-contiguous float32 array (n, n_features), or InputError saying what to fix."""
        return self._check(X)

    def input_errors(self, X: Any) -> list[InputError]:
        """One InputError per sample of 2-D `X` holding a non-finite or out-of-domain value (for skipping rows)."""
        return self._check.errors(X)

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


def _run_failure(text: str, source: str) -> str:
    return f"{source}: onnxruntime failed to score with this model ({_first_line(text)}); re-export or re-copy it"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def _make_session(data: bytes, source: str, threads: int | None, facts: ModelFacts) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 4  # fatal only: onnxruntime's own log lines would break the one-line contract
    # Defaults measured by `make bench` (README, Benchmarks): one thread is as fast at batch 1 and fastest at
    # 1e6 rows on a small shared CPU; with more threads, spin-waiting only burns the cores others need.
    cpus = os.cpu_count() or 1
    if threads is not None and not 1 <= threads <= cpus:  # thousands of threads take minutes to start
        raise ValueError(f"threads={threads!r}: expected 1 to {cpus} (this machine's CPUs); "
                         "more threads than CPUs only slow onnxruntime down")
    options.intra_op_num_threads = 1 if threads is None else int(threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind classes; one boundary wraps them all
        raise ModelError(_load_failure(str(exc), source, facts)) from exc


def _load_failure(text: str, source: str, facts: ModelFacts) -> str:
    """One line on why onnxruntime refused the model, and what to do when the cause is a version."""
    ir = re.search(r"max supported IR version: (\d+)", text)
    if ir:
        return (f"{source}: the model is ONNX IR version {facts.ir_version}, but onnxruntime {ort.__version__} "
                f"reads IR versions up to {ir.group(1)}; upgrade onnxruntime (pip install -U onnxruntime) "
                "or re-export the model with an older onnx (edge-train --opset 17)")
    opset = re.search(r"support for domain (\S+) is till opset (\d+)", text)
    if opset:
        needed = facts.opsets.get(opset.group(1), "?")
        return (f"{source}: the model needs opset {needed} of {opset.group(1)}, but onnxruntime {ort.__version__} "
                f"supports up to opset {opset.group(2)}; upgrade onnxruntime (pip install -U onnxruntime) "
                f"or re-export the model with edge-train --opset {min(int(opset.group(2)), 17)}")
    return f"{source}: onnxruntime cannot load this model ({_first_line(text)}); re-export or re-copy it"


def _check_signature(session: ort.InferenceSession, source: str) -> None:
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ModelError(
            f"{source}: the model has {len(inputs)} inputs and {len(outputs)} outputs, "
            "but edge-predict scores models with exactly one of each"
        )
    arg = inputs[0]
    if arg.type != "tensor(float)" or len(arg.shape) != 2:
        raise ModelError(
            f"{source}: input {arg.name!r} is {arg.type} of rank {len(arg.shape)}, "
            "but edge-predict expects a float32 tensor of shape (batch, features)"
        )
    if outputs[0].type != "tensor(float)":
        raise ModelError(f"{source}: output {outputs[0].name!r} is {outputs[0].type}, but edge-predict "
                         "expects float32 probabilities")


def _check_width(session: ort.InferenceSession, manifest: Manifest, source: str) -> None:
    width = session.get_inputs()[0].shape[1]
    if isinstance(width, int) and width != len(manifest.feature_names):
        raise ModelError(
            f"{source}: the graph takes {width} features but the manifest names "
            f"{len(manifest.feature_names)}; re-export the model"
        )
