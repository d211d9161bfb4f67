"""Typed models (manifest format 3): numbers and categories, missing values, on every Predictor surface.

The reference is onnxruntime run directly on the feed encoded by hand (helpers/typed.py) as docs/artifact.md says:
a category in the vocabulary is itself, a missing value the feature's missing_value (NaN for a number)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_predict import InputError, Predictor, VerificationError
from helpers import examples, typed

pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

ROWS = [
    [1.0, 0.5, "Biscoe", "female", 1],
    [None, -1.0, "Dream", "male", 2],
    [7.5, 2.0, "Torgersen", "other", 3],  # an unseen sex: the graph's own bucket (unknown: encode)
    [2.0, 0.0, "NA", "male", None],  # 'NA' is an island; a missing rating is imputed
    [0.0, 1.0, None, "female", 1],  # a missing island is imputed
    [float("nan"), 3.25, "Dream", "female", 3.0],  # NaN hours imputed; the integral float 3.0 is the code 3
]


@pytest.fixture(scope="module")
def data() -> bytes:
    return typed.model_bytes()


@pytest.fixture(scope="module")
def predictor(data) -> Predictor:
    return Predictor.from_bytes(data)


def expected(data: bytes, rows) -> np.ndarray:
    return typed.graph_outputs(data, typed.feed([[None if _nan(v) else v for v in r] for r in rows]))


def _nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def test_the_runtime_feeds_the_graph_what_the_manifest_says(data, predictor):
    np.testing.assert_array_equal(predictor.predict_proba(ROWS), expected(data, ROWS))


def test_predict_and_predict_table_follow_the_probabilities(data, predictor):
    p = expected(data, ROWS)[:, 1]
    labels = np.where(p >= 0.5, "yes", "no")
    np.testing.assert_array_equal(predictor.predict(ROWS), labels)
    table = predictor.predict_table(ROWS)
    np.testing.assert_array_equal(table["probability"], p)
    np.testing.assert_array_equal(table["label"], labels)


def _columns(rows):
    return {name: [r[j] for r in rows] for j, name in enumerate(typed.NAMES)}


def surfaces(rows):
    """The same samples on every surface the Predictor reads."""
    columns = _columns(rows)
    nums = {n: [np.nan if v is None else v for v in columns[n]] for n in ("hours", "weight")}
    rating = [None if v is None else int(v) for v in columns["rating"]]
    yield "list rows", rows
    yield "tuple rows", tuple(tuple(r) for r in rows)
    yield "object array", np.array(rows, dtype=object)
    yield "dict of lists", columns
    yield "pandas object", pd.DataFrame(columns)
    yield (
        "pandas string, category, Int64",
        pd.DataFrame(
            {
                **nums,
                "island": pd.Series(columns["island"], dtype="string"),
                "sex": pd.Series(columns["sex"], dtype="category"),
                "rating": pd.Series(rating, dtype="Int64"),
            }
        ),
    )
    yield (
        "pandas category island, float rating",
        pd.DataFrame(
            {
                **nums,
                "island": pd.Categorical(columns["island"]),
                "sex": columns["sex"],
                "rating": [np.nan if v is None else float(v) for v in rating],
            }
        ),
    )
    yield (
        "polars String, Int64",
        pl.DataFrame({**nums, "island": columns["island"], "sex": columns["sex"], "rating": rating}),
    )
    yield (
        "polars Categorical, Enum",
        pl.DataFrame(
            {
                **{n: pl.Series(v, dtype=pl.Float64) for n, v in nums.items()},
                "island": pl.Series(columns["island"], dtype=pl.Categorical),
                "sex": pl.Series(columns["sex"], dtype=pl.Enum(sorted(set(columns["sex"])))),
                "rating": pl.Series(rating, dtype=pl.Int64),
            }
        ),
    )
    yield "pyarrow string", pa.table({**nums, "island": columns["island"], "sex": columns["sex"], "rating": rating})
    yield (
        "pyarrow dictionary",
        pa.table(
            {
                **nums,
                "island": pa.array(columns["island"]).dictionary_encode(),
                "sex": pa.array(columns["sex"]).dictionary_encode(),
                "rating": pa.array(rating, pa.int64()),
            }
        ),
    )


@pytest.mark.parametrize("surface", [name for name, _ in surfaces(ROWS)])
def test_every_surface_gives_the_same_bits(data, predictor, surface):
    X = dict(surfaces(ROWS))[surface]
    np.testing.assert_array_equal(predictor.predict_proba(X), expected(data, ROWS))


@pytest.mark.parametrize("order", list(itertools.permutations(typed.NAMES))[::7])
def test_a_dataframes_columns_are_read_by_name_in_any_order(data, predictor, order):
    frame = pd.DataFrame(_columns(ROWS))[list(order)].assign(extra=range(len(ROWS)))
    np.testing.assert_array_equal(predictor.predict_proba(frame), expected(data, ROWS))
    np.testing.assert_array_equal(predictor.predict_proba(pl.from_pandas(frame)), expected(data, ROWS))


VALID = st.tuples(
    st.one_of(st.none(), st.floats(0, 1e3, width=32), st.just(float("nan"))),
    st.floats(-1e3, 1e3, width=32),
    st.one_of(st.none(), st.sampled_from(typed.ISLANDS + ["", "N/A", "null", "nan"])),
    st.one_of(st.sampled_from(typed.SEXES), st.text(min_size=1, max_size=5).filter(lambda s: s not in MISSING)),
    st.one_of(st.none(), st.sampled_from(typed.RATINGS), st.sampled_from([1.0, 2.0, 3.0])),
).map(list)
MISSING = {"", "nan", "NaN", "NA", "N/A", "null"}


def _as_given(rows):
    """The rows with missing texts of island as the None they stand for (the hand encoder's input)."""
    return [[r[0], r[1], None if r[2] in ("", "N/A", "null", "nan") else r[2], r[3], r[4]] for r in rows]


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(VALID, min_size=1, max_size=20))
def test_any_valid_rows_score_as_the_hand_encoded_feed_on_every_surface(data, predictor, rows):
    want = expected(data, _as_given(rows))
    for name, X in surfaces(rows):
        np.testing.assert_array_equal(predictor.predict_proba(X), want, err_msg=name)


