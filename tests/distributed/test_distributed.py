"""score_dask and score_spark on real engines: a 2-process Dask cluster and a local[2] Spark session.

Both score 1e6 rows of partitioned Parquet and must give, bit for bit and in row order, what Predictor
and the CLI's CSV give; a Dask worker killed mid-job must not lose or repeat a row.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from edge_predict import InputError, Predictor, VerificationError  # noqa: E402
from edge_predict import distributed  # noqa: E402
from edge_predict.distributed import worker  # noqa: E402
from edge_predict.distributed.worker import ship, worker_predictor  # noqa: E402

pytestmark = pytest.mark.slow  # starts real Dask and Spark clusters


def sessions_built() -> int:
    """How many sessions this process holds: one per model (and threshold), whatever the partitions."""
    return len(worker._PREDICTORS)


ROWS, FILES = 1_000_000, 8
CLI = Path(sys.executable).with_name("edge-predict")


def bits(values) -> np.ndarray:
    return np.asarray(values, np.float32).view(np.uint32)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> Path:
    """1e6 rows in FILES Parquet files: id, a text column, then the feature (not first: read by name)."""
    folder = tmp_path_factory.mktemp("parquet")
    rng = np.random.default_rng(14)
    hours = rng.uniform(0, 10, ROWS)
    hours[:4] = [0.0, 1.55, 1e30, 5e-324]  # the edge of the domain, the threshold region, huge and tiny
    for i, part in enumerate(np.array_split(np.arange(ROWS), FILES)):
        pq.write_table(
            pa.table({"id": part, "note": pa.array(["x"] * len(part)), "hours": hours[part]}),
            folder / f"part-{i:02d}.parquet",
        )
    return folder


@pytest.fixture(scope="module")
def expected(table, tmp_path_factory) -> pd.DataFrame:
    """What the CLI prints for the same rows (--format csv), parsed as float32; checked against Predictor."""
    hours = pq.read_table(table).column("hours").to_numpy()
    csv = tmp_path_factory.mktemp("csv") / "hours.csv"
    csv.write_text("hours\n" + "\n".join(map(repr, hours.tolist())) + "\n")
    out = subprocess.run(
        [str(CLI), "predict", "--input", str(csv), "--format", "csv"], capture_output=True, text=True, check=True
    ).stdout
    cli = pd.read_csv(io.StringIO(out), dtype={"label": str})  # exact: checked below
    assert list(cli.columns) == ["hours", "probability", "label"]
    cli["probability"] = cli["probability"].astype(np.float32)  # the CLI's text reads back exactly as float32
    np.testing.assert_array_equal(cli["hours"].to_numpy(), hours)
    predictor = Predictor.default()
    np.testing.assert_array_equal(bits(cli["probability"]), bits(predictor.predict_proba(hours.reshape(-1, 1))[:, 1]))
    return cli


def assert_scored_as_cli(out: pd.DataFrame, cli: pd.DataFrame) -> None:
    """`out` (in id order) holds the CLI's columns and values, probabilities equal to the bit."""
    assert list(out.columns) == ["id", "note", "hours", "probability", "label"]
    assert out["probability"].dtype == np.float32
    np.testing.assert_array_equal(out["id"].to_numpy(), np.arange(ROWS))
    np.testing.assert_array_equal(out["hours"].to_numpy(), cli["hours"].to_numpy())
    np.testing.assert_array_equal(bits(out["probability"]), bits(cli["probability"]))
    np.testing.assert_array_equal(out["label"].to_numpy(str), cli["label"].to_numpy(str))


def bad_frame() -> pd.DataFrame:
    return pd.DataFrame({"id": np.arange(6), "hours": [1.0, 2.0, -1.0, np.nan, 7.0, np.inf]})


NULL_ERRORS = [
    None,
    None,
    "hours: -1 is outside the model's domain (expected >= 0)",
    "hours: nan is NaN; expected a finite number",
    None,
    "hours: inf is infinite; expected a finite number",
]


