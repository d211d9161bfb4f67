"""edge-train on real tables as they are: text categories, integer codes declared categorical, gaps; the encoding and
the imputation inside the file, which scores raw rows (text, gaps) as torch scores the encoded ones."""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples

from helpers.parity import ATOL
from edge_predict import Predictor
from edge_predict.errors import InputError
from edge_predict.trainer.cli import cli
from edge_predict.trainer.run import export_fitted, fit
from edge_predict.trainer.table import read_table
from edge_predict.trainer.train import TrainConfig, TrainingError

SPECIES = ("Adelie", "Chinstrap", "Gentoo")
ISLANDS = ("Biscoe", "Dream", "Torgersen")
HEADER = "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year"


def penguins_like(path: Path, rows: int = 240, seed: int = 0) -> Path:
    """A table shaped like the Palmer penguins: species to predict, island and sex as text, measurements on scales
    from ~15 to ~5000, gaps written as NA (R) and as empty fields, and the year as an integer."""
    rng = np.random.default_rng(seed)
    centres = {
        "Adelie": (38.8, 18.3, 190, 3700),
        "Chinstrap": (48.8, 18.4, 196, 3730),
        "Gentoo": (47.5, 15.0, 217, 5080),
    }
    spread = (2.5, 1.0, 6.0, 400)
    lines = [HEADER]
    for i in range(rows):
        species = SPECIES[i % 3]
        island = "Biscoe" if species == "Gentoo" else ISLANDS[int(rng.integers(3))]
        values = [f"{rng.normal(c, s):.1f}" for c, s in zip(centres[species], spread)]
        sex = ("female", "male")[int(rng.integers(2))]
        if i % 17 == 5:
            values[0] = "NA"
        if i % 23 == 7:
            values[3] = ""
        if i % 11 == 3:
            sex = "NA" if i % 2 else ""
        lines.append(",".join([species, island, *values, sex, str(2007 + i % 3)]))
    path.write_text("\n".join(lines) + "\n")
    return path


def manifest_of(data: bytes) -> dict:
    (entry,) = [p for p in onnx.load_from_string(data).metadata_props if p.key == "edge_predict"]
    return json.loads(entry.value)


def feed_of(manifest: dict, rows: list[list]) -> dict:
    """What the runtime passes the graph for raw rows (feature order, None for a gap): docs/artifact.md."""
    index = {f["name"]: j for j, f in enumerate(manifest["features"])}
    feed = {}
    for graph_input in manifest["inputs"]:
        values = [[row[index[name]] for name in graph_input["features"]] for row in rows]
        if graph_input["type"] == "float32":
            feed[graph_input["name"]] = np.array([[np.nan if v is None else v for v in r] for r in values], np.float32)
        elif graph_input["type"] == "string":
            feed[graph_input["name"]] = np.array([["" if v is None else v for v in r] for r in values], object)
        else:
            feed[graph_input["name"]] = np.array([[-1 if v is None else v for v in r] for r in values], np.int64)
    return feed


def scored(data: bytes, rows: list[list]) -> np.ndarray:
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    manifest = manifest_of(data)
    return session.run([manifest["output"]], feed_of(manifest, rows))[0]


@pytest.fixture
def table_path(tmp_path):
    return penguins_like(tmp_path / "penguins.csv")


def test_text_columns_become_categories_and_gaps_are_imputed(table_path):
    table = read_table(table_path, label="species")
    columns = {c.name: c for c in table.encoding.columns}
    assert table.task == "multiclass" and table.labels == SPECIES
    assert columns["island"].categories == ISLANDS and columns["island"].impute is None  # no gaps: refused
    assert columns["sex"].categories == ("female", "male") and columns["sex"].impute in ("female", "male")
    gaps = [v for v in table.raw[:, list(columns).index("bill_length_mm")] if v is not None]
    assert columns["bill_length_mm"].impute == pytest.approx(float(np.median(gaps)), abs=1e-4)
    assert columns["flipper_length_mm"].impute is None and columns["year"].type == "number"
    assert table.x.shape == (240, 5 + 3 + 2) and np.isfinite(table.x).all()


def test_the_file_scores_raw_rows_as_torch_scores_the_encoded_ones(table_path, tmp_path):
    table = read_table(table_path, label="species")
    fitted = fit(table, TrainConfig(epochs=100, lr=0.5, standardize=True), val_fraction=0.2)
    data = export_fitted(fitted, tmp_path / "m.onnx")
    rows = table.raw.tolist()
    with torch.no_grad():
        expected = fitted.result.model(torch.from_numpy(table.x)).numpy()
    got = scored(data, rows)
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=0)
    accuracy = float((got.argmax(axis=1) == table.y.reshape(-1)).mean())
    assert accuracy >= 0.95, accuracy  # measured 1.0 on this table (seed 0, all 240 rows; 300 epochs too)
    assert fitted.metrics["validation"]["accuracy"] >= 0.9


