"""The server on a device install: the wheel and its three dependencies, no torch, no test extra."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request

import pytest

from helpers import CLEAN_ENV

SCRIPT = r"""
import json, sys, urllib.request
port = int(sys.argv[1])
body = json.dumps({"inputs": [{"name": "hours", "datatype": "FP32", "shape": [2], "data": [1, 7]}]}).encode()
with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/models/default/infer", body, timeout=10) as response:
    print(response.read().decode())
"""


@pytest.mark.slow
def test_the_device_install_serves_the_packaged_model(device):
    proc = subprocess.Popen(
        [device / "bin" / "edge-predict", "serve", "--port", "0"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=CLEAN_ENV,
    )
    try:
        line = proc.stderr.readline()
        port = int(line.rsplit(":", 1)[1].split("/", 1)[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=10) as response:
            assert json.load(response) == {"ready": True}
        out = subprocess.run(
            [device / "bin" / "python", "-c", SCRIPT, str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=CLEAN_ENV,
        )
        outputs = json.loads(out.stdout)["outputs"]
        assert outputs[0]["data"] == [0.42295337, 0.9558091] and outputs[1]["data"] == ["fail", "pass"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
