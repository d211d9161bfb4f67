"""The device loop a user would write with onnxruntime: one number per line on stdin, its answer as a JSON line at once.

No checks: a line that is not a number ends it with a traceback, a NaN is scored. The floor under edge-predict's loop.
"""

import json
import sys

import numpy as np
import onnxruntime as ort

options = ort.SessionOptions()
options.intra_op_num_threads = options.inter_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
name = session.get_inputs()[0].name
for line in sys.stdin:
    hours = float(line)
    probability = session.run(None, {name: np.array([[hours]], dtype=np.float32)})[0][0, -1]
    print(json.dumps({"input": {"hours": hours}, "probability": float(probability)}), flush=True)
