"""A labelled table through every surface: the CLI's CSV, Predictor.predict_table, Dask and Spark give the same
columns (the truth column passed through, the clashing output as predicted_<name>) and the same values."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
dist = pytest.importorskip("distributed")

from edge_predict import Predictor  # noqa: E402
from edge_predict import distributed  # noqa: E402

pytestmark = pytest.mark.slow  # starts real Dask and Spark clusters

CLI = Path(sys.executable).with_name("edge-predict")


@pytest.fixture(scope="module")
def client():
    with (
        dist.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        dist.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs Java 17+")
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module", params=["binary", "regression"])
def case(request, tmp_path_factory):
    """(predictor, frame with a truth column named like an output, the CLI's CSV of the same table as text)."""
    folder = tmp_path_factory.mktemp(request.param)
    rng = np.random.default_rng(8)
    if request.param == "binary":
        predictor = Predictor.default()
        frame = pd.DataFrame({"label": rng.choice(["fail", "pass"], 400), "hours": rng.uniform(0, 10, 400)})
        path = None
    else:
        from helpers import handmade

        golden = ((1.0, 2.0, 3.0), (-1.0, 0.5, 2.0))
        w = (0.5, -2.0, 0.25)  # exact in float32
        doc = handmade.manifest(
            "regression",
            features=(("a", None, None), ("b", None, None), ("c", None, None)),
            golden_inputs=golden,
            golden_outputs=[(float(np.dot(w, row)),) for row in golden],
            targets=["y"],
        )
        path = folder / "y.onnx"
        path.write_bytes(handmade.weighted_sum(w, doc))
        predictor = Predictor.from_path(path)
        x = rng.uniform(-2, 2, (400, 3))
        frame = pd.DataFrame({"b": x[:, 1], "y": rng.normal(size=400), "a": x[:, 0], "c": x[:, 2]})
    frame.insert(1, "id", np.arange(len(frame)))
    csv = folder / "t.csv"
    frame.to_csv(csv, index=False, float_format="%.17g")
    command = [str(CLI), "predict", "--input", str(csv), "--format", "csv"] + (["--model", str(path)] if path else [])
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cli = pd.read_csv(io.StringIO(out), dtype=str)
    assert cli.drop(columns=list(predictor.output_names_for(frame.columns))).equals(
        pd.read_csv(csv, dtype=str)[list(cli.columns[: frame.shape[1]])]
    )  # the input's texts, unchanged: the features first, then the others
    return predictor, frame, cli


def assert_same(out: pd.DataFrame, cli: pd.DataFrame, predictor: Predictor, frame: pd.DataFrame) -> None:
    outputs = list(predictor.output_names_for(frame.columns))
    assert outputs[-1].startswith("predicted_") and list(out.columns) == [*frame.columns, *outputs]
    assert list(cli.columns) == [
        *predictor.feature_names,
        *(c for c in frame.columns if c not in predictor.feature_names),
        *outputs,
    ]
    table = predictor.predict_table(frame)
    assert list(table) == outputs
    truth = next(c for c in frame.columns if PREFIX + c in outputs)
    np.testing.assert_array_equal(out[truth].to_numpy(str), frame[truth].to_numpy(str))  # unchanged
    for name in outputs:
        if table[name].dtype.kind == "f":
            bits = table[name].view(np.uint32)
            np.testing.assert_array_equal(out[name].to_numpy(np.float32).view(np.uint32), bits)
            np.testing.assert_array_equal(cli[name].astype(np.float64).to_numpy(np.float32).view(np.uint32), bits)
        else:
            np.testing.assert_array_equal(out[name].to_numpy(str), table[name])
            np.testing.assert_array_equal(cli[name].to_numpy(str), table[name])


PREFIX = "predicted_"


def test_dask_as_cli_and_predictor(client, case):
    predictor, frame, cli = case
    out = distributed.score_dask(dd.from_pandas(frame, npartitions=3), predictor).compute()
    assert_same(out.reset_index(drop=True), cli, predictor, frame)


def test_spark_as_cli_and_predictor(spark, case):
    predictor, frame, cli = case
    out = distributed.score_spark(spark.createDataFrame(frame), predictor).toArrow().to_pandas()
    assert_same(out.sort_values("id", kind="stable").reset_index(drop=True), cli, predictor, frame)
