"""The manifest an edge-predict model carries in its ONNX metadata_props, and its checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ModelError

METADATA_KEY = "edge_predict"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Manifest:
    """The parts of a model's manifest the runtime relies on; `raw` keeps the whole document."""

    feature_names: tuple[str, ...]
    threshold: float
    labels: tuple[str, str]
    domain: tuple[tuple[float | None, float | None], ...]
    golden_inputs: tuple[tuple[float, ...], ...]
    golden_probabilities: tuple[float, ...]
    golden_atol: float
    raw: Mapping[str, Any]

    @classmethod
    def from_json(cls, text: str | None, source: str) -> "Manifest":
        """Parse and check the manifest JSON found in model `source`."""
        if text is None:
            raise ModelError(
                f"{source}: no edge-predict manifest (metadata key {METADATA_KEY!r}); a plain ONNX model has no "
                "golden vectors or feature domains, so it is not scored: export it with edge-train or "
                "edge_predict.trainer.export_model"
            )
        try:
            raw = json.loads(text)
            fmt = raw["format"]
            if fmt != FORMAT_VERSION:
                raise ModelError(
                    f"{source}: manifest format {fmt!r} is not supported (this edge-predict reads "
                    f"format {FORMAT_VERSION}); upgrade edge-predict or re-export the model"
                )
            features = raw["features"]
            golden = raw["golden"]
            manifest = cls(
                feature_names=tuple(str(f["name"]) for f in features),
                threshold=float(raw["threshold"]),
                labels=(str(raw["labels"][0]), str(raw["labels"][1])),
                domain=tuple((_opt_float(f.get("min")), _opt_float(f.get("max"))) for f in features),
                golden_inputs=tuple(tuple(float(v) for v in row) for row in golden["inputs"]),
                golden_probabilities=tuple(float(p) for p in golden["probabilities"]),
                golden_atol=float(golden["atol"]),
                raw=raw,
            )
        except ModelError:
            raise
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise ModelError(
                f"{source}: the edge-predict manifest is corrupt ({type(exc).__name__}: {exc}); "
                "re-export the model"
            ) from exc
        if not manifest.feature_names or len(manifest.golden_inputs) != len(manifest.golden_probabilities):
            raise ModelError(f"{source}: the edge-predict manifest is inconsistent; re-export the model")
        return manifest


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def shortest_float32(value: float) -> float:
    """The float whose repr is the shortest decimal that reads back as the same float32."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-"))