def test_the_manifest_types_each_feature_and_imputes_only_where_the_table_had_gaps(table_path, tmp_path):
    fitted = fit(read_table(table_path, label="species"), TrainConfig(epochs=50, lr=0.5, standardize=True))
    manifest = manifest_of(export_fitted(fitted, tmp_path / "m.onnx"))
    features = {f["name"]: f for f in manifest["features"]}
    assert features["island"] == {
        "name": "island",
        "type": "category",
        "categories": list(ISLANDS),
        "unknown": "refuse",
        "missing": "refuse",
    }
    assert features["sex"]["missing"] == "impute" and features["sex"]["impute"] in ("female", "male")
    assert [n for n, f in features.items() if f["missing"] == "impute"] == ["bill_length_mm", "body_mass_g", "sex"]
    assert manifest["inputs"] == [
        {"name": "numbers", "type": "float32", "features": [n for n in features if features[n]["type"] == "number"]},
        {"name": "categories", "type": "string", "features": ["island", "sex"]},
    ]
    golden = manifest["golden"]["inputs"]
    names = list(features)
    for name, feature in features.items():  # every category, a gap wherever one is allowed, and only there
        column = [row[names.index(name)] for row in golden]
        if feature["type"] == "category":
            assert set(feature["categories"]) <= set(column)
        assert (None in column) == (feature["missing"] == "impute")
    assert manifest["exporter"]["name"] == "edge-train"


def test_a_gap_becomes_the_imputed_value_in_the_graph(table_path, tmp_path):
    fitted = fit(read_table(table_path, label="species"), TrainConfig(epochs=50, lr=0.5, standardize=True))
    data = export_fitted(fitted, tmp_path / "m.onnx")
    features = manifest_of(data)["features"]
    row = [f["categories"][0] if f["type"] == "category" else 40.0 for f in features]
    gaps = [None if f["missing"] == "impute" else v for f, v in zip(features, row)]
    imputed = [f["impute"] if f["missing"] == "impute" else v for f, v in zip(features, row)]
    np.testing.assert_array_equal(scored(data, [gaps]), scored(data, [imputed]))


