"""export_pipeline(): a fitted scikit-learn Pipeline or ColumnTransformer (SimpleImputer, OneHotEncoder, OrdinalEncoder,
StandardScaler, ...) in front of a torch module, or a Pipeline ending in a skorch net, as one file.

The preprocessing is converted with skl2onnx (a train-side dependency) and composed in front of the module's graph;
the graph takes the raw features by kind, as the encoding spec's does (trainer/encoding.py), and the export measures
torch(scikit-learn's own transform) against onnxruntime on the golden rows and on probe rows.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import onnx

from edge_predict.authoring import shortest_float32

from .encoding import INTEGERS, NUMBERS, TEXT, Column, Encoding
from .graph import ExportError

SKLEARN_INPUT = "pipeline.input"  # the per-column inputs of the converted preprocessing are named by feature
_ENCODERS = ("OneHotEncoder", "OrdinalEncoder")


@dataclass(frozen=True)
class Pipelined(Encoding):
    """The raw features (the schema read from the fitted preprocessing) and the preprocessing itself: scikit-learn's
    transform is the reference, skl2onnx's graph what the file holds."""

    preprocessing: Any = field(default=None, compare=False)
    by_column: bool = False  # a ColumnTransformer: one skl2onnx input per feature, named by it
    gap_values: tuple = ()  # per feature, what scikit-learn's imputer takes as a gap (np.nan, None, ...)

    @property
    def width(self) -> int:
        return int(self.transform(self.golden_rows(None, [(None, None)] * len(self.columns))[:1]).shape[1])

    def module_columns(self) -> list[str]:
        return [f"column {j}" for j in range(self.width)]

    def transform(self, rows: Sequence[Sequence]) -> np.ndarray:
        """scikit-learn's own transform of `rows` (feature order, None for a gap), as float32."""
        frame = self._frame(rows)
        out = self.preprocessing.transform(frame)
        if hasattr(out, "toarray"):
            out = out.toarray()
        return np.asarray(out, np.float32).reshape(len(rows), -1)

    def _frame(self, rows):
        names = list(getattr(self.preprocessing, "feature_names_in_", []))
        columns = []
        for j, c in enumerate(self.columns):
            gap = self.gap_values[j] if self.gap_values else math.nan
            values = [gap if r[j] is None else r[j] for r in rows]
            columns.append(np.array(values, np.float64 if c.type == "number" else object))
        if names:
            import pandas  # fitted on a DataFrame: the pipeline selects its columns by name

            return pandas.DataFrame({name: col for name, col in zip(names, columns)})
        if all(c.type == "number" for c in self.columns):
            return np.stack(columns, axis=1).astype(np.float64)
        table = np.empty((len(rows), len(self.columns)), object)
        for j, col in enumerate(columns):
            table[:, j] = col
        return table

    def prepend(self, proto: onnx.ModelProto, module_input: str) -> None:
        """The converted preprocessing, fed from the graph's inputs by kind, in front of `module_input`."""
        front = self._converted(next(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")))
        front = onnx.compose.add_prefix(front, "pipeline.")
        graph, sk = proto.graph, front.graph
        (old,) = [i for i in graph.input if i.name == module_input]
        position = list(graph.input).index(old)
        graph.input.remove(old)
        nodes, inits = [], []
        index = {c.name: j for j, c in enumerate(self.columns)}
        types = {"float32": onnx.TensorProto.FLOAT, "string": onnx.TensorProto.STRING, "int64": onnx.TensorProto.INT64}
        sk_inputs = [i.name for i in sk.input]  # in initial_types order (skl2onnx may rename them)
        for offset, (name, kind, cols) in enumerate(self.inputs()):
            graph.input.insert(
                position + offset, onnx.helper.make_tensor_value_info(name, types[kind], ["batch", len(cols)])
            )
            if not self.by_column:
                nodes.append(onnx.helper.make_node("Identity", [name], [sk_inputs[0]]))
                continue
            for j, c in enumerate(cols):
                bounds = [f"pipeline.slice.{index[c.name]}.{part}" for part in ("start", "end", "axis")]
                for bound, value in zip(bounds, (j, j + 1, 1)):
                    inits.append(onnx.helper.make_tensor(bound, onnx.TensorProto.INT64, [1], [value]))
                nodes.append(onnx.helper.make_node("Slice", [name, *bounds], [sk_inputs[index[c.name]]]))
        (out,) = sk.output
        nodes.extend(sk.node)
        nodes.append(onnx.helper.make_node("Identity", [out.name], [module_input]))
        graph.initializer.extend([*inits, *sk.initializer])
        body = list(graph.node)
        del graph.node[:]
        graph.node.extend(nodes + body)
        have = {o.domain or "": o for o in proto.opset_import}
        for o in front.opset_import:
            domain = o.domain or ""
            if domain not in have:
                proto.opset_import.append(onnx.helper.make_opsetid(o.domain, o.version))
            elif have[domain].version < o.version:
                have[domain].version = o.version

    def _converted(self, opset: int) -> onnx.ModelProto:
        from skl2onnx import convert_sklearn
        from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

        kinds = {NUMBERS: FloatTensorType, TEXT: StringTensorType, INTEGERS: Int64TensorType}
        if self.by_column:
            initial = [(_column_input(c.name), kinds[c.kind]([None, 1])) for c in self.columns]
        else:
            initial = [(SKLEARN_INPUT, FloatTensorType([None, len(self.columns)]))]
        try:
            return convert_sklearn(
                _for_onnx(self.preprocessing),
                initial_types=initial,
                target_opset={"": opset, "ai.onnx.ml": 3},
            )
        except Exception as exc:  # skl2onnx's refusal of a step it has no converter for
            raise ExportError(
                f"skl2onnx cannot convert the preprocessing: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}"
            ) from exc

    def exporter_record(self) -> dict[str, str]:
        import skl2onnx
        import sklearn

        return {"skl2onnx": skl2onnx.__version__, "scikit-learn": sklearn.__version__}


def _column_input(name: str) -> str:
    return name  # skl2onnx finds a ColumnTransformer's columns by these names


def _for_onnx(preprocessing):
    """The preprocessing as skl2onnx converts it: a text imputer takes the gap the runtime passes ('') for the gap
    scikit-learn was fitted with (NaN or None), which skl2onnx cannot convert for strings; its statistics stay."""
    preprocessing = copy.deepcopy(preprocessing)
    for step in _estimators(preprocessing):
        if type(step).__name__ == "SimpleImputer" and getattr(step, "_fit_dtype", None) is not None:
            if step._fit_dtype.kind == "O" and not isinstance(step.missing_values, str):
                step.missing_values = ""
    return preprocessing


def _estimators(step) -> list:
    """Every estimator inside a Pipeline or ColumnTransformer, depth first."""
    if hasattr(step, "steps"):
        return [e for _, s in step.steps for e in _estimators(s)]
    if hasattr(step, "transformers_"):
        return [e for _, s, _ in step.transformers_ if not isinstance(s, str) for e in _estimators(s)]
    return [step]


def schema(preprocessing, feature_names: Sequence[str]) -> Pipelined:
    """The raw features a fitted preprocessing takes: a column behind a OneHotEncoder or OrdinalEncoder is a category
    (its categories_; an encoder's handle_unknown is the unknown policy), others are numbers; a SimpleImputer in front
    makes gaps imputed (its statistics_)."""
    names = list(feature_names)
    per_column: dict[str, list] = {n: [] for n in names}
    by_column = hasattr(preprocessing, "transformers_")
    if by_column:
        for _, step, cols in preprocessing.transformers_:
            if isinstance(step, str) and step == "drop":
                continue
            selected = [names[c] if isinstance(c, (int, np.integer)) else c for c in np.atleast_1d(cols).tolist()]
            for j, name in enumerate(selected):
                if name not in per_column:
                    raise ExportError(f"the ColumnTransformer selects {name!r}, which is not in feature_names {names}")
                per_column[name].append((step, j))
    else:
        for j, name in enumerate(names):
            per_column[name].append((preprocessing, j))
    columns, gaps = [], []
    for name in names:
        column, gap = _column(name, per_column[name])
        columns.append(column)
        gaps.append(gap)
    return Pipelined(tuple(columns), preprocessing=preprocessing, by_column=by_column, gap_values=tuple(gaps))


def _column(name: str, uses: list) -> tuple[Column, Any]:
    """One feature's Column from the steps that take it (step, its index among the step's columns)."""
    impute, gap, categories, policy = None, math.nan, None, None
    for step, j in uses:
        for estimator in _estimators(step) if not isinstance(step, str) else []:
            kind = type(estimator).__name__
            if kind == "SimpleImputer" and categories is None:
                impute, gap = estimator.statistics_[j], estimator.missing_values
            elif kind in _ENCODERS and categories is None:
                categories = list(estimator.categories_[j])
                policy = _unknown_policy(estimator, name)
    if categories is None:
        if impute is not None and not (isinstance(gap, float) and math.isnan(gap)):
            raise ExportError(f"{name!r}: a SimpleImputer of numbers must take NaN as the gap (missing_values=np.nan)")
        return Column(name, "number", (), None if impute is None else shortest_float32(impute)), gap
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in categories):
        raise ExportError(
            f"{name!r}: the encoder learnt a gap as a category; put a SimpleImputer in front of it, so that a gap is "
            "imputed (or fill the gaps in the training table)"
        )
    text = all(isinstance(v, str) for v in categories)
    categories = tuple(str(v) for v in categories) if text else tuple(int(v) for v in categories)
    if impute is not None and not text:
        raise ExportError(f"{name!r}: an imputer in front of integer categories is not supported; impute them first")
    if impute is not None:
        impute = str(impute)
    return Column(name, "category", categories, impute, policy), gap


def _unknown_policy(encoder, name: str) -> str | None:
    """What the encoder does with an unseen category, as the manifest's unknown_policy; None: it refuses."""
    unknown = getattr(encoder, "handle_unknown", "error")
    if unknown == "error":
        return None
    if type(encoder).__name__ == "OneHotEncoder" and unknown == "ignore":
        return "all-zero one-hot (scikit-learn OneHotEncoder handle_unknown='ignore')"
    if type(encoder).__name__ == "OrdinalEncoder" and unknown == "use_encoded_value":
        return f"code {encoder.unknown_value} (scikit-learn OrdinalEncoder handle_unknown='use_encoded_value')"
    raise ExportError(f"{name!r}: handle_unknown={unknown!r} is not supported; use 'error' or 'ignore'")


def _skorch_parts(pipeline):
    """(preprocessing, net) of a Pipeline whose last step is a skorch net; (pipeline, None) otherwise."""
    steps = getattr(pipeline, "steps", None)
    if steps and hasattr(steps[-1][1], "module_"):
        rest = [s for s in steps[:-1] if not _is_float32_cast(s[1])]
        if not rest:
            raise ExportError("the Pipeline holds only the skorch net: export net.module_ with export()")
        from sklearn.pipeline import Pipeline

        return (rest[0][1] if len(rest) == 1 else Pipeline(rest)), steps[-1][1]
    return pipeline, None


def _is_float32_cast(step) -> bool:
    """A FunctionTransformer(np.float32) (skorch nets take float32): the graph is float32 already."""
    return type(step).__name__ == "FunctionTransformer" and step.func in (np.float32, np.asarray) and not step.kw_args


def _net_settings(net) -> dict[str, Any]:
    """task, labels and outputs of a skorch net, from its class and criterion."""
    kind = type(net).__name__
    criterion = getattr(net, "criterion_", None)
    logits = type(criterion).__name__ in ("CrossEntropyLoss", "BCEWithLogitsLoss")
    if "Regressor" in kind:
        return {"task": "regression"}
    classes = getattr(net, "classes_", None)
    labels = None if classes is None else [str(c) for c in classes]
    if "Binary" in kind:
        return {"task": "binary", "labels": labels or ["0", "1"], "outputs": "logits" if logits else "probabilities"}
    return {"task": "multiclass", "labels": labels, "outputs": "logits" if logits else "probabilities"}


def export_pipeline(
    pipeline,
    path: str | os.PathLike,
    *,
    module=None,
    feature_names: Sequence[str] | None = None,
    **options,
) -> bytes:
    """Export a fitted scikit-learn preprocessing (Pipeline or ColumnTransformer) composed with the torch `module`
    behind it, or a fitted Pipeline whose last step is a skorch net (then `module` is its module_ and task, labels and
    outputs come from the net unless given), to `path`. Other options as export()'s (x_train: raw rows or a DataFrame).
    docs/training.md ("Preprocessing in the file")."""
    from .exporter import export

    preprocessing, net = _skorch_parts(pipeline)
    if net is not None:
        if module is not None:
            raise ExportError("the Pipeline ends in a skorch net, whose module_ is exported; leave module= out")
        module = net.module_
        for key, value in _net_settings(net).items():
            options.setdefault(key, value)
    if module is None:
        raise ExportError("module=: the torch module the preprocessing feeds (or a Pipeline ending in a skorch net)")
    if feature_names is None:
        feature_names = getattr(preprocessing, "feature_names_in_", None)
        if feature_names is None:
            raise ExportError("feature_names=: the preprocessing was fitted without column names; name its columns")
        feature_names = [str(n) for n in feature_names]
    front = schema(preprocessing, feature_names)
    module.eval()
    return export(module, path, feature_names=feature_names, encoding=front, exporter="export_pipeline()", **options)
