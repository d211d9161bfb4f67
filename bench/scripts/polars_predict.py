"""What a polars user would write: read_csv -> onnxruntime -> write_csv (or write_ndjson)."""

import sys

import numpy as np
import onnxruntime as ort
import polars as pl

model, source, out, fmt = sys.argv[1:5]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
table = pl.read_csv(source)
x = table.to_numpy().astype(np.float32)
scores = session.run(None, {session.get_inputs()[0].name: x})[0]
p = scores[:, -1] if scores.ndim == 2 else scores  # P(label 1): the last column of (n, 1) or (n, 2) (format 3 files)
table = table.with_columns(probability=pl.Series(p), label=pl.Series(np.where(p >= 0.5, "1", "0")))
table.write_csv(out) if fmt == "csv" else table.write_ndjson(out)
