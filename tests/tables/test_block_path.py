"""`edge-predict predict --input -` gives the same stdout, stderr and exit code through the block path
(blockparse + whole-batch writer) as through the line path it falls back to, on arbitrary multi-column input."""

import json
from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from onnx import TensorProto, helper, numpy_helper


from edge_predict.tables import reader
from edge_predict.cli import cli
from edge_predict.model.manifest import METADATA_KEY
from edge_predict.tables.writer import Writer
from helpers import examples, sealed
from helpers.paths import small_blocks

NAMES = ["a", "b", "c"]
W = np.float32([[0.5, -0.25, 1.0, 0.1], [-0.3, 0.2, 0.05, -1.0], [0.01, 0.7, -0.4, 0.3]])
TASKS = {  # task -> (output width, manifest fields)
    "binary": (1, {"labels": ["fail", "pass"], "threshold": 0.5}),
    "multiclass": (4, {"labels": ["setosa", "x y", "a,b", 'say "hi"']}),
    "regression": (2, {"targets": ["price", "rent"]}),
}
NUMBERS = [
    "7",
    "0",
    "-0",
    "12.5",
    "+.5",
    "5.",
    "-.25",
    "007.50",
    "1e3",
    "2E-2",
    "-1.5e+2",
    "1e22",
    "0.1234",
    "123456789012345",
    "0.1234567890123456789",
    "-3.75",
    "60",
    "-60",
    "4.35e-21",
    "1e38",
    "3e38",
]
BAD = ["", " 3 ", "1e400", "nan", "x", "1,5", "٣", '"7"', '"1,5"', "1.2.3"]
EXTRA = ["id7", "", "Smith, John", '"quoted"', "  spaced ", "Zürich", "#tag", "1e3", "a;b"]


def model(task: str) -> bytes:
    """x @ W, then Sigmoid (binary) or Softmax (multiclass); feature a in [-50, 50], the others unbounded."""
    width, fields = TASKS[task]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"])]
    if task != "regression":
        nodes.append(helper.make_node("Sigmoid" if task == "binary" else "Softmax", ["z"], ["p"]))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, ["n", width])],
        [numpy_helper.from_array(W[:, :width], "W")],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx_model.ir_version = 8
    x = np.float32([[1, 2, 3], [-1, 0.5, 0]])
    z = x.astype(np.float64) @ W[:, :width]
    out = (
        1 / (1 + np.exp(-z))
        if task == "binary"
        else np.exp(z) / np.exp(z).sum(1, keepdims=True)
        if task == "multiclass"
        else z
    )
    doc = {
        "format": 2,
        "task": task,
        "features": [{"name": "a", "min": -50, "max": 50}] + [{"name": n, "min": None, "max": None} for n in NAMES[1:]],
        "training": {},
        "versions": {},
        "golden": {"inputs": x.tolist(), "outputs": out.tolist(), "atol": 1e-5, "rtol": 1e-5},
        **fields,
    }
    helper.set_model_props(onnx_model, {METADATA_KEY: json.dumps(doc)})
    return sealed(onnx_model)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    for task in TASKS:
        (folder / f"{task}.onnx").write_bytes(model(task))
    return folder


@contextmanager
def line_path():
    """The reference: every block read line by line, every batch written row by row."""
    with (
        mock.patch.object(reader, "parse_block", lambda *args: None),
        mock.patch.object(Writer, "_whole_csv", lambda self, batch, outputs: None),
        mock.patch.object(Writer, "_whole_json", lambda self, batch, outputs: None),
    ):
        yield


def predict(cli_runner, path, text: str, fmt: str, keep_going: bool):
    args = ["predict", "-m", str(path), "-i", "-", "-f", fmt] + (["--keep-going"] if keep_going else [])
    result = cli_runner.invoke(cli, args, input=text.encode("utf-8", "surrogateescape"))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def field(value: str) -> str:
    return f'"{value.replace(chr(34), chr(34) * 2)}"' if any(c in value for c in ',"') else value


