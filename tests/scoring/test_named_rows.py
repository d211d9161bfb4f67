"""Rows that carry their columns' names (a pandas Series from df.iloc[i] or df.iterrows(), a namedtuple from
df.itertuples()) are read by name, or refused, never by position: the frame's column order is not the model's."""

import pytest

from edge_predict import InputError, Predictor
from helpers.handmade import manifest, weighted_sum

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def predictor():
    """value = a + 10 b: a swapped column shows (21 against 12)."""
    doc = manifest("regression", features=(("a", None, None), ("b", None, None)), golden_inputs=((1.0, 2.0),))
    doc["golden"]["outputs"] = [[21.0]]
    return Predictor.from_bytes(weighted_sum([1.0, 10.0], doc))


FRAME = pd.DataFrame({"b": [2.0, 3.0], "a": [1.0, 4.0]})  # the model's features, in another order


@pytest.mark.parametrize(
    "rows",
    [
        [FRAME.iloc[0], FRAME.iloc[1]],  # was read as a=2, b=1: 12 and 34 instead of 21 and 34
        (FRAME.iloc[0], FRAME.iloc[1]),
        [row for _, row in FRAME.iterrows()],
        list(FRAME.itertuples(index=False)),
    ],
    ids=["list of iloc", "tuple of iloc", "iterrows", "itertuples"],
)
def test_named_rows_are_read_by_name_or_refused(predictor, rows):
    try:
        values = predictor.predict(rows)
    except InputError:
        return  # refused: fine, never by position
    assert values.tolist() == [21.0, 34.0]


def test_the_frame_itself_is_read_by_name(predictor):
    assert predictor.predict(FRAME).tolist() == [21.0, 34.0]


@pytest.fixture(scope="module")
def hours():
    """The packaged one-feature model: hours -> P(pass)."""
    return Predictor.default()


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_a_series_is_the_column_it_names(hours, library):
    frame = pd.DataFrame({"minutes": [60.0, 420.0], "hours": [1.0, 7.0]})
    if library == "polars":
        frame = pytest.importorskip("polars").DataFrame(frame)
    assert hours.predict_proba(frame["hours"]).tolist() == hours.predict_proba([[1.0], [7.0]]).tolist()
    with pytest.raises(InputError, match=r"^X is a \w+ Series named 'minutes', but the model reads its features by "):
        hours.predict_proba(frame["minutes"])  # was: 60 and 420 scored as hours, P = 1.0 both


def test_an_unnamed_series_is_the_one_feature(hours):
    assert hours.predict_proba(pd.Series([1.0, 7.0])).tolist() == hours.predict_proba([[1.0], [7.0]]).tolist()


def test_a_row_of_the_frame_is_read_by_name(predictor):
    assert predictor.predict(FRAME.iloc[0]).tolist() == [21.0]  # its index: b, a


def test_a_column_for_a_two_feature_model_is_refused(predictor):
    with pytest.raises(InputError, match=r"^X is a pandas Series named 'a', .*: a, b; pass a DataFrame$"):
        predictor.predict(FRAME["a"])


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_a_list_of_named_columns_is_refused(predictor, library):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [10.0, 20.0]})  # two samples of two features: transposable
    table = (
        pytest.importorskip(library).DataFrame(frame)
        if library == "polars"
        else pytest.importorskip("pyarrow").table(frame)
    )
    with pytest.raises(InputError):  # was: read as the rows (1, 2) and (10, 20): [21, 210] for [101, 202]
        predictor.predict([table["a"], table["b"]])
