"""The same twenty lines with tract (sonos/tract's Python bindings) instead of onnxruntime: load, score one value, print."""

import sys

import numpy as np
import tract

model = tract.onnx().load(sys.argv[1]).into_model().into_runnable()
x = np.array([[float(sys.argv[2])]], dtype=np.float32)
print(model.run([x])[0].to_numpy()[0, 0])
