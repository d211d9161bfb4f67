"""What a polars user would write for a typed model: read_csv -> the same ONNX graph in onnxruntime -> write_csv.

The graph's inputs are read from the file's manifest (docs/artifact.md "Manifest format 3"): numbers as float32
(a gap is NaN), text categories as strings (a gap is "")."""

import json
import sys

import numpy as np
import onnxruntime as ort
import polars as pl

model, source, out = sys.argv[1:4]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
manifest = json.loads(session.get_modelmeta().custom_metadata_map["edge_predict"])
texts = [n for i in manifest["inputs"] if i["type"] == "string" for n in i["features"]]
table = pl.read_csv(source, schema_overrides={name: pl.String for name in texts})
feed = {}
for graph_input in manifest["inputs"]:
    part = table.select(graph_input["features"])
    if graph_input["type"] == "string":
        feed[graph_input["name"]] = part.fill_null("").to_numpy().astype(object)
    else:
        feed[graph_input["name"]] = part.to_numpy().astype(np.float32)  # a null is NaN
p = session.run([manifest["output"]], feed)[0][:, -1]  # binary (n, 2): P(labels[1])
labels = np.asarray(manifest["labels"])[(p >= manifest["threshold"]).astype(int)]
table.with_columns(probability=pl.Series(p), label=pl.Series(labels)).write_csv(out)
