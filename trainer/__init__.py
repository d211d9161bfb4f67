"""edge-predict's trainer: train a PyTorch model, or bring your own, and export a self-verifying ONNX file.

    from edge_predict.trainer import export
    export(module, "model.onnx", feature_names=[...], task="multiclass", labels=[...], outputs="logits")

Needs the `train` extra (torch, onnx). `export` and `ExportError` are imported on first use, so
`import edge_predict.trainer` (and `edge-train --help`) work without torch.
"""

__all__ = ["Column", "Encoding", "ExportError", "export", "export_pipeline"]


def __getattr__(name: str):
    if name in ("Column", "Encoding"):
        from . import encoding

        return getattr(encoding, name)
    if name == "export_pipeline":
        from . import pipeline

        return pipeline.export_pipeline
    if name in __all__:
        from . import exporter

        return getattr(exporter, name)
    raise AttributeError(f"module 'edge_predict.trainer' has no attribute {name!r}")
