"""edge-predict's trainer: train a PyTorch model and export a self-verifying ONNX file.

Needs the `train` extra (torch, onnx). Import what you need from `edge_predict.trainer.train` and
`edge_predict.trainer.export`; this package file imports nothing so `edge-train` can say clearly
when torch is missing.
"""