BAD = [
    # (column, value, problem)
    ("hours", -1.0, "is outside the model's domain (expected >= 0)"),
    ("hours", float("inf"), "is infinite; expected a finite number"),
    ("hours", "3", "is text; expected a number"),
    ("hours", True, "is a boolean; expected a number"),
    ("weight", None, "is missing, and weight may not be missing; expected a finite number"),
    ("weight", float("nan"), "is missing, and weight may not be missing; expected a finite number"),
    ("weight", "NA", "is missing, and weight may not be missing; expected a finite number"),
    ("weight", 1e39, "overflows float32 (largest 3.403e+38)"),
    ("island", "Atlantis", "is not a known category; expected one of 'Biscoe', 'Dream', 'Torgersen', 'NA'"),
    ("island", "biscoe", "is not a known category; expected one of 'Biscoe', 'Dream', 'Torgersen', 'NA'"),
    ("island", 3, "is a number, but island takes text; expected one of 'Biscoe', 'Dream', 'Torgersen', 'NA'"),
    ("sex", None, "is missing, and sex may not be missing; expected one of 'female', 'male'"),
    ("sex", "NA", "is missing, and sex may not be missing; expected one of 'female', 'male'"),
    ("sex", "", "is missing, and sex may not be missing; expected one of 'female', 'male'"),
    ("rating", 4, "is not a known category; expected one of 1, 2, 3"),
    ("rating", 1.5, "is not a whole number; expected an integer code, one of 1, 2, 3"),
    ("rating", True, "is a boolean, but rating takes integer codes; expected one of 1, 2, 3"),
    ("rating", "2", "is text, but rating takes integer codes; expected one of 1, 2, 3"),
]


