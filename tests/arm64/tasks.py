"""Multiclass and regression models for the arm64 run, made on the host: torch modules through the trainer's exporter.

edge-train fits binary models only; these have seeded weights, a format 2 manifest whose golden outputs torch
computed, and the integrity seal, as an exporter of those tasks would write them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def multiclass(path: Path) -> None:
    """4 features -> Linear -> Softmax over 3 classes."""
    import torch

    _export(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1)), path, "multiclass",
            {"labels": ["setosa", "versicolor", "virginica"]}, atol=1e-6, rtol=0.0)


def regression(path: Path) -> None:
    """3 features -> Linear -> 2 values."""
    import torch

    _export(torch.nn.Linear(3, 2), path, "regression", {"targets": ["price", "rent"]}, atol=1e-5, rtol=1e-6)


def _export(module, path: Path, task: str, extra: dict, atol: float, rtol: float) -> None:
    import torch

    from edge_predict.integrity import seal
    from edge_predict.manifest import METADATA_KEY, shortest_float32
    from edge_predict.trainer.export import OPSET, feature_entries, to_onnx

    torch.manual_seed(0)
    for p in module.parameters():  # weights of a few units, so the grid reaches saturated softmax rows
        torch.nn.init.uniform_(p, -2.0, 2.0)
    k = next(module.parameters()).shape[1]
    names = [f"x{i}" for i in range(k)]
    x = np.random.default_rng(0).uniform(-1, 1, (8, k)).astype(np.float32)
    with torch.no_grad():
        golden = module.eval()(torch.from_numpy(x)).numpy()
    manifest = {"format": 2, "task": task, **extra, "features": feature_entries(names, None, x),
                "training": {"model": f"seeded {task} (tests/arm64/tasks.py)"},
                "versions": {"torch": torch.__version__.split("+")[0], "opset": OPSET},
                "golden": {"inputs": [[shortest_float32(v) for v in row] for row in x],
                           "outputs": [[shortest_float32(v) for v in row] for row in golden],
                           "atol": atol, "rtol": rtol}}
    proto = to_onnx(module, k, "features", "output")
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(manifest, sort_keys=True)
    path.write_bytes(seal(proto.SerializeToString()))
