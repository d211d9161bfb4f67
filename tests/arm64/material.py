"""Each model's host-side material: the file, its grid, torch's expectation, x86-64's outputs, damaged copies."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import references

HOST_CLI = Path(sys.executable).parent / "edge-predict"  # the same code on x86-64


@dataclass(frozen=True)
class Prepared:
    """A model's host-side material: grid file, torch's expectation, x86-64's outputs, damaged copies."""

    model: object  # driver.Model
    path: Path
    meta: dict
    X: np.ndarray
    grid: Path
    expected: references.Expected
    x86_proba: list  # predict_proba (predict for regression) on x86-64
    bad_models: dict[str, Path]


def prepare(model, repo: Path, work: Path) -> Prepared:
    from edge_predict import Predictor

    work.mkdir(parents=True, exist_ok=True)
    path = repo / model.path if model.path else work / f"{model.name}.onnx"
    if model.train:
        subprocess.run(
            [HOST_CLI.with_name("edge-train"), *model.train, "--out", path],
            cwd=repo,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
    data = path.read_bytes()
    meta = references.manifest(data)
    X = references.grid(meta)
    grid = work / "grid.csv"
    names = [f["name"] for f in meta["features"]]
    grid.write_text(",".join(names) + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in X))
    bad = {"truncated": data[: len(data) // 2], "flipped weight bit": _flip_weight_bit(data)}
    if meta["format"] >= 2:  # sealed: the digest refuses the flip; resealed, only the golden vectors can
        bad["flipped weight bit, resealed"] = _resealed(bad["flipped weight bit"])
    paths = {}
    for i, (what, content) in enumerate(bad.items()):
        paths[what] = work / f"bad{i}.onnx"
        paths[what].write_bytes(content)
    host = Predictor.from_path(path)
    x86 = host.predict(X) if meta.get("task") == "regression" else host.predict_proba(X)
    return Prepared(model, path, meta, X, grid, model.reference(data, meta, X), np.asarray(x86).tolist(), paths)


def _flip_weight_bit(data: bytes) -> bytes:
    """The file with the lowest exponent bit of its largest initializer's first float flipped: that value x2 or /2."""
    import onnx

    raw = max((t.raw_data for t in onnx.load_from_string(data).graph.initializer), key=len)
    at = data.index(raw) + 2  # little-endian float32: the top bit of byte 2 is the exponent's lowest
    return data[:at] + bytes([data[at] ^ 0x80]) + data[at + 1 :]


def _resealed(data: bytes) -> bytes:
    """`data` with its integrity digest recomputed, as if the damage had happened before export."""
    import onnx

    from edge_predict.model.integrity import DIGEST_KEY, seal

    proto = onnx.load_from_string(data)
    kept = [entry for entry in proto.metadata_props if entry.key != DIGEST_KEY.decode()]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    return seal(proto.SerializeToString())
