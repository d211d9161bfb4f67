"""What a pandas user would write: read_csv -> onnxruntime -> to_csv (or to_json lines)."""

import sys

import numpy as np
import onnxruntime as ort
import pandas as pd

model, source, out, fmt = sys.argv[1:5]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
table = pd.read_csv(source)
scores = session.run(None, {session.get_inputs()[0].name: table.to_numpy(np.float32)})[0]
p = scores[:, -1] if scores.ndim == 2 else scores  # P(label 1): the last column of (n, 1) or (n, 2) (format 3 files)
table["probability"] = p
table["label"] = np.where(p >= 0.5, "1", "0")
table.to_csv(out, index=False) if fmt == "csv" else table.to_json(out, orient="records", lines=True)
