"""Each model's host-side material: the file, its grid, torch's expectation, x86-64's outputs, damaged copies."""

from __future__ import annotations

import json
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
    X: np.ndarray | list  # float32 (n, k); a typed model's raw rows (feature order, None for a gap)
    grid: Path  # the grid as CSV (a gap is an empty field)
    expected: references.Expected
    x86_proba: list  # predict_proba (predict for regression) on x86-64
    bad_models: dict[str, Path]
    api_grid: Path  # what guest_api.py reads: the CSV, or for a typed model the rows as JSON (null for a gap)


def prepare(model, repo: Path, work: Path) -> Prepared:
    from edge_predict import Predictor

    work.mkdir(parents=True, exist_ok=True)
    path = repo / model.path if model.path else work / f"{model.name}.onnx"
    if model.train:
        data = ["--data", model.table(work)] if model.table else []
        subprocess.run(
            [HOST_CLI.with_name("edge-train"), *data, *model.train, "--out", path],
            cwd=repo,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
    data = path.read_bytes()
    meta = references.manifest(data)
    names = [f["name"] for f in meta["features"]]
    grid, api_grid = work / "grid.csv", work / "grid.csv"
    if references.typed(meta):
        X = references.typed_grid(meta)
        cells = [["" if v is None else v if isinstance(v, str) else repr(v) for v in row] for row in X]
        api_grid = work / "grid.json"
        api_grid.write_text(json.dumps(X))
    else:
        X = references.grid(meta)
        cells = [[repr(float(v)) for v in row] for row in X]
    grid.write_text(",".join(names) + "\n" + "".join(",".join(row) + "\n" for row in cells))
    bad = {"truncated": data[: len(data) // 2], "flipped weight bit": _flip_weight_bit(data)}
    if meta["format"] >= 2:  # sealed: the digest refuses the flip; resealed, only the golden vectors can
        bad["flipped weight bit, resealed"] = _resealed(bad["flipped weight bit"])
    paths = {}
    for i, (what, content) in enumerate(bad.items()):
        paths[what] = work / f"bad{i}.onnx"
        paths[what].write_bytes(content)
    host = Predictor.from_path(path)
    x86 = host.predict(X) if meta.get("task") == "regression" else host.predict_proba(X)
    expected = model.reference(data, meta, X)
    return Prepared(model, path, meta, X, grid, expected, np.asarray(x86).tolist(), paths, api_grid)


def penguins(work: Path) -> Path:
    """The Palmer penguins table as the palmerpenguins package ships it (344 rows; island and sex as text, gaps as
    NA in the measurements and in sex)."""
    import palmerpenguins

    return Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


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