@pytest.mark.parametrize("column, value, problem", BAD)
def test_a_bad_value_is_refused_naming_it_its_column_and_what_was_expected(predictor, column, value, problem):
    col = typed.NAMES.index(column)
    rows = [list(r) for r in ROWS]
    rows[2][col] = value
    with pytest.raises(InputError) as info:
        predictor.predict_proba(rows)
    assert (info.value.row, info.value.col, info.value.problem) == (2, col, problem)
    assert str(info.value).startswith(f"sample 2, {column}: ") and str(info.value).endswith(problem)


@pytest.mark.parametrize("column, value, problem", BAD)
def test_score_rows_keeps_going_over_bad_values(data, predictor, column, value, problem):
    col = typed.NAMES.index(column)
    rows = [list(r) for r in ROWS]
    rows[1][col] = value
    rows[4][col] = value
    table, errors = predictor.score_rows(rows)
    assert sorted(errors) == [1, 4] and {e.problem for e in errors.values()} == {problem}
    good = [r for i, r in enumerate(ROWS) if i not in (1, 4)]
    np.testing.assert_array_equal(table["probability"], expected(data, good)[:, 1])
    assert [e.row for e in predictor.input_errors(rows)] == [1, 4]


def test_an_unknown_value_under_encode_reaches_the_graphs_own_bucket(data, predictor):
    rows = [[1.0, 0.5, "Biscoe", unseen, 1] for unseen in ("other", "MALE", "x" * 100)]
    np.testing.assert_array_equal(predictor.predict_proba(rows), expected(data, rows))
    bucket = expected(data, rows)[0]
    assert not np.array_equal(bucket, expected(data, [[1.0, 0.5, "Biscoe", "male", 1]])[0])


def test_a_long_vocabulary_is_shortened_in_the_message():
    from edge_predict.model.manifest import Feature
    from edge_predict.scoring.typed import judge

    feature = Feature("city", "category", categories=tuple(f"c{i}" for i in range(100)))
    _, problem = judge(feature, "Atlantis")
    assert (
        problem
        == "is not a known category; expected one of " + ", ".join(repr(f"c{i}") for i in range(10)) + " (and 90 more)"
    )


def test_the_golden_vectors_cover_the_typed_rows(predictor):
    assert predictor.verify() == 0.0


def test_a_golden_output_the_device_does_not_compute_is_refused_at_load():
    outputs = typed.graph_outputs(typed.model_bytes(), typed.feed(typed.GOLDEN)).tolist()
    outputs[3] = [outputs[3][0] - 0.01, outputs[3][1] + 0.01]  # the row whose rating is missing
    with pytest.raises(VerificationError) as info:
        Predictor.from_bytes(typed.model_bytes(golden_outputs=outputs))
    assert info.value.difference == pytest.approx(0.01, abs=1e-6)


def test_a_golden_input_its_own_manifest_refuses_is_a_verification_error():
    golden = [list(r) for r in typed.GOLDEN]
    golden[0][0] = -5.0  # below the domain of hours
    data = typed.model_bytes(golden_outputs=[[0.5, 0.5]] * len(golden))
    import json

    import onnx

    from helpers import sealed

    proto = onnx.load_from_string(data)
    doc = json.loads(proto.metadata_props[0].value)
    doc["golden"]["inputs"] = golden
    proto.metadata_props[0].value = json.dumps(doc)
    with pytest.raises(VerificationError, match="golden vector 0 is refused by the model's own manifest"):
        Predictor.from_bytes(sealed(proto))


@pytest.mark.parametrize(
    "X, message",
    [
        ([[1.0, 0.5, "Biscoe"]], "X has 3 features per sample, but the model expects 5"),
        ([[1.0, 0.5, "Biscoe", "male", 1], [1.0]], "X is ragged"),
        ([], "X has no samples"),
        (np.zeros((2, 5, 1)), "X has 3 dimensions"),
        ({"hours": [1.0]}, "X has no column 'weight', 'island', 'sex', 'rating'"),
    ],
)
def test_x_that_is_no_table_of_samples_is_refused(predictor, X, message):
    with pytest.raises(InputError, match=message):
        predictor.predict(X)


def test_a_typed_predictor_pickles(data, predictor):
    import pickle

    again = pickle.loads(pickle.dumps(predictor))
    np.testing.assert_array_equal(again.predict_proba(ROWS), expected(data, ROWS))
