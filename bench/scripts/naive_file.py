"""A naive numpy script: read the whole file, score it, write probability and label with np.savetxt."""

import sys

import numpy as np
import onnxruntime as ort

session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
x = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
p = session.run(None, {session.get_inputs()[0].name: x})[0]
np.savetxt(sys.argv[3], np.column_stack([x, p, p >= 0.5]), delimiter=",", header="hours,probability,label", comments="")
