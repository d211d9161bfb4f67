"""The checks run on the device, each compared with torch (outputs) or with the same command on the host (errors)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import numpy as np

import references
from material import HOST_CLI, Prepared
from report import Report


def runtime_cases(device, runtime, report: Report) -> None:
    """Model-independent: the interpreter is aarch64, a usage error and a missing file exit as documented."""
    done = device.python("-c", "import platform; print(platform.machine())")
    report.add(runtime.name, "-", "python3.11 machine", done.stdout.strip() == "aarch64", done.stdout.strip())
    _error_case(device, runtime.name, "-", "unknown --format", ["predict", "-f", "xml", "1"], 2, report)
    _error_case(device, runtime.name, "-", "missing model", ["verify", "-m", "/nonexistent/model.onnx"], 1, report)


def model_cases(device, runtime, case: Prepared, report: Report, errors: bool = True) -> None:
    """verify, the API and predict in every format against torch; with `errors`, bad inputs and damaged models."""
    name, model = case.model.name, case.model
    use = [] if model.packaged else ["-m", str(case.path)]
    done = device.edge_predict("verify", *use)
    report.add(
        runtime.name,
        name,
        "CLI verify",
        done.code == 0 and done.stdout.startswith("ok:"),
        f"exit {done.code}, {done.seconds:.1f} s: {done.stdout.strip()[:60] or done.errors}",
    )
    _api(device, runtime, case, report)
    for fmt in ("text", "json", "csv"):
        done = device.edge_predict("predict", *use, "-i", case.grid, "-f", fmt)
        if done.code != 0:
            report.add(runtime.name, name, f"predict -f {fmt}", False, f"exit {done.code}: {done.errors}")
            continue
        rows = _parse(done.stdout, fmt)
        worst, wrong = _compare(rows, case, _columns(case.meta, fmt), resolution=fmt == "text")
        report.add(
            runtime.name,
            name,
            f"predict -f {fmt}",
            worst <= 1 and not wrong and len(rows) == len(case.X),
            f"{len(rows)} rows, largest |diff|/tol {worst:.2f}, labels wrong {wrong}",
        )
    if references.typed(case.meta):
        _typed_cases(device, runtime, case, report)
    elif errors:
        _bad_cases(device, runtime, case, report)


def refusals(meta: dict) -> dict[str, list]:
    """Rows a typed model must refuse, each from one complete row: an unseen category ('Atlantis') in the first
    category, and a gap in the first number (else feature) that may not be missing."""
    base = [
        f["categories"][0] if f["type"] == "category" else (f.get("observed") or [0.0])[0] for f in meta["features"]
    ]
    rows = {}
    unseen = [j for j, f in enumerate(meta["features"]) if f["type"] == "category" and f.get("unknown") != "encode"]
    if unseen:
        rows["unseen category"] = [UNSEEN if j == unseen[0] else v for j, v in enumerate(base)]
    refused = [j for j, f in enumerate(meta["features"]) if f.get("missing") != "impute" and f["type"] == "number"]
    refused = refused or [j for j, f in enumerate(meta["features"]) if f.get("missing") != "impute"]
    if refused:
        rows["refused gap"] = [None if j == refused[0] else v for j, v in enumerate(base)]
    return rows


UNSEEN = "Atlantis"


def _typed_cases(device, runtime, case: Prepared, report: Report) -> None:
    """A typed model's refusals on the device as on the host: one argument row each (exit 2, the host's line), and a
    file of good and bad rows under --keep-going (exit 2, the same error per row, the good rows scored)."""
    name, use = case.model.name, ["-m", str(case.path)]
    bad = refusals(case.meta)
    line = {what: ",".join("" if v is None else str(v) for v in row) for what, row in bad.items()}
    for what, text in line.items():
        _error_case(device, runtime.name, name, f"input: {what}", ["predict", *use, "--", text], 2, report)
    good = [",".join("" if v is None else str(v) for v in row) for row in case.X[:3]]
    rows = case.path.with_name("keep-going.csv")
    names = [f["name"] for f in case.meta["features"]]
    rows.write_text(",".join(names) + "\n" + "\n".join([good[0], *line.values(), *good[1:]]) + "\n")
    args = ["predict", *use, "-i", rows, "-f", "json", "-k"]
    done = device.edge_predict(*args)
    host = subprocess.run([HOST_CLI, *map(str, args)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    got = [json.loads(text)["error"] for text in done.stdout.splitlines()]
    want = [json.loads(text)["error"] for text in host.stdout.splitlines()]
    ok = done.code == 2 == host.returncode and got == want and len(got) == len(good) + len(line)
    ok = ok and sum(e is None for e in got) == len(good) and done.errors == host.stderr.splitlines()
    report.add(runtime.name, name, "--keep-going row errors", ok, f"exit {done.code}, errors {got}")


def _bad_cases(device, runtime, case: Prepared, report: Report) -> None:
    """Bad inputs exit 2, damaged copies of the model exit 1, each with the host's one line."""
    name, use = case.model.name, [] if case.model.packaged else ["-m", str(case.path)]
    k = len(case.meta["features"])
    bad_inputs = {
        "not a number": ",".join(["abc"] + ["1"] * (k - 1)),
        "NaN": ",".join(["nan"] * k),
        f"{k + 1} values": ",".join(["1"] * (k + 1)),
    }
    lows = [(i, f["min"]) for i, f in enumerate(case.meta["features"]) if f.get("min") is not None]
    if lows:
        i, low = lows[0]
        bad_inputs["below the domain"] = ",".join(repr(float(low - 1)) if j == i else "1" for j in range(k))
    for what, value in bad_inputs.items():
        _error_case(device, runtime.name, name, f"input: {what}", ["predict", *use, "--", value], 2, report)
    for what, path in case.bad_models.items():
        _error_case(device, runtime.name, name, f"model {what}: verify", ["verify", "-m", path], 1, report)
    # Loading verifies, so predict refuses too; shown once, on the damage only the golden vectors can see.
    what, path = list(case.bad_models.items())[-1]
    _error_case(
        device,
        runtime.name,
        name,
        f"model {what}: predict",
        ["predict", "-m", path, "--", ",".join(["1"] * k)],
        1,
        report,
    )


