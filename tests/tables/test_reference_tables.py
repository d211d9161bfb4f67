"""`edge-predict predict --input` on hostile tables against a reference spelled out from docs/input.md with the csv
module, float() and onnxruntime alone: whenever the CLI answers, each output row is the reference's row (its texts,
its pass-through fields, float(text) in JSON, the outputs for exactly those values), in input order."""

import csv
import io
import json
import re

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

from helpers import examples
from onnx import helper, numpy_helper

from edge_predict.cli import cli
from helpers.handmade import manifest, model
from helpers.paths import small_blocks

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)", re.I)
NAMES = ["a", "A", "hours", "x 1", "é", "# n", "400"]
LABELS = ["0", "1", "01", "1.0", "yes", "a,b", 'q"t', " sp"]
GOOD = ["{!r}", "{:.3g}", "{:.17e}", "+{!r}", "000{!r}", " {!r} ", "\t{!r}", '"{!r}"', "{!r}e0"]
HOSTILE = ["0x1A", "1_000", "١٢", "+inf", "nan", "1e400", "1e39", "-0", "", "7\x00", "\ufeff7", "1,5", "1" * 30,
           "3.4028235e38", "3.4028236e38", "1.4e-45", "5.E+3", "hours", "a", '" 7 "']  # fmt: skip
TEXT = st.text(st.sampled_from(list('ab ,"#\t\x00\x0b\x1c\x85\u2028\ufeff1.e-é😀\\\r')), max_size=6)
DOMAINS = [(None, None), (0.0, None), (-10.0, 10.0), (0.0, 1.0)]


class Bad(Exception):
    """The reference refuses this row (or the whole input)."""


def fields(line: str) -> list[str]:
    if '"' not in line:
        return line.split(",")
    end = line.rstrip(" \t")
    try:
        return next(csv.reader([end if end.endswith('"') else line], strict=True))
    except csv.Error:
        raise Bad from None


def names_all(line: str, names, width: int | None = None) -> bool:
    """The line names every feature (a header), or, given `width`, has that many fields."""
    try:
        split = fields(line)
    except Bad:
        return False
    return len(split) == width if width is not None else set(names) <= {f.strip(" \t") for f in split}


def number(text: str, lo, hi) -> float:
    text = text.strip(" \t")
    value = float(text) if NUMBER.fullmatch(text) else np.nan
    with np.errstate(over="ignore"):
        v32 = float(np.float32(value))
    if not np.isfinite(v32) or (lo is not None and v32 < lo) or (hi is not None and v32 > hi):
        raise Bad
    return value


def reference(data: bytes, names, domain, reserved, keep):
    """(rows, pass-through names); a row is (values, feature texts, pass-through texts), None where refused."""
    text = data.decode("utf-8").lstrip("\ufeff")  # a byte-order mark (or two) before the first line
    lines = re.split("\r\n|\r|\n", text)[: -1 if re.search("[\r\n]$", text) else None]
    content = [i for i, line in enumerate(lines) if line.strip(" \t")[:1] not in ("", "#") or names_all(line, names)]
    if not content:
        raise Bad
    head = [f.strip(" \t") for f in fields(lines[content[0]])]
    order, extra, start = list(range(len(names))), [], content[0]
    if not any(f[:1].isalpha() and not NUMBER.fullmatch(f) for f in head) and set(names) <= set(head):
        raise Bad  # names that read as numbers ('400'): header or row? refused
    if any(f[:1].isalpha() and not NUMBER.fullmatch(f) for f in head):
        if len(set(head)) < len(head) or not set(names) <= set(head) or set(head) & set(reserved):
            raise Bad
        order, extra, start = (
            [head.index(n) for n in names],
            [j for j, f in enumerate(head) if f not in names],
            start + 1,
        )
    rows = []
    for line in lines[start:]:
        bare = line.strip(" \t")
        width = len(order) + len(extra)
        if not bare or (
            bare[0] == "#" and not names_all(line, names) and not (extra and names_all(line, names, width))
        ):
            continue
        try:
            split = fields(line)
            if len(split) != width:
                raise Bad
            values = [number(split[j], *bounds) for j, bounds in zip(order, domain)]
            rows.append((values, [split[j].strip(" \t") for j in order], [split[j] for j in extra]))
        except Bad:
            if not keep or names_all(line, names):  # a header again stops the run even with --keep-going
                raise
            rows.append(None)
    if not rows:
        raise Bad
    return rows, [head[j] for j in extra]


