"""A module fed category codes (an nn.Embedding behind forward(x_num, x_cat)) scores raw rows on the device as torch
does, and a code it does not know is the caller's input error: never a ModelError, never a silent answer.

The exporter declares the codes' vocabulary (categories=); the graph takes the values themselves (text or integers)
and a LabelEncoder gives the module its codes. Each bad value is refused before the graph runs, naming the value,
the column and the known categories; under keep-going it is that row's error and the other rows are scored.
"""

import csv
import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from edge_predict import InputError, ModelError, Predictor
from edge_predict.cli import cli
from edge_predict.trainer import ExportError, export
from helpers import CLEAN_ENV
from helpers.parity import ATOL

NAMES = ["u", "v", "k"]
VOCABULARIES = {
    "text": ["red", "green", "blue"],
    "integers": [10, 20, 30],  # integer categories that are not their codes: an encoder in the graph
    "codes": [0, 1, 2],  # the codes themselves: the graph's input is the module's
}
BAD = [  # (vocabulary, value, the problem the runtime names)
    ("codes", 3, "is not a known category; expected one of 0, 1, 2"),  # one past the last of three: Gather would fail
    ("codes", -1, "is not a known category; expected one of 0, 1, 2"),  # Gather would answer code 2's
    ("codes", 1.5, "is not a whole number; expected an integer code, one of 0, 1, 2"),  # truncation would answer 1's
    ("integers", 3, "is not a known category; expected one of 10, 20, 30"),
    ("integers", -1, "is not a known category; expected one of 10, 20, 30"),
    ("integers", 1.5, "is not a whole number; expected an integer code, one of 10, 20, 30"),
    ("integers", "10", "is text, but k takes integer codes; expected one of 10, 20, 30"),
    ("text", "purple", "is not a known category; expected one of 'red', 'green', 'blue'"),
    ("text", 1, "is a number, but k takes text; expected one of 'red', 'green', 'blue'"),
    ("text", None, "is missing, and k may not be missing; expected one of 'red', 'green', 'blue'"),
]


class Embedded(nn.Module):
    """Two numbers and one category of three through an nn.Embedding, as tabular models take them."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embedding = nn.Embedding(3, 2)
        self.linear = nn.Linear(2 + 2, 1)

    def forward(self, x_num, x_cat):
        return self.linear(torch.cat([x_num, self.embedding(x_cat[:, 0])], dim=1))


def _rows(vocabulary, n=30, seed=0):
    """n raw rows (two numbers, one category value) and the codes the module takes for them."""
    rng = np.random.default_rng(seed)
    x, codes = rng.normal(size=(n, 2)).astype(np.float32), np.arange(n) % 3
    return [[float(a), float(b), vocabulary[c]] for (a, b), c in zip(x, codes)], x, codes


def _torch(module, x, codes):
    with torch.no_grad():
        return torch.sigmoid(module(torch.from_numpy(x), torch.from_numpy(codes.reshape(-1, 1)))).numpy()[:, 0]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{vocabulary kind: (module, path of its file)}."""
    module, files = Embedded().eval(), {}
    for kind, vocabulary in VOCABULARIES.items():
        path = tmp_path_factory.mktemp(kind) / "m.onnx"
        export(
            module,
            path,
            feature_names=NAMES,
            inputs={"x_num": ["u", "v"], "x_cat": ["k"]},
            categories={"k": vocabulary},
            outputs="logits",
            x_train=_rows(vocabulary)[0],
        )
        files[kind] = path
    return module, files


@pytest.mark.parametrize("engine", ["onnxruntime", "numpy"])
@pytest.mark.parametrize("form", ["list rows", "DataFrame", "dict of columns"])
@pytest.mark.parametrize("kind", VOCABULARIES)
def test_raw_rows_score_as_torch(exported, kind, form, engine):
    module, files = exported
    rows, x, codes = _rows(VOCABULARIES[kind], n=200, seed=1)
    frame = pd.DataFrame(rows, columns=NAMES)
    given = {"list rows": rows, "DataFrame": frame, "dict of columns": {n: list(frame[n]) for n in NAMES}}[form]
    predictor = Predictor.from_path(files[kind], engine=engine)
    np.testing.assert_allclose(predictor.predict_proba(given)[:, 1], _torch(module, x, codes), rtol=0, atol=ATOL)


