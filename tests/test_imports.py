"""The runtime imports only what a device installs: onnxruntime, numpy, click and the standard library."""

import json
import re
import subprocess
import sys
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "runtime"
# Top-level packages the runtime may pull in; everything else must come from the standard library.
ALLOWED = {"edge_predict", "onnxruntime", "numpy", "click"}

SCRIPT = r"""
import json, sys
for name in ("torch", "onnx", "edge_predict.trainer", "pandas", "pyarrow", "dask", "pyspark", "cryptography"):
    sys.modules[name] = None  # any import of these now raises ImportError
before = set(sys.modules)
import edge_predict
after_import = sorted(set(sys.modules) - before)
p = edge_predict.Predictor.default().predict_proba([1.0, 7.0])[:, 1]
from edge_predict.cli import main
try:
    main(["predict", "1", "7", "--format", "json"])
except SystemExit as exc:
    code = exc.code
loaded = sorted({m.split(".")[0] for m in sys.modules if sys.modules[m] is not None} - set(sys.stdlib_module_names))
print(json.dumps({"after_import": after_import, "loaded": loaded, "p": [float(v) for v in p], "code": code,
                  "openssl": "_hashlib" in sys.modules, "modules": sorted(sys.modules)}))
"""


def run_script() -> dict:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_runtime_loads_only_allowed_packages():
    report = run_script()
    assert report["code"] == 0
    assert report["p"][0] < 0.5 < report["p"][1]
    assert {m for m in report["loaded"] if not m.startswith("_")} - ALLOWED == set()


def test_importing_the_package_loads_no_onnxruntime_or_numpy():
    """`edge-predict --help` and `--version` start fast: the package import itself is light."""
    after = run_script()["after_import"]
    assert [m for m in after if m.split(".")[0] in ("onnxruntime", "numpy", "click")] == []


def test_runtime_sources_never_name_torch_onnx_or_trainer():
    pattern = re.compile(r"^\s*(import|from)\s+(torch|onnx|trainer|edge_predict\.trainer)\b", re.M)
    offenders = [str(p.relative_to(RUNTIME)) for p in RUNTIME.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_library_modules_never_import_the_command_line_layer():
    pattern = re.compile(r"^\s*(from\s+\.cli\b|from\s+edge_predict\.cli\b|import\s+click\b|from\s+click\b)", re.M)
    offenders = [p.name for p in RUNTIME.glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_predict_loads_no_other_command_or_the_csv_module():
    """`edge-predict predict 7` starts without serve's, sign's and evaluate's modules (imported when named), nor
    csv (read only for a quoted field) and queue (the read-ahead thread of --input)."""
    modules = set(run_script()["modules"])
    assert {"edge_predict.cli.serve", "edge_predict.cli.sign", "edge_predict.cli.evaluate"} & modules == set()
    assert {"csv", "queue"} & modules == set()


def test_scoring_a_small_model_does_not_load_openssl():
    """hashlib loads OpenSSL (3.4 MiB of RSS at start-up); the integrity digest of a small file does without it."""
    assert run_script()["openssl"] is False


def test_the_builtin_digest_is_sha256():
    import hashlib
    import os

    from edge_predict.model.integrity import BUILTIN_MAX, sha256_hex

    for size in (0, 1, 55, 56, 63, 64, 65, 1000, 2**20 + 7, BUILTIN_MAX, BUILTIN_MAX + 1):
        data = os.urandom(size)
        assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