def test_engines_imported_only_when_scoring():
    script = (
        "import sys, edge_predict, edge_predict.distributed; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'pyspark', 'pyarrow', 'pandas'}))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_before_any_job():
    class Frame:  # score_dask only reads dtypes before it builds the graph
        dtypes = pd.Series({"id": np.dtype(np.int64), "hour": np.dtype(np.float64)})

    predictor = Predictor.default()
    with pytest.raises(InputError, match=r"^the DataFrame has no column 'hours', a feature of the model \(hours\)"):
        distributed.score_dask(Frame(), predictor)
    Frame.dtypes = pd.Series({"hours": pd.StringDtype()})
    with pytest.raises(InputError, match=r"^column 'hours' holds string, but the model expects numbers"):
        distributed.score_dask(Frame(), predictor)
    Frame.dtypes = pd.Series({"hours": np.dtype(np.float64), "error": np.dtype(object)})
    with pytest.raises(InputError, match=r"already has a column 'error', which on_error='null' adds"):
        distributed.score_dask(Frame(), predictor, on_error="null")
    Frame.dtypes = pd.Series(
        {"hours": np.dtype(np.float64), "label": np.dtype(object), "predicted_label": np.dtype(object)}
    )
    with pytest.raises(InputError, match=r"the input has a column 'label', so the output 'label' is named"):
        distributed.score_dask(Frame(), predictor)
    with pytest.raises(ValueError, match=r"on_error='skip': expected 'raise'"):
        distributed.score_dask(Frame(), predictor, on_error="skip")


def test_on_error_null_with_an_output_named_error_is_refused_before_any_job():
    """Its error column would replace the model's own 'error' column: every value lost, silently."""
    from helpers import handmade

    doc = handmade.manifest("regression", golden_inputs=((1.0,),), golden_outputs=((10.0,),), targets=["error"])
    predictor = Predictor.from_bytes(handmade.weighted_sum([10], doc))

    class Frame:  # score_dask only reads dtypes before it builds the graph
        dtypes = pd.Series({"p": np.dtype(np.float64)})

    message = r"^on_error='null' adds a column 'error', but the model has an output of that name, whose values it"
    with pytest.raises(InputError, match=message):
        distributed.score_dask(Frame(), predictor, on_error="null")
    assert distributed.table.check_frame(predictor, {"p": None}, "raise") == [("error", "float32")]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc (Linux)")
def test_worker_session_built_once_with_one_thread():
    predictor = Predictor.default()  # not this process's first session: onnxruntime's start-up threads exist
    model = ship(Predictor.from_bytes(predictor.model_bytes, threshold=0.25))  # a cache key no other test uses
    threads, built = len(os.listdir("/proc/self/task")), sessions_built()
    first = worker_predictor(model)
    assert worker_predictor(model) is first and sessions_built() == built + 1
    assert first.threshold == 0.25 and first.sha256 == predictor.sha256
    assert len(os.listdir("/proc/self/task")) == threads  # intra_op_num_threads=1: onnxruntime started no pool


def wrong_golden_model() -> Predictor:
    """A regression model whose manifest's golden outputs are off by one: what a miscomputing CPU would see."""
    from test_tasks import X, model_bytes, oracle

    golden = {"inputs": X[:5].tolist(), "outputs": (oracle("regression", X[:5], 2) + 1).tolist(), "atol": 1e-5}
    return Predictor.from_bytes(model_bytes("regression", 2, targets=["price", "rent"], golden=golden), verify=False)


# -- Dask ---------------------------------------------------------------------------------------
dd = pytest.importorskip("dask.dataframe")
dist = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        dist.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        dist.Client(cluster) as client,
    ):
        yield client


def test_dask_equals_predictor_and_cli_bit_for_bit(client, table, expected):
    out = distributed.score_dask(dd.read_parquet(table), Predictor.default()).compute()
    assert_scored_as_cli(out.reset_index(drop=True), expected)

    def built():  # defined here, so Dask ships it by value: its workers cannot import this test module
        from edge_predict.distributed import worker

        return len(worker._PREDICTORS)

    assert sorted(client.run(built).values()) == [1, 1]  # 8 partitions, 2 processes, 2 sessions


