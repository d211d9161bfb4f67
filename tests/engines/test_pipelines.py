"""scikit-learn pipelines in front of a module (export_pipeline, skl2onnx): the numpy engine runs their encoders
(OneHotEncoder, Imputer, Scaler, CategoryMapper, LabelEncoder) as onnxruntime does, and the exporter says so."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime
import pytest
import torch

from edge_predict import Predictor
from edge_predict.engines.numpy.session import make_session
from edge_predict.trainer import export_pipeline

pd = pytest.importorskip("pandas")
pytest.importorskip("skl2onnx")
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler  # noqa: E402

ENCODERS = {
    "one-hot": OneHotEncoder(),
    "one-hot, unseen ignored": OneHotEncoder(handle_unknown="ignore"),
    "ordinal, unseen coded": OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
}


def frame(rows: int = 90):
    rng = np.random.default_rng(0)
    data = pd.DataFrame(
        {
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], rows).astype(object),
            "bill": rng.normal(44, 5, rows),
            "mass": rng.normal(4200, 800, rows),
            "sex": rng.choice(["female", "male"], rows).astype(object),
        }
    )
    data.loc[::9, "bill"] = np.nan
    data.loc[::7, "sex"] = np.nan
    return data


@pytest.mark.parametrize("name", ENCODERS)
def test_pipeline_files_are_proven_on_numpy_and_score_as_onnxruntime(tmp_path, name):
    import sklearn.base

    data_frame = frame()
    numbers = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    text = Pipeline(
        [("impute", SimpleImputer(strategy="most_frequent")), ("encode", sklearn.base.clone(ENCODERS[name]))]
    )
    pre = ColumnTransformer([("numbers", numbers, ["bill", "mass"]), ("text", text, ["island", "sex"])]).fit(data_frame)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(pre.transform(data_frame).shape[1], 3))
    data = export_pipeline(
        pre,
        tmp_path / "m.onnx",
        module=net,
        task="multiclass",
        labels=list("abc"),
        outputs="logits",
        x_train=data_frame,
    )
    session = make_session(data, "m", None)
    manifest = json.loads(session.get_modelmeta().custom_metadata_map["edge_predict"])
    assert manifest["golden"]["engines"] == ["onnxruntime", "numpy"]
    raw = data_frame.copy()
    if name != "one-hot":
        raw.loc[0, "island"] = "Atlantis"  # unseen: the graph's own policy
    feed = {
        "numbers": raw[["bill", "mass"]].to_numpy(np.float32),
        "categories": raw[["island", "sex"]].fillna("").to_numpy(object),
    }
    want = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"]).run(["probabilities"], feed)[0]
    np.testing.assert_allclose(session.run(["probabilities"], feed)[0], want, rtol=0, atol=1e-6)
    assert Predictor.from_bytes(data, engine="numpy", verify=False).proven
