"""Preprocessing in the file: the project's encoding spec (export(encoding=...)) and a fitted scikit-learn pipeline
converted with skl2onnx (export_pipeline()), each composed in front of the module; the file scores raw rows as the
preprocessing's own library and torch do, within the parity policy (docs/parity.md)."""

import json

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import examples

from helpers.parity import ATOL
from edge_predict import Predictor
from edge_predict.trainer import Column, Encoding, ExportError, export, export_pipeline

pd = pytest.importorskip("pandas")
sklearn = pytest.importorskip("sklearn")
pytest.importorskip("skl2onnx")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402

ENCODING = Encoding(
    (
        Column("hours", impute=2.5),
        Column("island", "category", ("Biscoe", "Dream", "Torgersen"), impute="Biscoe"),
        Column("mass", "number"),
        Column("grade", "category", (1, 3, 5)),
    )
)
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]


def manifest_of(data: bytes) -> dict:
    (entry,) = [p for p in onnx.load_from_string(data).metadata_props if p.key == "edge_predict"]
    return json.loads(entry.value)


def session(data: bytes):
    return onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])


def module(width: int, outputs: int = 3) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(width, 8), torch.nn.Tanh(), torch.nn.Linear(8, outputs)).eval()


row = st.tuples(
    st.none() | st.floats(-10, 10, width=32),
    st.none() | st.sampled_from(ENCODING.columns[1].categories),
    st.floats(-1e3, 1e3, width=32),
    st.sampled_from(ENCODING.columns[3].categories),
)


@pytest.fixture(scope="module")
def encoded_file(tmp_path_factory):
    net = module(ENCODING.width)
    path = tmp_path_factory.mktemp("encoding") / "m.onnx"
    return net, export(
        net, path, feature_names=ENCODING.names, encoding=ENCODING, task="multiclass", labels=SPECIES, outputs="logits"
    )


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(row, min_size=1, max_size=20))
def test_the_encoding_spec_in_the_graph_equals_its_reference_and_torch(encoded_file, rows):
    net, data = encoded_file
    rows = [list(r) for r in rows]
    got = session(data).run(["probabilities"], ENCODING.feed(rows))[0]
    with torch.no_grad():
        want = torch.softmax(net(torch.from_numpy(ENCODING.transform(rows))), dim=1).numpy()
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)


def test_the_encoding_spec_writes_typed_features_and_inputs_by_kind(encoded_file):
    manifest = manifest_of(encoded_file[1])
    assert [(f["name"], f["type"], f["missing"]) for f in manifest["features"]] == [
        ("hours", "number", "impute"),
        ("island", "category", "impute"),
        ("mass", "number", "refuse"),
        ("grade", "category", "refuse"),
    ]
    assert [(i["name"], i["type"], i["features"]) for i in manifest["inputs"]] == [
        ("numbers", "float32", ["hours", "mass"]),
        ("categories", "string", ["island"]),
        ("integer_categories", "int64", ["grade"]),
    ]
    golden = manifest["golden"]["inputs"]
    assert {r[1] for r in golden} == {"Biscoe", "Dream", "Torgersen", None} and {r[3] for r in golden} == {1, 3, 5}
    assert any(r[0] is None for r in golden) and not any(r[2] is None for r in golden)


@pytest.mark.parametrize(
    "column, message",
    [
        (Column("a", "category", ("x", "x")), "categories of 'a' are ['x', 'x']: expected distinct"),
        (Column("a", "category", ("x",), impute="y"), "impute 'y' is not one of its categories"),
        (Column("a", "category", (0, -1)), "distinct integers other than -1 (a gap's marker)"),
        (Column("a", impute=float("nan")), "impute nan is not a finite number"),
    ],
)
def test_a_bad_encoding_spec_is_refused(column, message):
    with pytest.raises(ExportError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Encoding((column,))


def penguin_frame(rows: int = 120, seed: int = 0):
    rng = np.random.default_rng(seed)
    species = np.array(SPECIES)[np.arange(rows) % 3]
    frame = pd.DataFrame(
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], rows).astype(object),
            "bill_length_mm": rng.normal(44, 5, rows),
            "body_mass_g": rng.normal(4200, 800, rows),
            "sex": rng.choice(["female", "male"], rows).astype(object),
        }
    )
    frame.loc[::9, "bill_length_mm"] = np.nan
    frame.loc[::7, "sex"] = np.nan
    return frame, species


def preprocessing(encoder):
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    text = Pipeline([("impute", SimpleImputer(strategy="most_frequent")), ("encode", encoder)])
    return ColumnTransformer(
        [("numbers", numbers, ["bill_length_mm", "body_mass_g"]), ("text", text, ["island", "sex"])]
    )