def graph(task, k, labels, threshold, seed):
    """A model file and its manifest: sigmoid / softmax of x @ W, or (regression) each input times a power of two."""
    rng = np.random.default_rng(seed)
    width = {"binary": 1, "multiclass": len(labels), "regression": k}[task]
    w = rng.normal(size=(k, width)).astype(np.float32)
    if task == "regression":
        w = np.diag(2.0 ** np.arange(k)).astype(np.float32)[:, rng.permutation(k)]
    nodes = [helper.make_node("MatMul", ["x", "W"], ["z" if task != "regression" else "y"])]
    if task != "regression":
        nodes.append(helper.make_node("Sigmoid" if task == "binary" else "Softmax", ["z"], ["y"]))
    fields = {"binary": {"labels": labels, "threshold": threshold}, "multiclass": {"labels": labels}}
    return nodes, numpy_helper.from_array(w, "W"), width, fields.get(task, {"targets": [f"t{i}" for i in range(k)]})


def run_graph(data: bytes, x) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return np.concatenate([session.run(None, {"x": np.float32([row])})[0] for row in x])  # one sample at a time


@st.composite
def tables(draw):
    """A model (task, features, domains, labels) and a table for it: a header in any column order or none,
    pass-through columns, numbers written in many ways or hostile, blank and comment lines, any line endings."""
    task = draw(st.sampled_from(["binary", "multiclass", "regression"]))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True).filter(lambda n: n != ["# n"]))
    names = names if draw(st.integers(0, 9)) else ["400"]  # a model exported before number-like names were refused
    domain = [draw(st.sampled_from(DOMAINS)) for _ in names]
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=3, max_size=4, unique=True))[
        : 2 if task == "binary" else 4
    ]
    threshold = draw(st.sampled_from([0.5, 0.0, 1.0, 0.3, float(np.float32(0.3))]))
    header = draw(st.sampled_from(["none", "same", "shuffled"]))
    columns = list(names) + [f"id{i}" for i in range(draw(st.integers(0, 2)) if header != "none" else 0)]
    columns = draw(st.permutations(columns)) if header == "shuffled" else columns
    lines = [",".join(f'"{c}"' if draw(st.booleans()) else c for c in columns)] if header != "none" else []
    for _ in range(draw(st.integers(1, 10))):
        row = []
        for c in columns:
            if c not in names:
                text = draw(TEXT)
                row.append(f'"{text.replace(chr(34), 2 * chr(34))}"' if draw(st.booleans()) else text)
            elif draw(st.integers(0, 9)):
                lo, hi = domain[names.index(c)]
                value = draw(st.floats(-1e6 if lo is None else lo, 1e6 if hi is None else hi, width=32))
                row.append(draw(st.sampled_from(GOOD)).format(value))
            else:
                row.append(draw(st.sampled_from(HOSTILE)))
        lines.append(",".join(row))
        if not draw(st.integers(0, 8)):
            lines.append(draw(st.sampled_from(["", "# c", "\t", "#1,2", ",".join(columns)])))
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + end for line, end in zip(lines, ends))
    data = ("\ufeff" if draw(st.booleans()) else "") + (text.rstrip("\r\n") if draw(st.booleans()) else text)
    return task, names, domain, labels, threshold, data.encode("utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("reference")


@pytest.mark.slow
@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables(), st.sampled_from(["csv", "json"]), st.booleans(), st.booleans(), st.sampled_from([16, 64, 1 << 17]))
def test_every_answer_is_the_reference_answer(cli_runner, folder, table, fmt, keep, stdin, block_chars):
    task, names, domain, labels, threshold, data = table
    nodes, weights, width, fields_ = graph(task, len(names), labels, threshold, len(data))
    golden = [[lo if lo is not None else 1.0 for lo, _ in domain]]
    doc = manifest(task, [(n, lo, hi) for n, (lo, hi) in zip(names, domain)], golden, [[0.0] * width], **fields_)
    doc["golden"]["outputs"] = run_graph(model(doc, nodes, [weights], width), golden).tolist()
    path, source = folder / "m.onnx", folder / "in.csv"
    path.write_bytes(model(doc, nodes, [weights], width))
    source.write_bytes(data)
    args = ["predict", "-m", str(path), "-f", fmt, "-i", "-" if stdin else str(source)] + ["-k"] * keep
    with small_blocks(block_chars):
        result = cli_runner.invoke(cli, args, input=data if stdin else None)
    outputs = {"binary": ["probability", "label"], "multiclass": ["label", *(f"p_{c}" for c in labels)]}
    outputs = outputs.get(task, fields_.get("targets"))
    try:
        rows, extra = reference(data, names, domain, [*outputs, "error"], keep)
        good = [row[0] for row in rows if row is not None]
        out = iter(run_graph(path.read_bytes(), good) if good else [])
        scored = [None if row is None else (*row, next(out)) for row in rows]
        if any(row is not None and not np.isfinite(row[3]).all() for row in scored):
            raise Bad  # the model computes NaN or inf for the sample: refused (with -k: as one row, not modelled)
    except Bad:
        event("refused")
        assert result.exit_code != 0, result.stdout
        return
    event("answered, some rows refused" if None in scored else "answered")
    assert result.exit_code == (2 if None in scored else 0), result.stderr
    if fmt == "csv":
        got = list(csv.reader(io.StringIO(result.stdout, newline="")))
        assert got.pop(0) == [*names, *extra, *outputs] + ["error"] * keep
    else:
        got = [json.loads(line) for line in result.stdout.split("\n")[:-1]]
    assert len(got) == len(scored)
    for row, answer in zip(scored, got):
        check(row, answer, fmt, task, names, extra, outputs, labels, threshold, keep)


