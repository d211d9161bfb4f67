"""The numpy engine: the exporter's operator set in numpy, on the graph read from the already-checked bytes.

reader.py decodes the ModelProto (the runtime's own wire reader; no onnx package), ops.py holds the operator table,
erf.py the error function numpy lacks, session.py the InferenceSession-like object the runtime scores with.
"""
