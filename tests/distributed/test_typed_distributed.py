"""score_dask on a typed model (helpers/typed.py): text, category and nullable integer columns pass the checks before
the job and score, partition by partition, bit for bit as Predictor scores the whole frame (the synchronous scheduler:
the same code path as a cluster's workers, without starting one)."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")

from edge_predict import InputError, Predictor  # noqa: E402
from edge_predict import distributed  # noqa: E402
from helpers import typed  # noqa: E402

ISLANDS = ["Biscoe", "Dream", "Torgersen", "NA", None]


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor.from_bytes(typed.model_bytes())


def frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    hours = rng.uniform(0, 10, n)
    hours[::7] = np.nan  # missing: imputed
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "rating": pd.array([None if i % 11 == 0 else 1 + i % 3 for i in range(n)], dtype="Int64"),
            "island": pd.Series([ISLANDS[i % 5] for i in range(n)], dtype="string"),
            "sex": pd.Series(["female", "male", "other"] * (n // 3) + ["male"] * (n % 3), dtype="category"),
            "hours": hours,
            "weight": rng.normal(size=n),
        }
    )


def test_dask_scores_typed_columns_as_predictor_does(predictor):
    pdf = frame()
    out = distributed.score_dask(dd.from_pandas(pdf, npartitions=3), predictor).compute(scheduler="synchronous")
    want = predictor.predict_table(pdf)
    np.testing.assert_array_equal(out["probability"].to_numpy().view(np.uint32), want["probability"].view(np.uint32))
    assert out["label"].tolist() == want["label"].tolist()


def test_dask_keeps_going_over_unseen_and_missing_values(predictor):
    pdf = frame(30)
    pdf["island"] = pdf["island"].astype(object)
    pdf.loc[4, "island"] = "Atlantis"
    pdf.loc[9, "weight"] = np.nan
    out = distributed.score_dask(dd.from_pandas(pdf, npartitions=2), predictor, on_error="null").compute(
        scheduler="synchronous"
    )
    table, errors = predictor.score_rows(pdf)
    assert sorted(errors) == [4, 9]
    assert out["error"][4] == (
        "island: 'Atlantis' is not a known category; expected one of 'Biscoe', 'Dream', 'Torgersen', 'NA'"
    )
    assert out["error"][9] == "weight: nan is missing, and weight may not be missing; expected a finite number"
    good = out["error"].isna().to_numpy()
    np.testing.assert_array_equal(out["probability"].to_numpy()[good], table["probability"])


def test_a_text_column_for_a_number_feature_is_refused_before_any_job(predictor):
    pdf = frame(10).assign(weight="1.0")
    with pytest.raises(InputError, match="column 'weight' holds"):
        distributed.score_dask(dd.from_pandas(pdf, npartitions=1), predictor)
