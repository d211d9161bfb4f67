"""Rows that carry their columns' names (a pandas Series from df.iloc[i] or df.iterrows(), a namedtuple from
df.itertuples()) are read by name, or refused, never by position: the frame's column order is not the model's."""

import pytest

from edge_predict import InputError, Predictor
from handmade import manifest, weighted_sum

pd = pytest.importorskip("pandas")
REASON = (
    "columns.columns_by_name / validation.InputCheck.convert (the lead's files): a list or tuple of rows goes to "
    "np.asarray, by position; fix: when an element is a pandas Series (isinstance against sys.modules['pandas'], "
    "never imported) or has namedtuple _fields, read each row's features by name (row[name]), or refuse with "
    "'X is a list of pandas Series: pass pd.DataFrame(X)', as a list of masked rows is already looked through"
)


@pytest.fixture(scope="module")
def predictor():
    """value = a + 10 b: a swapped column shows (21 against 12)."""
    doc = manifest("regression", features=(("a", None, None), ("b", None, None)), golden_inputs=((1.0, 2.0),))
    doc["golden"]["outputs"] = [[21.0]]
    return Predictor.from_bytes(weighted_sum([1.0, 10.0], doc))


FRAME = pd.DataFrame({"b": [2.0, 3.0], "a": [1.0, 4.0]})  # the model's features, in another order


@pytest.mark.xfail(strict=True, reason=REASON)
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
