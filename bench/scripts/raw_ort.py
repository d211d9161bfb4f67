"""The twenty lines a user would write instead of edge-predict: load the model, score one value, print."""

import sys

import numpy as np
import onnxruntime as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
x = np.array([[float(sys.argv[2])]], dtype=np.float32)
print(session.run(None, {session.get_inputs()[0].name: x})[0][0, 0])
