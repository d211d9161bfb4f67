"""edge-train and edge-predict read one table alike: when both read it, the same rows with the same feature values
(no train/serve skew from quoting, comments, '#' rows, blank lines, column order or line endings)."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from helpers import examples

from edge_predict.cli import cli
from edge_predict.errors import InputError
from edge_predict.trainer.table import read_table
from helpers.handmade import manifest, weighted_sum

NUMBERS = ["7", "-0.5", "2.5e3", " 3 ", "\t4", "+.5", "1e-3", '"8"', "9.", "-0"]
BAD = ["0x1", "", "nan", "1,5", "x", "#2"]
TEXT = st.text(st.sampled_from(list('ab ,"#\t\x00\x85\u2028é1')), max_size=5)


@st.composite
def tables(draw):
    """Feature columns f0.., a label column and maybe an ID, in any order; rows, comments and blank lines."""
    names = [f"f{i}" for i in range(draw(st.integers(1, 3)))]
    columns = draw(st.permutations(names + ["target"] + ["id"] * draw(st.booleans())))
    lines = [",".join(columns)]
    for i in range(draw(st.integers(2, 8))):
        row = []
        for column in columns:
            if column in names:
                row.append(draw(st.sampled_from(NUMBERS if draw(st.integers(0, 24)) else BAD)))
            elif column == "target":  # two classes at least: a one-class column is refused for training
                row.append(["yes", "no"][i] if i < 2 else draw(st.sampled_from(["yes", "no", '"a,b"'])))
            else:
                text = draw(TEXT)
                row.append(f'"{text.replace(chr(34), 2 * chr(34))}"' if draw(st.booleans()) else text)
        lines.append(",".join(row))
        if not draw(st.integers(0, 5)):
            lines.append(draw(st.sampled_from(["", "# c", "  ", "#x,1", "#f0,f1"])))
    return names, columns, draw(st.sampled_from(["\n", "\r\n"])).join(lines) + "\n"


@pytest.mark.slow
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_edge_train_and_edge_predict_read_the_same_rows(cli_runner, tmp_path_factory, table):
    names, columns, text = table
    folder = tmp_path_factory.mktemp("t")
    (folder / "t.csv").write_text(text, newline="")
    try:
        read = read_table(folder / "t.csv", label="target", drop=["id"] if "id" in columns else [])
    except InputError:
        read = None  # e.g. one class only: a training matter
    golden = [[1.0] * len(names)]
    doc = manifest("regression", [(n, None, None) for n in names], golden, [[float(len(names))]])
    (folder / "m.onnx").write_bytes(weighted_sum([1.0] * len(names), doc))
    args = ["predict", "-m", str(folder / "m.onnx"), "-i", str(folder / "t.csv"), "-f", "json"]
    result = cli_runner.invoke(cli, args)
    if read is None or result.exit_code != 0:
        event("refused by one or both")
        return
    event("read by both")
    served = [[json.loads(line)["input"][n] for n in read.feature_names] for line in result.stdout.splitlines()]
    assert np.float32(served).tobytes() == read.x.tobytes()  # the same rows, the same float32 values