def test_dask_columns_by_name_any_order(client, tmp_path):
    from helpers.parity import export_plain, logistic

    w = np.array([0.5, -2.0, 3.0], np.float32)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(500, 3))
    predictor = Predictor.from_bytes(export_plain(logistic(w, 0.25), tmp_path / "three.onnx", 3, x[:4]))
    frame = pd.DataFrame({"x2": x[:, 2], "id": np.arange(500), "x0": x[:, 0], "x1": x[:, 1]})
    out = distributed.score_dask(dd.from_pandas(frame, npartitions=3), predictor).compute()
    np.testing.assert_array_equal(bits(out["probability"]), bits(predictor.predict_proba(x)[:, 1]))


def test_dask_worker_verifies_before_scoring(client):
    ddf = dd.from_pandas(pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]}), npartitions=1)
    with pytest.raises(
        VerificationError,
        match=r"^worker .+ \(pid \d+\) refuses to score: <bytes>: golden vectors "
        r"do not match: largest difference 1 > atol 1e-05",
    ):
        distributed.score_dask(ddf, wrong_golden_model()).compute()


def test_dask_bad_row_fails_naming_it(client):
    ddf = dd.from_pandas(pd.DataFrame({"hours": [1.0, 2.0, 3.0, 4.0, -1.0, 6.0]}), npartitions=2)
    with pytest.raises(InputError, match=r"^partition 1, row 1 \(index 4\), hours: -1 is outside the model's domain"):
        distributed.score_dask(ddf, Predictor.default()).compute()


def test_dask_on_error_null(client):
    out = distributed.score_dask(
        dd.from_pandas(bad_frame(), npartitions=2), Predictor.default(), on_error="null"
    ).compute()
    assert list(out.columns) == ["id", "hours", "probability", "label", "error"]
    assert [None if pd.isna(e) else e for e in out["error"]] == NULL_ERRORS
    assert out["probability"].isna().tolist() == [e is not None for e in NULL_ERRORS]
    assert out["label"].isna().tolist() == [e is not None for e in NULL_ERRORS]
    good = [0, 1, 4]
    np.testing.assert_array_equal(
        bits(out["probability"].to_numpy()[good]), bits(Predictor.default().predict_proba([[1.0], [2.0], [7.0]])[:, 1])
    )


def slow(frame: pd.DataFrame) -> pd.DataFrame:
    import time

    time.sleep(0.2)  # long enough that the job is still running when a worker is killed
    return frame


def test_dask_worker_killed_mid_job_loses_and_repeats_nothing(table):
    with (
        dist.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster,
        dist.Client(cluster) as client,
    ):
        ddf = dd.read_parquet(table, split_row_groups=False).repartition(npartitions=12)
        scored = distributed.score_dask(ddf, Predictor.default()).map_partitions(slow)[["id", "probability"]]
        futures = client.compute(scored.to_delayed())
        dist.wait(futures, return_when="FIRST_COMPLETED")
        pids = client.run(os.getpid)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        out = pd.concat(client.gather(futures))
        assert sum(f.status == "finished" for f in futures) == 12
    np.testing.assert_array_equal(out["id"].to_numpy(), np.arange(ROWS))


# -- Spark --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed: Spark needs Java 17+ (apt-get install openjdk-17-jre-headless)")
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers must import this edge_predict
    session = (
        SparkSession.builder.master("local[2]")
        .appName("edge-predict-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.files.maxPartitionBytes", "4m")  # one partition per Parquet file here
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_equals_predictor_and_cli_bit_for_bit_one_session_per_worker(spark, table, expected):
    df = spark.read.parquet(str(table))
    out = distributed.score_spark(df, Predictor.default()).toArrow().to_pandas()
    order = df.select("id").toArrow().column("id").to_numpy()
    np.testing.assert_array_equal(out["id"].to_numpy(), order)  # the input's row order, kept
    assert_scored_as_cli(out.sort_values("id", kind="stable").reset_index(drop=True), expected)

    def report(batches):  # self-contained: Spark's workers cannot import this test module
        import os

        import pandas

        from edge_predict.distributed import worker

        for _ in batches:
            yield pandas.DataFrame({"pid": [os.getpid()], "built": [len(worker._PREDICTORS)]})

    # Spark reuses its Python workers: ask many tasks which process they ran in and how many sessions it built.
    seen = spark.range(0, 16, numPartitions=16).mapInPandas(report, "pid long, built long").toPandas()
    built = seen.drop_duplicates("pid")["built"]
    assert df.rdd.getNumPartitions() >= 4 and set(built) <= {0, 1} and 1 <= built.sum() <= 2


def test_spark_errors_before_any_job(spark):
    df = spark.createDataFrame(pd.DataFrame({"hour": [1.0], "note": ["x"]}))
    with pytest.raises(InputError, match=r"^the DataFrame has no column 'hours', a feature of the model \(hours\)"):
        distributed.score_spark(df, Predictor.default())
    with pytest.raises(InputError, match=r"^column 'hours' holds string, but the model expects numbers"):
        distributed.score_spark(df.withColumnRenamed("note", "hours"), Predictor.default())


def test_spark_worker_verifies_before_scoring(spark):
    df = spark.createDataFrame(pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]}))
    with pytest.raises(Exception, match=r"VerificationError: worker .+ \(pid \d+\) refuses to score"):
        distributed.score_spark(df, wrong_golden_model()).collect()