def test_the_predictor_scores_the_raw_table_and_refuses_an_unseen_category(table_path, tmp_path):
    """Text, NA and empty fields as the table has them; 'Atlantis' refused naming the value, its column and the
    known islands (unknown: refuse)."""
    pandas = pytest.importorskip("pandas")
    table = read_table(table_path, label="species")
    fitted = fit(table, TrainConfig(epochs=100, lr=0.5, standardize=True))
    predictor = Predictor.from_bytes(export_fitted(fitted, tmp_path / "m.onnx"))
    frame = pandas.read_csv(table_path).drop(columns=["species"])  # NA and empty fields: NaN
    with torch.no_grad():
        expected = fitted.result.model(torch.from_numpy(table.x)).numpy()
    np.testing.assert_allclose(predictor.predict_proba(frame), expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(predictor.predict_proba(table.raw.tolist()), expected, atol=ATOL, rtol=0)
    frame.loc[3, "island"] = "Atlantis"
    with pytest.raises(InputError) as info:
        predictor.predict(frame)
    assert str(info.value) == (
        "sample 3, island: 'Atlantis' is not a known category; expected one of 'Biscoe', 'Dream', 'Torgersen'"
    )


@pytest.mark.parametrize(
    "body, message",
    [
        (
            "name,x,y\n" + "".join(f"bird{i},{i % 5},{i % 2}\n" for i in range(30)),
            "column 1 (name) has 30 different values in 30 rows ('bird0', 'bird1', 'bird10', ...): a name or an ID, "
            "not a category to learn from; drop it with --drop name",
        ),
        (
            "x,code,y\n" + "".join(f"{i % 5},{i},{i % 2}\n" for i in range(30)),
            "column 2 (code) has 30 different values in 30 rows (0, 1, 10, ...): a name or an ID, not a category to "
            "learn from; drop it with --drop code",
        ),
    ],
)
def test_an_id_column_is_refused_naming_the_option_that_drops_it(tmp_path, body, message):
    path = tmp_path / "t.csv"
    path.write_text(body)
    with pytest.raises(InputError) as info:
        read_table(path, categorical=["code"] if "code" in body else ())
    assert str(info.value) == f"{path}: {message}"
    dropped = read_table(path, drop=["name" if "name" in body else "code"])
    assert dropped.encoding is None  # what is left is numbers: read as always


def test_edge_train_refuses_an_id_column_in_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("name,x,y\n" + "".join(f"bird{i},{i % 5},{i % 2}\n" for i in range(30)))
    result = CliRunner().invoke(cli, ["--data", str(path), "--out", str(tmp_path / "m.onnx")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].endswith("drop it with --drop name")
    assert not (tmp_path / "m.onnx").exists()


def test_categorical_declares_integer_codes_and_numeric_forces_numbers(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,grade,y\n" + "".join(f"{i / 10},{(1, 3, 5)[i % 3]},{i % 2}\n" for i in range(30)))
    table = read_table(path, categorical=["grade"])
    (grade,) = [c for c in table.encoding.columns if c.name == "grade"]
    assert grade.categories == (1, 3, 5) and grade.type == "category"
    fitted = fit(table, TrainConfig(epochs=50, lr=0.5))
    data = export_fitted(fitted, tmp_path / "m.onnx")
    assert manifest_of(data)["inputs"][1] == {"name": "integer_categories", "type": "int64", "features": ["grade"]}
    with torch.no_grad():
        expected = fitted.result.model(torch.from_numpy(table.x)).numpy()
    np.testing.assert_allclose(scored(data, table.raw.tolist())[:, 1:], expected, atol=ATOL, rtol=0)  # [1 - p, p]
    path.write_text("x,grade,y\n1,a,0\n2,b,1\n3,a,0\n")
    with pytest.raises(InputError, match=r"line 2, column 2 \(grade\): 'a' is not a number"):
        read_table(path, numeric=["grade"])


def test_a_numbers_only_table_without_gaps_is_read_as_always(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n5,6,0\n")
    table = read_table(path)
    assert table.encoding is None and table.raw is None and table.x.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_unscaled_features_that_diverge_name_standardize_first(table_path):
    with pytest.raises(TrainingError) as info:
        fit(read_table(table_path, label="species"), TrainConfig(epochs=300, lr=0.01))
    assert "the features' scales differ widely (body_mass_g spans" in str(info.value)
    assert "train with --standardize, which scales them inside the model (then, if it still diverges, lower --lr" in (
        str(info.value)
    )


def test_edge_train_prints_the_categories_and_the_imputed_values(table_path, tmp_path):
    result = CliRunner().invoke(
        cli,
        ["--data", str(table_path), "--label", "species", "--standardize", "--lr", "0.5", "--epochs", "100", "-q"]
        + ["--out", str(tmp_path / "m.onnx"), "--report", str(tmp_path / "report")],
    )
    assert result.exit_code == 0, result.output
    assert "feature:    island: category (3: Biscoe, Dream, Torgersen)\n" in result.output
    assert "feature:    sex: category (2: female, male), 22 gaps -> " in result.output
    encoding = json.loads((tmp_path / "report" / "report.json").read_text())["data"]["encoding"]
    assert {e["name"]: e["gaps"] for e in encoding}["bill_length_mm"] == 14
    assert {e["name"]: e.get("imputed_by") for e in encoding}["sex"] == "most frequent"


def test_the_palmer_penguins_table_as_published(tmp_path):
    """The real table (344 rows, gaps as NA) that the palmerpenguins package ships."""
    palmerpenguins = pytest.importorskip("palmerpenguins")
    path = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    table = read_table(path, label="species")
    fitted = fit(table, TrainConfig(epochs=1000, lr=0.01, standardize=True), val_fraction=0.2)
    data = export_fitted(fitted, tmp_path / "m.onnx")
    got = scored(data, table.raw.tolist())
    with torch.no_grad():
        np.testing.assert_allclose(got, fitted.result.model(torch.from_numpy(table.x)).numpy(), atol=ATOL, rtol=0)
    assert fitted.metrics["validation"]["accuracy"] >= 0.95  # measured 1.0000 (69 rows), 0.9942 on all 344


def test_a_table_without_a_header_whose_first_row_has_text_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Adelie,x,1\nGentoo,y,0\nAdelie,x,1\n")
    with pytest.raises(InputError) as info:
        read_table(path)
    assert str(info.value) == (
        f"{path} line 1: 'Adelie' names column 1 and is one of its values too, so this line is a row, not a header; "
        "add a header line naming the columns"
    )


FIELDS = st.sampled_from(["", "NA", "null", "1", "2.5", "-3", "x", "y", "Dream", "nan", "1e39", "1.5", '"a,b"'])


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(st.lists(FIELDS, min_size=3, max_size=3), min_size=1, max_size=8), st.booleans())
def test_any_table_is_read_or_refused_in_one_line(tmp_path_factory, rows, declare):
    """Text, gaps and numbers in any mix: a Table whose x is finite, or an InputError; never another exception."""
    path = tmp_path_factory.mktemp("t") / "t.csv"
    path.write_text("a,b,y\n" + "".join(",".join(r) + "\n" for r in rows))
    try:
        table = read_table(path, categorical=["b"] if declare else ())
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert np.isfinite(table.x).all() and len(table.x) == len(table.y)