@pytest.mark.parametrize("kind, value, problem", BAD)
def test_a_value_the_module_has_no_code_for_is_an_input_error(exported, kind, value, problem):
    predictor = Predictor.from_path(exported[1][kind])
    good = VOCABULARIES[kind][1]
    with pytest.raises(InputError) as info:
        predictor.predict_proba([[0.5, -0.5, good], [0.0, 0.0, value]])
    assert not isinstance(info.value, ModelError)
    assert (info.value.row, info.value.col, info.value.problem) == (1, 2, problem)
    assert str(info.value) == f"sample 1, k: {value!r} {problem}"


@pytest.mark.parametrize("kind, value, problem", BAD)
def test_under_keep_going_a_bad_value_is_its_rows_error_and_the_others_score(exported, kind, value, problem):
    module, files = exported
    predictor = Predictor.from_path(files[kind])
    rows, x, codes = _rows(VOCABULARIES[kind], n=3)
    table, errors = predictor.score_rows([rows[0], [0.0, 0.0, value], rows[2]])
    assert list(errors) == [1] and errors[1].problem == problem
    np.testing.assert_allclose(table["probability"], _torch(module, x, codes)[[0, 2]], rtol=0, atol=ATOL)


CLI_BAD = {"codes": ["3", "-1", "1.5"], "integers": ["3", "-1", "1.5"], "text": ["purple", "Red", "NA"]}


@pytest.mark.parametrize("kind", VOCABULARIES)
def test_the_cli_keeps_going_past_bad_values(exported, tmp_path, cli_runner, kind):
    """A CSV's bad values are each a skipped line naming it; the good lines score as Predictor scores them."""
    module, files = exported
    good = VOCABULARIES[kind]
    lines = [f"0,0,{good[0]}", *(f"0,0,{value}" for value in CLI_BAD[kind]), f"0,0,{good[2]}"]
    table = tmp_path / "t.csv"
    table.write_text("u,v,k\n" + "\n".join(lines) + "\n")
    result = cli_runner.invoke(
        cli, ["predict", "-m", str(files[kind]), "--input", str(table), "--keep-going", "-f", "csv"]
    )
    assert result.exit_code == 2
    assert "skipped 3 bad rows" in result.stderr and "Traceback" not in result.stderr
    for line, value in zip((3, 4, 5), CLI_BAD[kind]):
        assert f"skipped line {line}, column 3 (k): '{value}' is " in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["error"] == "" for row in rows] == [True, False, False, False, True]
    probabilities = [float(row["probability"]) for row in rows if not row["error"]]
    expected = _torch(module, np.zeros((2, 2), np.float32), np.array([0, 2]))
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=ATOL)


_DEVICE = """
import json, sys
sys.modules["torch"] = sys.modules["onnx"] = None  # the device has neither
from edge_predict import Predictor
rows = json.loads(sys.argv[2])
out = {e: Predictor.from_path(sys.argv[1], engine=e).predict_proba(rows)[:, 1].tolist() for e in ("onnxruntime", "numpy")}
print(json.dumps(out))
"""


@pytest.mark.parametrize("kind", VOCABULARIES)
def test_without_torch_the_file_scores_raw_rows_as_torch(exported, kind):
    import json

    module, files = exported
    rows, x, codes = _rows(VOCABULARIES[kind], n=50, seed=2)
    done = subprocess.run(
        [sys.executable, "-c", _DEVICE, str(files[kind]), json.dumps(rows)],
        env=CLEAN_ENV,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    for engine, got in json.loads(done.stdout).items():
        np.testing.assert_allclose(np.float32(got), _torch(module, x, codes), rtol=0, atol=ATOL, err_msg=engine)


class CodesAsNumbers(nn.Module):
    """The same embedding indexed by a float feature (x[:, 2].long()): the codes hidden among the numbers."""

    def __init__(self):
        super().__init__()
        self.inner = Embedded()

    def forward(self, x):
        return self.inner(x[:, :2], x[:, 2:].long())


def test_codes_among_the_numbers_are_refused_at_export_with_the_fix(tmp_path):
    """Negated probe rows give the embedding code -1, which torch refuses: the caller is told to declare the codes."""
    rows = np.float32([[0.1 * i, -0.2 * i, i % 3] for i in range(20)])
    with pytest.raises(ExportError) as info:
        export(CodesAsNumbers().eval(), tmp_path / "m.onnx", feature_names=NAMES, outputs="logits", x_train=rows)
    message = str(info.value)
    assert message.startswith("the module fails on probe rows ") and "IndexError: index out of range" in message
    assert "(inputs=) and their vocabulary (categories=)" in message and "dynamo" not in message
    assert not (tmp_path / "m.onnx").exists()