def check(row, answer, fmt, task, names, extra, outputs, labels, threshold, keep):
    """One output row (CSV fields or a JSON record) says what the reference computed for its input row."""
    if fmt == "csv":
        if keep:
            assert bool(answer.pop()) == (row is None)  # the error column
        k, outs = len(names), answer[len(answer) - len(outputs) :]
        if row is None:
            assert outs == [""] * len(outputs)
            return
        assert (answer[:k], answer[k : k + len(extra)]) == (row[1], row[2])
        values = dict(zip(outputs, outs))
    else:
        if keep:
            assert (answer.pop("error") is None) == (row is not None)
        if row is None:
            assert answer["input"] is None
            return
        assert list(answer.pop("input").items()) == list(zip(names, row[0]))  # float(text) exactly, in model order
        assert answer.pop("extra", {}) == dict(zip(extra, row[2]))
        probabilities = answer.pop("probabilities", {})
        assert list(probabilities) == (labels if task == "multiclass" else [])
        values = {**answer, **{f"p_{c}": p for c, p in probabilities.items()}}
        assert list(values) == list(outputs)
    p, numbers = row[3], [np.float32(float(values[name])) for name in outputs if name != "label"]
    if task == "regression":  # exact: each value times a power of two
        assert numbers == p.tolist()
    np.testing.assert_allclose(numbers, p, rtol=1e-6, atol=1e-7)  # a classifier on one sample vs in a batch
    if task == "binary" and abs(float(p[0]) - threshold) > 1e-6:
        assert values["label"] == labels[float(p[0]) >= threshold]
    elif task == "multiclass" and np.sort(p)[-1] - np.sort(p)[-2] > 1e-6:
        assert values["label"] == labels[int(np.argmax(p))]
