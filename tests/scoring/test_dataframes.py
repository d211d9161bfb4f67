"""Tables are read by column name, as the CLI reads a CSV header: any order, extra columns ignored."""

import itertools
import json

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from helpers import sealed
from edge_predict import InputError, Predictor
from edge_predict.model.manifest import METADATA_KEY
from helpers import handmade

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
NAMES = ["a", "b", "c", "d"]
W = np.float32([[1.0], [-2.0], [3.0], [-4.0]])  # every feature weighs differently: a swap changes the answer


@pytest.fixture(scope="module")
def predictor():
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["z"]), helper.make_node("Sigmoid", ["z"], ["p"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])],
        [numpy_helper.from_array(W, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    golden = [[0.1, 0.2, 0.3, 0.4]]
    p = 1 / (1 + np.exp(-(np.float64(golden) @ W.astype(np.float64))))
    doc = {
        "format": 2,
        "task": "binary",
        "labels": ["no", "yes"],
        "threshold": 0.5,
        "training": {},
        "versions": {},
        "features": [{"name": n, "min": None, "max": None} for n in NAMES],
        "golden": {"inputs": golden, "outputs": p.tolist(), "atol": 1e-6},
    }
    helper.set_model_props(model, {METADATA_KEY: json.dumps(doc)})
    return Predictor.from_bytes(sealed(model))


X = np.random.default_rng(0).uniform(-1, 1, (5, 4))


@pytest.mark.parametrize("order", list(itertools.permutations(NAMES)), ids="".join)
def test_every_column_order_gives_the_same_answer(predictor, order):
    expected = predictor.predict_proba(X)
    frame = pd.DataFrame(X, columns=NAMES)[list(order)]
    np.testing.assert_array_equal(predictor.predict_proba(frame), expected)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    np.testing.assert_array_equal(predictor.predict_proba(table), expected)


def test_extra_columns_are_ignored(predictor):
    frame = pd.DataFrame(X, columns=NAMES).assign(id=range(5), label=["x"] * 5)[["id", "d", "label", "b", "a", "c"]]
    np.testing.assert_array_equal(predictor.predict_proba(frame), predictor.predict_proba(X))


def test_a_missing_column_is_named_with_the_extra_ones(predictor):
    frame = pd.DataFrame(X, columns=["a", "b", "c", "D"])
    with pytest.raises(
        InputError,
        match=r"X has no column 'd' \(it has extra columns 'D'\); the model reads its "
        r"features by name: a, b, c, d",
    ):
        predictor.predict_proba(frame)


def test_a_missing_value_is_named_like_nan(predictor):
    frame = pd.DataFrame(X, columns=NAMES).astype({"b": "Float64"})
    frame.loc[2, "b"] = pd.NA
    with pytest.raises(InputError, match="sample 2, b: nan is NaN"):
        predictor.predict_proba(frame)


@pytest.mark.parametrize("library", ["pandas", "polars", "pyarrow"])
@pytest.mark.parametrize(
    "values", [["x"] * 5, ["1_0", "2", "3", "4", "5"], ["\u0663", "7", "1", "2", "3"], [True, False, True, True, False]]
)
def test_columns_that_are_not_numbers_are_refused(predictor, library, values):
    """As for arrays: no string is read with Python's float grammar ('1_0' -> 10.0, Arabic-Indic 3 -> 3.0)."""
    columns = {name: X[:, i] for i, name in enumerate(NAMES)} | {"c": values}
    frame = (
        pd.DataFrame(columns)
        if library == "pandas"
        else pytest.importorskip(library).table(columns)
        if library == "pyarrow"
        else pytest.importorskip(library).DataFrame(columns)
    )
    with pytest.raises(InputError, match=r"X's column 'c' holds \S+ values, but the model expects numbers"):
        predictor.predict_proba(frame)


def test_polars_frames_are_read_by_name_too(predictor):
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({name: X[:, i] for i, name in enumerate(NAMES)}).select(["c", "a", "d", "b"])
    np.testing.assert_array_equal(predictor.predict_proba(frame), predictor.predict_proba(X))


def test_a_polars_lazyframe_is_refused_with_the_fix_and_a_series_is_one_column(predictor):
    pl = pytest.importorskip("polars")
    lazy = pl.DataFrame({name: X[:, i] for i, name in enumerate(NAMES)}).lazy()
    with pytest.raises(InputError, match=r"LazyFrame, a table this runtime cannot read by column name.*collect\(\)"):
        predictor.predict_proba(lazy)
    one = Predictor.default()  # one feature: a Series is its column
    hours = np.array([1.0, 7.0], np.float32)
    np.testing.assert_array_equal(one.predict_proba(pl.Series(hours)), one.predict_proba(hours.reshape(-1, 1)))


def test_pandas_is_not_imported_for_arrays():
    import subprocess
    import sys

    code = (
        "import sys; from edge_predict import Predictor; Predictor.default().predict_proba([[1.0]]); "
        "print(sorted(m for m in ('pandas', 'pyarrow', 'polars') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


class Frame(pd.DataFrame):
    """A pandas DataFrame subclass, as libraries and applications define them."""

    @property
    def _constructor(self):
        return Frame


class OtherTable:
    """Another library's table (modin, for one): named columns, and np.asarray gives them in its own order."""

    columns = ["d", "c", "b", "a"]

    def __array__(self, dtype=None, copy=None):
        return X[:, ::-1].copy()


def test_a_dataframe_subclass_is_read_by_name(predictor):
    frame = Frame(X, columns=NAMES)[["d", "b", "c", "a"]]
    assert type(frame) is Frame
    np.testing.assert_array_equal(predictor.predict_proba(frame), predictor.predict_proba(X))


def test_another_librarys_table_is_refused_not_read_by_position(predictor):
    with pytest.raises(InputError) as info:
        predictor.predict_proba(OtherTable())
    assert str(info.value) == (
        "X is a test_dataframes.OtherTable, a table this runtime cannot read by column name; convert it to a "
        "pandas or polars DataFrame or a pyarrow Table, e.g. X.to_pandas() (X.collect() for a polars LazyFrame)"
    )


def test_columns_labelled_by_numbers_are_read_by_name():
    """pd.DataFrame(array) labels its columns 0, 1, ...: a model with features '0' and '1' reads them by name."""
    doc = handmade.manifest(
        "regression",
        features=(("0", None, None), ("1", None, None)),
        golden_inputs=((1.0, 2.0),),
        golden_outputs=((21.0,),),
    )
    predictor = Predictor.from_bytes(handmade.weighted_sum([1, 10], doc))
    frame = pd.DataFrame(np.array([[1.0, 2.0], [3.0, 4.0]]))[[1, 0]]
    np.testing.assert_array_equal(predictor.predict(frame), np.float32([21.0, 43.0]))