def _api(device, runtime, case: Prepared, report: Report) -> None:
    """Predictor on the device: aarch64, no torch or onnx, verify, predict_proba and predict against torch."""
    name = case.model.name
    bad = refusals(case.meta) if references.typed(case.meta) else {}
    extra = []
    if bad:
        extra = [case.path.with_name("refusals.json")]
        extra[0].write_text(json.dumps(bad))
    done = device.python(
        Path(__file__).parent / "guest_api.py", "default" if case.model.packaged else case.path, case.api_grid, *extra
    )
    if done.code != 0:
        report.add(runtime.name, name, "Python API", False, f"exit {done.code}: {done.errors[-1:]}")
        return
    got = json.loads(done.stdout)
    report.add(
        runtime.name,
        name,
        "API environment",
        got["machine"] == getattr(device, "machine", "aarch64") and not got["heavy_modules"],
        " ".join(f"{k} {v}" for k, v in got["versions"].items()) + f", {got['machine']}",
    )
    atol, diff = case.meta["golden"]["atol"], got["verify"].get("value")
    report.add(
        runtime.name,
        name,
        "API verify",
        diff is not None and diff <= atol,
        f"largest golden difference {diff} (atol {atol})" if diff is not None else got["verify"]["error"],
    )
    report.figure(runtime.name, name, "verify", f"{diff:.3g}" if diff is not None else "error")
    if bad:
        _api_refusals(runtime, case, bad, got["refusals"], report)
    regression = case.meta.get("task") == "regression"
    method = "predict" if regression else "predict_proba"  # a regression model has no probabilities
    value = got[method].get("value")
    if value is None:
        report.add(runtime.name, name, f"API {method}", False, got[method]["error"])
        return
    out = _outputs(value, case.meta.get("task", "binary"))
    diff = np.max(np.abs(out - case.expected.outputs))
    excess = np.max(np.abs(out - case.expected.outputs) / case.expected.tol)
    report.add(
        runtime.name,
        name,
        f"API {method} vs torch",
        excess <= 1,
        f"largest |diff| {diff:.3g}, {excess:.2f} of the bound",
    )
    report.figure(runtime.name, name, "vs torch", f"{diff:.3g}")
    x86 = np.max(np.abs(np.asarray(value, np.float64) - np.asarray(case.x86_proba, np.float64)))
    report.figure(runtime.name, name, "vs x86-64", f"{x86:.3g}")
    if case.expected.labels is not None:
        labels = got["predict"].get("value") or []
        wrong = sum(e is not None and e != g for e, g in zip(case.expected.labels, labels))
        report.add(runtime.name, name, "API predict", len(labels) == len(case.X) and not wrong, f"labels wrong {wrong}")