def test_spark_bad_row_fails_naming_it(spark):
    df = spark.createDataFrame(bad_frame()).coalesce(1)
    with pytest.raises(Exception, match=r"InputError: partition 0, row 2, hours: -1 is outside the model's domain"):
        distributed.score_spark(df, Predictor.default()).collect()


def test_spark_on_error_null(spark):
    df = spark.createDataFrame(bad_frame()).coalesce(1)
    out = distributed.score_spark(df, Predictor.default(), on_error="null").toPandas()
    assert list(out.columns) == ["id", "hours", "probability", "label", "error"]
    assert [None if pd.isna(e) else e for e in out["error"]] == NULL_ERRORS
    assert out["probability"].isna().tolist() == [e is not None for e in NULL_ERRORS]


# -- every task: the CLI's CSV columns ------------------------------------------------------------
@pytest.fixture(scope="module", params=["multiclass", "regression"])
def task_case(request, tmp_path_factory):
    """A model of the task, 300 rows with its features shuffled among other columns, and the CLI's CSV for them."""
    from test_tasks import model_bytes

    extra = {
        "multiclass": {"labels": ["setosa", "versicolor", "virginica", "x y"]},
        "regression": {"targets": ["price", "rent"]},
    }[request.param]
    path = tmp_path_factory.mktemp(request.param) / "model.onnx"
    path.write_bytes(model_bytes(request.param, 4 if request.param == "multiclass" else 2, **extra))
    x = np.random.default_rng(5).uniform(-2, 2, size=(300, 3))
    frame = pd.DataFrame({"c": x[:, 2], "id": np.arange(300), "a": x[:, 0], "b": x[:, 1]})
    text = "a,b,c\n" + "\n".join(",".join(map(repr, row)) for row in x.tolist()) + "\n"
    (path.parent / "x.csv").write_text(text)
    out = subprocess.run(
        [str(CLI), "predict", "--model", str(path), "--input", str(path.parent / "x.csv"), "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cli = pd.read_csv(io.StringIO(out), dtype=str)
    return Predictor.from_path(path), frame, cli


def assert_outputs_as_cli(out: pd.DataFrame, cli: pd.DataFrame, features: list[str]) -> None:
    outputs = [c for c in cli.columns if c not in features]
    assert [c for c in out.columns if c not in ("id", *features)] == outputs
    for name in outputs:
        if name == "label":
            np.testing.assert_array_equal(out[name].to_numpy(str), cli[name].to_numpy(str))
        else:  # the CLI's text reads back as exactly the float32 scored
            np.testing.assert_array_equal(bits(out[name]), bits(cli[name].astype(np.float64)))


def test_dask_every_task_as_cli(client, task_case):
    predictor, frame, cli = task_case
    out = distributed.score_dask(dd.from_pandas(frame, npartitions=3), predictor).compute()
    assert_outputs_as_cli(out, cli, list(predictor.feature_names))


def test_spark_every_task_as_cli(spark, task_case):
    predictor, frame, cli = task_case
    out = distributed.score_spark(spark.createDataFrame(frame), predictor).toArrow().to_pandas()
    np.testing.assert_array_equal(out["id"].to_numpy(), np.arange(300))
    assert_outputs_as_cli(out, cli, list(predictor.feature_names))