ENCODERS = {
    "one-hot, unseen refused": (OneHotEncoder(), None),
    "one-hot, unseen ignored": (
        OneHotEncoder(handle_unknown="ignore"),
        "all-zero one-hot (scikit-learn OneHotEncoder handle_unknown='ignore')",
    ),
    "ordinal, unseen coded": (
        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
        "code -1 (scikit-learn OrdinalEncoder handle_unknown='use_encoded_value')",
    ),
}


@pytest.mark.parametrize("name", ENCODERS)
def test_a_scikit_learn_pipeline_in_front_of_the_module_scores_as_scikit_learn_and_torch(tmp_path, name):
    encoder, policy = ENCODERS[name]
    frame, _ = penguin_frame()
    pre = preprocessing(sklearn.base.clone(encoder)).fit(frame)
    net = module(pre.transform(frame).shape[1])
    data = export_pipeline(
        pre, tmp_path / "m.onnx", module=net, task="multiclass", labels=SPECIES, outputs="logits", x_train=frame
    )
    manifest = manifest_of(data)
    raw = frame.copy()
    if policy is not None:  # an unseen island, passed to the graph's own policy
        raw.loc[0, "island"] = "Atlantis"
    rows = [[None if pd.isna(v) else v for v in r] for r in raw.itertuples(index=False)]
    feed = {
        "numbers": raw[["bill_length_mm", "body_mass_g"]].to_numpy(np.float32),
        "categories": raw[["island", "sex"]].fillna("").to_numpy(object),
    }
    got = session(data).run(["probabilities"], feed)[0]
    with torch.no_grad():
        want = torch.softmax(net(torch.from_numpy(pre.transform(raw).astype(np.float32))), dim=1).numpy()
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)
    assert len(rows) == len(got)
    predictor = Predictor.from_bytes(data)  # the device: the raw DataFrame (NaN gaps) and rows holding None
    np.testing.assert_allclose(predictor.predict_proba(raw), want, atol=ATOL, rtol=0)
    np.testing.assert_allclose(predictor.predict_proba(rows), want, atol=ATOL, rtol=0)
    features = {f["name"]: f for f in manifest["features"]}
    assert features["sex"]["missing"] == "impute" and features["island"]["missing"] == "impute"
    assert features["body_mass_g"]["missing"] == "impute"  # a SimpleImputer takes its gaps, though it had none
    assert features["island"].get("unknown_policy") == policy
    assert features["island"]["unknown"] == ("refuse" if policy is None else "encode")
    assert manifest["exporter"]["name"] == "export_pipeline()"
    assert manifest["exporter"]["skl2onnx"] == __import__("skl2onnx").__version__


def test_an_encoder_that_learnt_the_gap_as_a_category_is_refused(tmp_path):
    frame, _ = penguin_frame()
    pre = ColumnTransformer([("text", OneHotEncoder(), ["sex"])]).fit(frame)
    with pytest.raises(ExportError, match="'sex': the encoder learnt a gap as a category; put a SimpleImputer"):
        export_pipeline(
            pre,
            tmp_path / "m.onnx",
            module=module(3),
            feature_names=["sex"],
            task="multiclass",
            labels=SPECIES,
            outputs="logits",
        )
    assert not (tmp_path / "m.onnx").exists()


def skorch_pipeline():
    skorch = pytest.importorskip("skorch")
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(300, 3)) * [1, 100, 1000] + [0, 500, 5000]).astype(np.float32)
    y = ((x[:, 0] + (x[:, 1] - 500) / 100 - (x[:, 2] - 5000) / 1000) > 0).astype(np.int64)
    torch.manual_seed(0)
    net = skorch.NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=30,
        lr=0.1,
        train_split=None,
        verbose=0,
    )
    pipe = Pipeline([("scale", StandardScaler()), ("float32", FunctionTransformer(np.float32)), ("net", net)])
    return pipe.fit(x, y), x


def test_a_pipeline_ending_in_a_skorch_net_exports_as_a_whole(tmp_path):
    pipe, x = skorch_pipeline()
    data = export_pipeline(pipe, tmp_path / "m.onnx", feature_names=["a", "b", "c"], x_train=x)
    manifest = manifest_of(data)
    assert manifest["task"] == "binary" and manifest["labels"] == ["0", "1"]
    got = session(data).run(["probabilities"], {"features": x})[0]
    np.testing.assert_allclose(got, pipe.predict_proba(x), atol=ATOL, rtol=0)
    np.testing.assert_allclose(Predictor.from_bytes(data).predict_proba(x), pipe.predict_proba(x), atol=ATOL, rtol=0)
    assert (got.argmax(axis=1) == pipe.predict(x)).all()
    # net.module_ alone, without the scaler in front of it, is the silent wrong answer this replaces
    with torch.no_grad():
        alone = pipe[-1].module_(torch.from_numpy(x)).argmax(dim=1).numpy()
    assert (alone == pipe.predict(x)).mean() < 0.9
