"""Run one command and print its wall seconds and peak RSS as JSON.

A small parent is what keeps ru_maxrss honest: a child forked from the benchmark itself (numpy, torch
and onnxruntime loaded) would report the benchmark's own RSS as its peak.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

stdout_path, cmd = sys.argv[1], sys.argv[2:]
with open(stdout_path, "wb") as out, tempfile.TemporaryFile() as err:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage; ru_maxrss is in KiB on Linux
    wall = time.perf_counter() - start
    err.seek(0)
    message = err.read().decode(errors="replace").strip()[-500:]
print(
    json.dumps(
        {"wall": wall, "peak_kib": usage.ru_maxrss, "exit": os.waitstatus_to_exitcode(status), "stderr": message}
    )
)
