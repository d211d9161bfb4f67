"""The numpy engine behind Predictor and the CLI: chosen by name or automatically, the same answers as onnxruntime,
files with other operators refused by name, the proof rule (golden.engines or verified at load), no onnxruntime
needed, and a row's answer independent of its batch and of BLAS's threads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper

from helpers import CLEAN_ENV, DATA, DEFAULT_MODEL, handmade
from edge_predict import ModelError, Predictor
from edge_predict.cli import cli

ENGINES = ["onnxruntime", "numpy"]
FORMAT2 = str(DATA / "default_format2.onnx")  # no golden.engines: proven on onnxruntime alone


@pytest.mark.parametrize("engine", ENGINES)
def test_the_default_model_scores_the_same_on_both_engines(engine):
    predictor = Predictor.default(engine=engine)
    assert predictor.engine == engine and predictor.proven
    proba = predictor.predict_proba([[1.0], [7.0]])[:, 1]
    assert proba.tolist() == [np.float32(0.42295337), np.float32(0.9558091)]
    assert predictor.predict([[1.0], [7.0]]).tolist() == ["fail", "pass"]


@pytest.mark.parametrize("path", [DATA / "default_format1.onnx", DATA / "default_format2.onnx", DEFAULT_MODEL])
def test_files_of_every_format_score_alike_on_both_engines(path):
    x = np.linspace(0, 12, 97, dtype=np.float32).reshape(-1, 1)
    numpy_, ort_ = (Predictor.from_path(path, engine=e) for e in ENGINES)
    np.testing.assert_allclose(numpy_.predict_proba(x), ort_.predict_proba(x), rtol=0, atol=1e-6)
    assert (numpy_.predict(x) == ort_.predict(x)).all()


def test_no_engine_named_means_onnxruntime_where_it_is_installed():
    assert Predictor.default().engine == "onnxruntime"


def test_an_unknown_engine_is_refused_by_the_library_and_the_cli(cli_runner):
    with pytest.raises(ValueError, match="engine='tract': expected one of 'onnxruntime', 'numpy'"):
        Predictor.default(engine="tract")
    result = cli_runner.invoke(cli, ["predict", "--engine", "tract", "1"])
    assert result.exit_code == 2 and "'tract' is not one of 'onnxruntime', 'numpy'" in result.stderr


def _cumsum_model() -> bytes:
    """p = CumSum(x) over its one column (= x): an operator the documented set has and the numpy engine does not."""
    doc = handmade.manifest()
    axis = helper.make_tensor("axis", TensorProto.INT64, [], [1])
    return handmade.model(doc, [helper.make_node("CumSum", ["x", "axis"], ["y"])], [axis])


def test_an_operator_the_numpy_engine_lacks_is_refused_by_name_and_still_scores_on_onnxruntime():
    with pytest.raises(ModelError) as info:
        Predictor.from_bytes(_cumsum_model(), source="m.onnx", engine="numpy")
    assert str(info.value) == (
        "m.onnx: the numpy engine does not run the operator CumSum of this graph; score it with onnxruntime "
        "(--engine onnxruntime, engine='onnxruntime') or re-export it without them (docs/engines.md lists the operators)"
    )
    assert Predictor.from_bytes(_cumsum_model(), engine="onnxruntime").predict_proba([[0.25]])[0, 1] == 0.25


def test_the_cli_refuses_it_in_one_line(cli_runner, tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(_cumsum_model())
    result = cli_runner.invoke(cli, ["predict", "--engine", "numpy", "-m", str(path), "0.5"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "the numpy engine does not run the operator CumSum" in result.stderr


def test_a_file_not_proven_on_numpy_scores_once_verified_and_not_before():
    unproven = Predictor.from_path(DATA / "default_format2.onnx", engine="numpy", verify=False)  # no golden.engines
    assert not unproven.proven
    with pytest.raises(ModelError, match="proven at export on onnxruntime, not on the numpy engine"):
        unproven.predict([[7.0]])
    assert unproven.verify() <= 1e-6
    assert unproven.proven and unproven.predict([[7.0]]).tolist() == ["pass"]


def test_a_file_that_fails_its_golden_vectors_on_numpy_is_refused_at_load():
    doc = handmade.manifest(golden_outputs=[[0.0], [0.5], [1.0 - 1e-3]])  # p = x, but the last golden row is off
    from edge_predict import VerificationError

    with pytest.raises(VerificationError, match="golden vectors do not match"):
        Predictor.from_bytes(handmade.model(doc), engine="numpy")


def _exported(tmp_path, activation="sigmoid", task="binary"):
    from edge_predict.trainer.exporter import export
    from edge_predict.trainer.models import build_model

    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    torch.manual_seed(0)
    n_out = {"binary": 1, "multiclass": 3, "regression": 2}[task]
    options = {"binary": {}, "multiclass": {"task": "multiclass", "labels": list("xyz"), "outputs": "logits"},
               "regression": {"task": "regression", "targets": ["u", "v"]}}[task]  # fmt: skip
    module = build_model("mlp", 3, n_outputs=n_out, activation=activation).eval()
    if task == "binary" and activation != "sigmoid":
        options = {"outputs": "logits"}
    return export(module, tmp_path / "m.onnx", feature_names=list("abc"), x_train=x, **options), x


def test_the_exporter_lists_numpy_and_such_a_file_scores_unverified(tmp_path):
    data, x = _exported(tmp_path)
    predictor = Predictor.from_bytes(data, engine="numpy", verify=False)
    assert predictor.manifest["golden"]["engines"] == ["onnxruntime", "numpy"]
    assert predictor.proven
    np.testing.assert_allclose(
        predictor.predict_proba(x), Predictor.from_bytes(data).predict_proba(x), rtol=0, atol=1e-6
    )


def test_an_exported_typed_model_is_proven_on_numpy(tmp_path):
    """Text categories through LabelEncoder, Slice and Concat: the numpy session against onnxruntime's."""
    import onnxruntime
    from edge_predict.engines.numpy.session import make_session
    from edge_predict.trainer.exporter import export

    class NumbersAndCodes(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.embeddings = torch.nn.ModuleList(torch.nn.Embedding(n, 2) for n in (3, 2))
            self.linear = torch.nn.Linear(3 + 4, 1)

        def forward(self, x_num, x_cat):
            return self.linear(torch.cat([x_num, *(e(x_cat[:, j]) for j, e in enumerate(self.embeddings))], 1))

    colors, sizes = ["red", "green", "blue"], ["S", "M"]
    x = np.random.default_rng(1).normal(size=(30, 3)).astype(np.float32)
    rows = [[*map(float, r), colors[i % 3], sizes[i % 2]] for i, r in enumerate(x)]
    data = export(NumbersAndCodes().eval(), tmp_path / "m.onnx", feature_names=[*"abc", "color", "size"],
                  inputs=[list("abc"), ["color", "size"]], categories={"color": colors, "size": sizes},
                  outputs="logits", x_train=rows)  # fmt: skip
    manifest = json.loads(make_session(data, "m", None).get_modelmeta().custom_metadata_map["edge_predict"])
    assert manifest["golden"]["engines"] == ["onnxruntime", "numpy"]
    feed = {"x_num": x, "x_cat": np.array([[colors[i % 3], sizes[(i // 3) % 2]] for i in range(30)], object)}
    got = make_session(data, "m", None).run(["probabilities"], feed)[0]
    want = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"]).run(["probabilities"], feed)[0]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
def test_a_rows_answer_does_not_depend_on_its_batch(tmp_path, activation):
    data, _ = _exported(tmp_path, activation)
    predictor = Predictor.from_bytes(data, engine="numpy")
    x = np.random.default_rng(2).normal(0, 3, size=(300, 3)).astype(np.float32)
    whole = predictor.predict_proba(x)
    for size in (1, 2, 3, 7, 64, 257):
        parts = np.concatenate([predictor.predict_proba(x[i : i + size]) for i in range(0, len(x), size)])
        assert np.array_equal(parts, whole), size  # bit for bit


_SCORE = """
import sys, numpy as np
from edge_predict import Predictor
p = Predictor.from_bytes(open(sys.argv[1], "rb").read(), engine="numpy")
x = np.random.default_rng(3).normal(0, 3, size=(20000, 3)).astype(np.float32)
sys.stdout.buffer.write(p.predict_proba(x).tobytes())
"""


def test_blas_threads_do_not_change_an_answer(tmp_path):
    data, _ = _exported(tmp_path, "relu")
    (tmp_path / "m.onnx").write_bytes(data)
    outputs = []
    for threads in ("1", "2"):
        env = {**CLEAN_ENV, **{v: threads for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
        done = subprocess.run([sys.executable, "-c", _SCORE, str(tmp_path / "m.onnx")], env=env, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) == 20000 * 2 * 4


# Where onnxruntime is not installed (32-bit ARM): a meta-path finder that says it does not exist.
_HIDDEN = """
import sys, importlib.abc
class NoOnnxruntime(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "onnxruntime" or name.startswith("onnxruntime."):
            raise ModuleNotFoundError("No module named 'onnxruntime'", name=name)
        return None
sys.meta_path.insert(0, NoOnnxruntime())
"""


def _without_onnxruntime(code: str) -> subprocess.CompletedProcess:
    script = _HIDDEN + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], env=CLEAN_ENV, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )


def test_without_onnxruntime_the_numpy_engine_is_chosen_and_scores():
    done = _without_onnxruntime("""
        from edge_predict import Predictor
        p = Predictor.default()
        print(p.engine, *map(str, p.predict_proba([[1.0], [7.0]])[:, 1]), p.verify() <= 1e-6)
        assert "onnxruntime" not in sys.modules
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "numpy 0.42295337 0.9558091 True\n"


@pytest.mark.parametrize(
    "args, code, out",
    [
        (["predict", "7"], 0, "pass"),
        (["verify"], 0, "; engine numpy\n"),
        (["info"], 0, "numpy (proven at export)"),
        (["info", "--model", FORMAT2], 0, "numpy (not proven at export; verified at load)"),
        (
            ["predict", "--engine", "onnxruntime", "7"],
            1,
            "edge-predict: error: the onnxruntime engine is not installed",
        ),
    ],
)
def test_without_onnxruntime_the_cli_works_on_numpy(args, code, out):
    done = _without_onnxruntime(f"""
        from edge_predict.cli import main
        sys.argv = ["edge-predict", *{args!r}]
        main()
    """)
    assert done.returncode == code, done.stderr
    assert out in (done.stdout if code == 0 else done.stderr)
    if code:
        assert done.stderr.count(chr(10)) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_verify_and_info_name_the_engine(cli_runner, engine):
    result = cli_runner.invoke(cli, ["verify", "--engine", engine])
    assert result.exit_code == 0 and result.stdout.endswith(f"; engine {engine}\n")
    result = cli_runner.invoke(cli, ["info", "-f", "json", "--engine", engine])
    assert json.loads(result.stdout)["engine"] == engine


def test_the_engine_survives_pickling():
    import pickle

    assert pickle.loads(pickle.dumps(Predictor.default(engine="numpy"))).engine == "numpy"


def test_a_table_with_text_categories_and_missing_values_scores_alike_on_both_engines(tmp_path):
    """edge-train's typed front (LabelEncoder, IsNaN, Where, Slice, Cast, Equal): a format 3 file with two inputs."""
    from edge_predict.trainer.run import export_fitted, fit
    from edge_predict.trainer.table import read_table
    from edge_predict.trainer.train import TrainConfig

    rng = np.random.default_rng(0)
    lines = ["hours,island,size,label"]
    for i in range(120):
        hours, island = rng.uniform(0, 10), rng.choice(["Biscoe", "Dream", "Torgersen"])
        size = "" if i % 7 == 0 else f"{rng.normal():.3f}"
        lines.append(f"{hours:.2f},{island},{size},{int(hours + 2 * (island == 'Dream') > 5)}")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    fitted = fit(
        read_table(tmp_path / "t.csv"), TrainConfig(epochs=50, lr=0.5, model="mlp", hidden=(6, 4)), val_fraction=0.2
    )
    export_fitted(fitted, tmp_path / "m.onnx")
    numpy_, ort_ = (Predictor.from_path(tmp_path / "m.onnx", engine=e, verify=False) for e in ENGINES)
    assert numpy_.manifest["golden"]["engines"] == ["onnxruntime", "numpy"] and numpy_.proven
    rows = [[float(h), island, size] for h in (0.0, 3.5, 9.0) for island in ("Biscoe", "Dream", "Torgersen")
            for size in (None, -1.0, 0.25)]  # fmt: skip
    np.testing.assert_allclose(numpy_.predict_proba(rows), ort_.predict_proba(rows), rtol=0, atol=1e-6)
    assert numpy_.verify() <= 1e-6