def _api_refusals(runtime, case: Prepared, bad: dict, got: dict, report: Report) -> None:
    """Each row the device's Predictor refused with the error the host's raises for it (type and message)."""
    from edge_predict import Predictor

    host = Predictor.from_path(case.path)
    for what, row in bad.items():
        try:
            host.predict_proba([row])
            want = "no error on x86-64"
        except Exception as exc:  # noqa: BLE001 - whatever the host raises, the device must raise the same
            want = f"{type(exc).__name__}: {exc}"
        said = got[what].get("error", "scored, not refused")
        ok = said == want and want.startswith("InputError: ")
        report.add(runtime.name, case.model.name, f"API refuses: {what}", ok, said[:100])


def _outputs(value, task: str) -> np.ndarray:
    """predict_proba (predict for regression) as the graph's output rows; binary (n, 2) -> P(labels[1])."""
    arr = np.asarray(value, np.float64)
    arr = arr.reshape(len(arr), -1)
    return arr[:, 1:] if task == "binary" and arr.shape[1] == 2 else arr


def _parse(text: str, fmt: str) -> list[dict[str, str]]:
    """Rows of column -> text; JSON's nested objects become 'outer.inner' columns, its "input" is dropped."""
    if fmt == "json":
        rows = []
        for line in text.splitlines():
            row = {}
            for key, value in json.loads(line).items():
                pairs = value.items() if isinstance(value, dict) else [(None, value)]
                row.update({key if sub is None else f"{key}.{sub}": str(v) for sub, v in pairs if key != "input"})
            rows.append(row)
        return rows
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    header, *lines = text.splitlines()
    # from the right: the outputs are the last columns, and a gap in an input prints as blanks
    return [dict(zip(reversed(header.split()), reversed(line.split()))) for line in lines]


def _columns(meta: dict, fmt: str) -> list[str]:
    """The output columns that carry the graph's outputs, in order, as the writer names them per task."""
    task = meta.get("task", "binary")
    if task == "multiclass":
        return [f"probabilities.{label}" if fmt == "json" else f"p_{label}" for label in meta["labels"]]
    return meta.get("targets", ["value"]) if task == "regression" else ["probability"]


def _compare(rows, case: Prepared, columns: list[str], resolution: bool) -> tuple[float, int]:
    """The largest |got - torch| / allowed over the output columns, and the count of wrong labels."""
    worst, wrong = 0.0, 0
    labels = case.expected.labels or [None] * len(rows)
    for row, expected, tol, label in zip(rows, case.expected.outputs, case.expected.tol, labels):
        for j, column in enumerate(columns):
            text = row[column]
            half_digit = 0.5 * 10.0 ** Decimal(text).as_tuple().exponent if resolution else 0.0  # text rounds
            worst = max(worst, abs(float(text) - expected[j]) / (tol[j] + half_digit))
        if label is not None:  # classifiers only
            wrong += row["label"] != label
    return worst, wrong


def _error_case(device, runtime: str, model: str, what: str, args: list, code: int, report: Report) -> None:
    """Exit `code`; when an error, one line on stderr, no traceback, and the same line as on the x86-64 host."""
    done = device.edge_predict(*args)
    host = subprocess.run([HOST_CLI, *map(str, args)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    lines = done.errors
    if code == 0:
        ok, detail = done.code == 0, f"exit {done.code} (scored; only verify checks weights)"
    else:
        ok = done.code == code and len(lines) == 1 and host.stderr.splitlines() == lines
        detail = f"exit {done.code}: {lines[0][:90] if len(lines) == 1 else lines}"
        if host.stderr.splitlines() != lines:
            detail += f" | x86-64 said {host.stderr.strip()[:90]!r}"
    report.add(runtime, model, what, ok, detail)


def armv7(device, wheel: Path, report: Report) -> None:
    """32-bit ARM: pip on an armv7l Python does not ask for onnxruntime, which has no build for it (the numpy engine
    scores there; make test-armv7 checks it)."""
    control = device.python("-m", "pip", "download", "--no-deps", "-d", device.home / "dl", "click")
    if control.code != 0:  # then any answer below would only mean "no network"
        report.add(
            "armv7l", "-", "pip install", True, f"not checked: pip cannot reach PyPI there ({control.errors[-1:]})"
        )
        return
    done = device.python("-m", "pip", "download", "-d", device.home / "dl", wheel)
    reason = [line for line in done.errors if line.startswith("ERROR:")]
    ok = not any("onnxruntime" in line for line in reason)
    report.add("armv7l", "-", "pip asks for no onnxruntime", ok, " / ".join(reason) or f"exit {done.code}")
    report.notes.append(f"armv7l: pip download exits {done.code}: {reason[-1] if reason else 'no error'}")
