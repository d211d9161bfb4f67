"""Predictor: an edge-predict model loaded into an engine's session (onnxruntime or numpy), scored with checked input."""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping

import json
import math

import numpy as np

from edge_predict import engines
from edge_predict.model import golden
from edge_predict.model.integrity import sha256_hex
from edge_predict.scoring import outputs as tasks
from edge_predict.errors import InputError, ModelError, NonFiniteOutputError, VerificationError
from edge_predict.model.manifest import Feature, Manifest
from edge_predict.model.file import DEFAULT_MAX_BYTES, check_limit, default_model_path, read_model_file
from edge_predict.model.session import Runner, open_model, run_failure
from edge_predict.model import operators
from edge_predict.model.limits import GraphLimits
from edge_predict.scoring import metrics
from edge_predict.scoring.frames import column_labels
from edge_predict.scoring.inputs import InputCheck, checked_threshold
from edge_predict.scoring.typed import TypedInputCheck
from edge_predict.float32 import TINY


_NAME_SETS = 64  # predict_table keeps the output names of this many input column sets


class Predictor:
    """Scores samples with one edge-predict model; build it with from_path, from_bytes or default."""

    def __init__(
        self,
        session: Any,
        manifest: Manifest,
        model_bytes: bytes,
        *,
        source: str = "<bytes>",
        threads: int | None = None,
        threshold: float | None = None,
        allow_ops: frozenset[tuple[str, str]] = frozenset(),
        limits: Any = None,
        rows_sum_to_one: bool = False,
    ):
        self._session = session
        self._manifest = manifest
        self._model_bytes = model_bytes
        self._source = source
        self._threads = threads
        self._allow_ops, self._limits = allow_ops, limits  # for pickling: the other side checks as this one did
        self._threshold = manifest.threshold if threshold is None else checked_threshold(threshold, manifest.task)
        self._runner = Runner(session, manifest.output or session.get_outputs()[0].name, manifest.width)
        self._task, self._width = manifest.task, manifest.width  # read on every call
        # the graph's structure proves its rows sum to 1 (model/proofs.py): the output check tests the values only
        self._rows_sum_to_one = rows_sum_to_one
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}  # predict_table's column names per input columns
        self._classes = np.asarray(manifest.labels) if manifest.task != "regression" else None  # never handed out
        if manifest.numeric:  # one float32 input: the checked array is what the session takes
            self._check = InputCheck(manifest.feature_names, manifest.domain)
        else:  # numbers and categories, missing values: a feed of one array per graph input
            self._check = TypedInputCheck(manifest)
            self._run = self._run_feed
        self._engine = getattr(session, "engine", "onnxruntime")  # the numpy engine's session names itself
        self._signature = None  # set by from_path when a public key checked the model's signature

    # -- named constructors -------------------------------------------------------------------
    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike,
        *,
        public_key: str | os.PathLike | bytes | None = None,
        state_file: str | os.PathLike | None = None,
        **options: Any,
    ) -> "Predictor":
        """Load the model file at `path`; options as for from_bytes.

        With `public_key` (a PEM file's path, or its bytes) the model must carry a signature by that key
        (PATH.sig, see docs/signing.md), checked before onnxruntime sees a byte; ModelError otherwise. With a key and
        `state_file` too, the model must not be older than the highest version of its name accepted before
        (signing.check_rollback), and a newer one is recorded there once it loaded and verified.
        """
        max_bytes = options.get("max_bytes", DEFAULT_MAX_BYTES)
        bounds = GraphLimits.of(options.get("limits"))  # a large file's fields are counted as it is read
        if public_key is None:
            return cls.from_bytes(read_model_file(path, max_bytes, bounds), source=os.fspath(path), **options)
        from edge_predict import signing

        data, signature = signing.read_verified(
            path, signing.read_key(public_key), lambda p: read_model_file(p, max_bytes, bounds)
        )
        predictor = cls.from_bytes(data, source=os.fspath(path), **options)
        predictor._signature = signature
        if state_file is not None:
            signing.check_rollback(predictor._manifest.raw, predictor.source, state_file)
        return predictor

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        source: str = "<bytes>",
        threads: int | None = None,
        threshold: float | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        verify: bool = True,
        allow_ops: Iterable[str] | None = None,
        limits: GraphLimits | Mapping[str, int] | None = None,
        engine: str | None = None,
    ) -> "Predictor":
        """Load a model from the bytes of a self-contained .onnx file (no external data).

        The graph is checked first (docs/security.md): only the documented operators, and those named in
        `allow_ops` ('Loop', 'com.microsoft:Gelu'); within the graph limits (`limits`, e.g. {"nodes": 50000}).
        The golden vectors are scored before it is returned, as one batch, one row at a time and as a batch of
        another size (VerificationError if this device computes them differently, or the answer depends on the
        batch); verify=False skips that, for callers that verify once and load many times.

        `engine`: 'onnxruntime', 'numpy' (docs/engines.md), or None: onnxruntime where it is installed, else numpy.
        A file whose manifest does not list the engine (golden.engines: proven at export) scores only once verify()
        passed on it, which verify=True does at load; with verify=False, scoring raises ModelError until then.
        """
        check_limit(max_bytes)
        allowed, bounds = operators.parse(allow_ops), GraphLimits.of(limits)
        name = engines.resolve(engine)
        session, manifest, pair = open_model(data, source, threads, max_bytes, bounds, allowed, engines.factory(name))
        predictor = cls(
            session,
            manifest,
            data,
            source=source,
            threads=threads,
            threshold=threshold,
            allow_ops=allowed,
            limits=bounds,
            rows_sum_to_one=pair,
        )
        predictor._engine = name
        if name not in manifest.engines:  # not proven on this engine at export: scoring waits for verify()
            predictor._runner = _Unproven(predictor._runner, source, name, manifest.engines)
        if verify:
            predictor.verify()
        return predictor

    @classmethod
    def default(cls, **options: Any) -> "Predictor":
        """Load the model packaged with edge-predict (the lecture's hours -> pass model)."""
        return cls.from_path(default_model_path(), **options)

    # -- read-only facts ----------------------------------------------------------------------
    @property
    def task(self) -> str:
        """'binary', 'multiclass' or 'regression'."""
        return self._manifest.task

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self._manifest.feature_names

    @property
    def features(self) -> tuple[Feature, ...]:
        """Each feature's type and rules, in order: a number (its domain; whether it may be missing) or a category
        (its vocabulary; what an unknown and a missing value get); docs/artifact.md."""
        return self._manifest.features

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
    def model_name(self) -> str | None:
        """The model's name in its manifest (format 3), what rollback protection and the HTTP server go by."""
        return self._manifest.model_name

    @property
    def model_version(self) -> int | None:
        """The model's version in its manifest (format 3): larger for a newer export of the same name."""
        return self._manifest.model_version

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
    def engine(self) -> str:
        """The engine scoring this model: 'onnxruntime' or 'numpy'."""
        return self._engine

    @property
    def proven(self) -> bool:
        """Whether the engine reproduced the golden vectors: at export (golden.engines), or here by verify(). An
        unproven Predictor (verify=False on an engine the file was not proven on) refuses to score."""
        return not isinstance(self._runner, _Unproven)

    @property
    def signature(self):
        """The signing.SignatureInfo a public key verified at load (key fingerprint, sha256), else None."""
        return self._signature

    @property
    def output_names(self) -> tuple[str, ...]:
        """The names of predict_table's columns, the CLI's output columns (for an input with no column named so)."""
        return tasks.column_names(self.task, self.labels, self.targets)

    def output_names_for(self, input_columns: Iterable[str]) -> tuple[str, ...]:
        """The output columns' names beside an input with these columns: output_names, except that one named like
        an input column (a truth column 'label') is predicted_<name>; InputError if that is an input column too."""
        return tasks.column_names(self.task, self.labels, self.targets, tuple(input_columns))

    @property
    def threshold(self) -> float:
        """P(classes_[1]) at or above which a binary model predicts classes_[1] (binary models only)."""
        if self._threshold is None:
            raise AttributeError(f"a {self.task} model has no threshold; only binary models have one")
        return self._threshold

    # -- scoring ------------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, float32 (n, n_classes) in classes_ order (classifiers only)."""
        if self._task == "regression":
            raise AttributeError("predict_proba: a regression model has no class probabilities; use predict")
        out = self._run(self._check(X))
        if self._width == 1:  # formats 1 and 2: P(labels[1]) only; [1 - p, p] built here
            if out.size <= TINY:  # float32(1.0 - p) is float32(1) - p for every float32 p in [0, 1] (all compared)
                return np.array([(1.0 - p, p) for p in out[:, 0].tolist()], np.float32)
            # written into one array: no temporary of 1 - p, no stacking copy
            proba = np.empty((len(out), 2), np.float32)
            proba[:, 1:] = out
            np.subtract(np.float32(1), out[:, 0], out=proba[:, 0])
            return proba
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Classifiers: the class label per sample (n,). Regression: the values, (n,) or (n, t) for t targets."""
        out = self._run(self._check(X))
        if self._task == "regression":
            return out[:, 0] if out.shape[1] == 1 else out
        return tasks.labels(out, self._task, self._classes, self._threshold)

    def predict_table(self, X: Any, *, input_columns: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """The outputs as named columns, as the CLI's CSV prints them: output_names_for(the input's columns).

        The input's columns are `input_columns` if given, else X's own (a DataFrame or Table: a truth column
        'label' in it makes the label output 'predicted_label'); an array has none (output_names).
        """
        taken = tuple(column_labels(X) if input_columns is None else input_columns)
        names = self._names.get(taken) or self._names_for(taken)
        return tasks.table(self._run(self._check(X)), self._task, self._classes, self._threshold, names)

    def _names_for(self, taken: tuple[str, ...]) -> tuple[str, ...]:
        """output_names_for(taken), kept for the next call (a few input column sets; InputError is not kept)."""
        names = self.output_names_for(taken)
        if len(self._names) < _NAME_SETS:
            self._names[taken] = names
        return names

    def score_rows(
        self, X: Any, *, input_columns: Iterable[str] | None = None
    ) -> tuple[dict[str, np.ndarray] | None, dict[int, InputError]]:
        """Score every sample of X that can be scored: predict_table of those rows (in order; None if none can be)
        and, per row of X that cannot, its InputError (keyed by row, in row order). The keep-going scorer of the
        CLI's --keep-going, Dask's and Spark's on_error="null".

        ModelError (the graph computed something impossible for a sample) is raised with .row the row of X.
        """
        taken = tuple(column_labels(X) if input_columns is None else input_columns)  # output names as predict_table's
        x = self._check.convert(X)[0]
        keep = np.arange(len(x))
        errors: dict[int, InputError] = {}
        while keep.size:
            try:
                table = self.predict_table(x[keep] if errors else x, input_columns=taken)
            except ModelError as exc:
                if exc.row is None:
                    raise
                row = int(keep[exc.row])
                raise ModelError(f"{self._source}: sample {row}: {exc.problem}", row=row, problem=exc.problem) from None
            except InputError as exc:
                if exc.row is None:
                    raise
                if isinstance(exc, NonFiniteOutputError):  # the model's NaN for a sample: that sample alone
                    found = [tasks.nonfinite(int(keep[exc.row]), exc.computed)]
                else:  # a bad value: every row holding one at once, numbered as in X
                    found = [error for error in self._check.errors(x) if error.row not in errors]
                errors.update((error.row, error) for error in found)
                keep = np.setdiff1d(keep, [error.row for error in found], assume_unique=True)
            else:
                return table, dict(sorted(errors.items()))
        return None, dict(sorted(errors.items()))

    def evaluate(self, X: Any, y: Any) -> dict[str, Any]:
        """How the model does on samples X whose truth is y: the task's metrics (scoring/metrics.py), beside the
        figures of the model's training record where it has them.

        y: classifiers, the model's labels as text (UnknownLabelError naming any other value); regression, the
        values, (n,) or (n, t). Returns {"task", "rows", "metrics", "training"}; classifiers' metrics hold the
        confusion matrix (rows: truth, columns: predicted, in classes_ order). A bad sample in X raises as predict.
        """
        out = self._run(self._check(X))
        n = len(out)
        if self.task == "regression":
            truth = metrics.target_values(y, n, len(self.targets))
            scores = metrics.regression(out, truth, self.targets)
            names = metrics.REGRESSION
        else:
            truth = metrics.class_codes(y, self.labels, n)
            if self.task == "binary" and out.shape[1] == 1:  # formats 1 and 2: P(labels[1]) only
                out = np.column_stack([1 - out[:, 0], out[:, 0]])
            predicted = tasks.label_codes(out, self.task, self._threshold)
            scores = metrics.classification(out, truth, predicted)
            names = metrics.CLASSIFIER
        record = self._manifest.raw.get("training") or {}
        return {"task": self.task, "rows": n, "metrics": scores, "training": metrics.training_figures(record, names)}

    def input_errors(self, X: Any) -> list[InputError]:
        """One InputError per sample of `X` holding a non-finite or out-of-domain value (for skipping rows); X is
        read as predict reads it (a DataFrame's columns by name)."""
        return self._check.errors(self._check.convert(X)[0])

    def verify(self) -> float:
        """Score the golden vectors stored at export: the largest absolute difference, or VerificationError. On an
        engine the file was not proven on at export, passing is the proof that lets it score."""
        held = self._runner if isinstance(self._runner, _Unproven) else None
        runner = None if held is None else held.runner
        if isinstance(self._check, InputCheck):
            difference = golden.verify(lambda x: self._run(x, runner), self._manifest, self._source)
        else:
            rows = self._check.rows(self._manifest.golden_inputs)
            difference = golden.verify(lambda r: self._golden_run(r, runner), self._manifest, self._source, rows)
        if held is not None:
            self._runner = held.runner
        return difference

    def _golden_run(self, rows, runner=None) -> np.ndarray:
        """The graph's output for golden rows of a typed model: through the typed check, as any input goes."""
        try:
            feed = self._check(rows)
        except InputError as exc:
            raise VerificationError(
                f"{self._source}: golden vector {exc.row} is refused by the model's own manifest ({exc}); "
                "re-export the model",
                difference=math.inf,
            ) from None
        return self._run_feed(feed, runner)

    def _run(self, x: np.ndarray, runner=None) -> np.ndarray:
        """The graph's output for checked input, (n, width), itself checked (run_failure, NaN rows)."""
        try:  # free when nothing is raised (Python 3.11): the hot path pays nothing for it
            out = (runner or self._runner).run(x)
        except ModelError:  # _Unproven's refusal, worded already
            raise
        except Exception as exc:  # onnxruntime's pybind classes never leave the library
            raise run_failure(exc, self._source, self._engine) from exc
        return tasks.check_output(out, len(x), self._width, self._task, self._source, self._rows_sum_to_one)

    def _run_feed(self, feed: dict[str, np.ndarray], runner=None) -> np.ndarray:
        """_run for typed models: the graph's output for a checked feed (one array per graph input)."""
        try:
            out = (runner or self._runner).run(feed)
        except ModelError:  # _Unproven's refusal, worded already
            raise
        except Exception as exc:  # onnxruntime's pybind classes never leave the library
            raise run_failure(exc, self._source, self._engine) from exc
        n = len(next(iter(feed.values())))
        return tasks.check_output(out, n, self._width, self._task, self._source, self._rows_sum_to_one)

    # -- pickling: ship the model bytes, rebuild the session on the other side ---------------
    def __reduce__(self):
        allowed = sorted(operators.name(d, op) for d, op in self._allow_ops)
        return (
            _rebuild,
            (self._model_bytes, self._source, self._threads, self._threshold, allowed, self._limits, self._engine),
        )

    def __repr__(self) -> str:
        return f"Predictor(source={self._source!r}, task={self.task!r}, features={list(self.feature_names)})"


class _Unproven:
    """The runner of a file not proven on its engine at export: refuses to score until verify() passes."""

    def __init__(self, runner: Runner, source: str, engine: str, proven: tuple[str, ...]):
        self.runner, self._source, self._engine, self._proven = runner, source, engine, proven

    def run(self, x: np.ndarray) -> np.ndarray:
        raise ModelError(
            f"{self._source}: the model was proven at export on {', '.join(self._proven)}, not on the {self._engine} "
            "engine, and has not been verified on it here; load it with verification (drop --no-verify; "
            "verify=True) or call verify() first"
        )


def _rebuild(
    data: bytes, source: str, threads: int | None, threshold: float, allow_ops=(), limits=None, engine=None
) -> Predictor:
    return Predictor.from_bytes(
        data,
        source=source,
        threads=threads,
        threshold=threshold,
        max_bytes=len(data),
        allow_ops=allow_ops,
        limits=limits,
        engine=engine,
    )
