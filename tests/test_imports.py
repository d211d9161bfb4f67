"""The runtime imports and predicts with torch, onnx and the trainer made unimportable."""

import json
import subprocess
import sys

SCRIPT = r"""
import json, sys
for name in ("torch", "onnx", "edge_predict.trainer"):
    sys.modules[name] = None  # any import of these now raises ImportError
import edge_predict
def heavy_modules():
    loaded = [m for m in sys.modules if sys.modules[m] is not None]
    return sorted(m for m in loaded if m.split(".")[0] in ("torch", "onnx") or m.startswith("edge_predict.trainer"))
after_import = heavy_modules()
p = edge_predict.Predictor.default().predict_proba([1.0, 7.0])
from edge_predict.cli import main
try:
    main(["predict", "1", "7", "--format", "json"])
except SystemExit as exc:
    code = exc.code
heavy = heavy_modules()
print(json.dumps({"after_import": after_import, "heavy": heavy, "p": [float(v) for v in p], "code": code}))
"""


def test_runtime_needs_no_torch_onnx_or_trainer():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["after_import"] == []
    assert report["heavy"] == []
    assert report["code"] == 0
    assert report["p"][0] < 0.5 < report["p"][1]


def test_runtime_sources_never_name_torch_onnx_or_trainer():
    from pathlib import Path
    import re

    runtime = Path(__file__).resolve().parents[1] / "runtime"
    pattern = re.compile(r"^\s*(import|from)\s+(torch|onnx|trainer|edge_predict\.trainer)\b", re.M)
    offenders = [p.name for p in runtime.glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