row = st.tuples(
    st.lists(st.sampled_from(NUMBERS), min_size=3, max_size=3),
    st.integers(0, 2),
    st.sampled_from(BAD),
    st.lists(st.sampled_from(EXTRA), min_size=2, max_size=2),
    st.sampled_from(["ok"] * 16 + ["bad", "short", "long", "blank", "comment"]),
)


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    task=st.sampled_from(sorted(TASKS)),
    fmt=st.sampled_from(["csv", "json", "text"]),
    keep_going=st.booleans(),
    header=st.sampled_from(["none", "same", "shuffled"]),
    extras=st.integers(0, 2),
    columns=st.permutations(range(5)),
    rows=st.lists(row, min_size=1, max_size=30),
    newline=st.sampled_from(["\n", "\r\n"]),
    block_chars=st.integers(8, 200),
)
@pytest.mark.slow
def test_block_path_answers_as_the_line_path(
    cli_runner, models, task, fmt, keep_going, header, extras, columns, rows, newline, block_chars
):
    """Same output, same errors: binary, multiclass and regression models, csv/json/text, --keep-going,
    a header in any column order with pass-through columns (quoted or not) among the features."""
    names = NAMES if header != "shuffled" else NAMES[::-1]
    extras = extras if header != "none" else 0  # pass-through columns need a header naming them
    layout = [j for j in columns if j < 3 + extras]  # 0-2: the features (in `names` order), 3-4: extras
    head = [",".join(names[j] if j < 3 else f"note{j}" for j in layout)] if header != "none" else []
    body = []
    for tokens, at, bad, notes, shape in rows:
        tokens = tokens[:at] + [bad] + tokens[at + 1 :] if shape == "bad" else tokens
        fields = [tokens[j] if j < 3 else field(notes[j - 3]) for j in layout]
        body.append(
            {"blank": "", "comment": "# note", "short": ",".join(fields[:-1]), "long": ",".join(fields + ["1"])}.get(
                shape, ",".join(fields)
            )
        )
    text = newline.join(head + body) + newline
    path = models / f"{task}.onnx"
    with small_blocks(block_chars):
        got = predict(cli_runner, path, text, fmt, keep_going)
        with line_path():
            expected = predict(cli_runner, path, text, fmt, keep_going)
    assert got == expected


def spy(owner, name, results):
    """Patch owner.name to record what each call returned."""
    real = getattr(owner, name)
    return mock.patch.object(owner, name, lambda *args: results.append(real(*args)) or results[-1])


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("header", ["c,a,b", "id,c,a,b,note"])
def test_plain_tables_take_the_block_path(cli_runner, models, task, fmt, header):
    """The equivalence above is not vacuous: plain rows are read whole, pass-through columns included, and
    written whole (CSV: unless a label written needs quoting, as the multiclass model's 'a,b' would; JSON with
    pass-through columns: row by row)."""
    extra = header.count(",") > 2
    text = (
        header
        + "\n"
        + "".join(
            (f"n{i}," if extra else "") + f"{i % 7}.5,-{i % 3},{i}e-2" + (f",Zürich {i}" if extra else "") + "\n"
            for i in range(200)
        )
    )
    blocks, written = [], []
    with spy(reader, "parse_block", blocks), spy(Writer, f"_whole_{fmt}", written):
        got = predict(cli_runner, models / f"{task}.onnx", text, fmt, False)
    assert got[0] == 0 and blocks and all(b is not None for b in blocks)
    # JSON texts made for json only, and not where pass-through columns make the writer go row by row
    assert all((b.json_chars is not None) == (fmt == "json" and not extra) for b in blocks)
    if fmt == "csv" and task != "multiclass":
        assert written and all(w is not None for w in written)
    elif fmt == "json":
        assert bool(written) != extra and all(w is not None for w in written)
    with line_path():
        assert predict(cli_runner, models / f"{task}.onnx", text, fmt, False) == got
