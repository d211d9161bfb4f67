"""The model as it travels to the workers, and each worker process's one verified session for it.

The bytes travel once to each worker process, which loads them into one session (one intra-op thread, so that
N workers use N cores without oversubscribing them), verifies the golden vectors once, and keeps the session
for every later partition, found by the model's sha256.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_predict.errors import VerificationError

if TYPE_CHECKING:
    from edge_predict.predictor import Predictor

_PREDICTORS: dict[tuple[str, float | None], "Predictor"] = {}  # this process's, by (model sha256, threshold)
_LOCK = threading.Lock()  # a worker running several threads still builds each session once


@dataclass(frozen=True)
class ShippedModel:
    """What every worker receives once: the model's bytes, its sha256 (the cache key) and the threshold."""

    sha256: str
    data: bytes
    source: str
    threshold: float | None  # binary models only


def ship(predictor: "Predictor") -> ShippedModel:
    """What the workers need to rebuild `predictor`: its file's bytes, sha256, source and threshold."""
    threshold = predictor.threshold if predictor.task == "binary" else None
    return ShippedModel(predictor.sha256, predictor.model_bytes, predictor.source, threshold)


def worker_predictor(model: ShippedModel) -> "Predictor":
    """This process's Predictor for `model`: loaded and verified on first use, then reused for every partition."""
    key = (model.sha256, model.threshold)
    with _LOCK:
        predictor = _PREDICTORS.get(key)
        if predictor is None:
            from edge_predict.predictor import Predictor

            try:  # from_bytes scores the golden vectors: a worker whose CPU computes them wrong refuses to score
                predictor = Predictor.from_bytes(
                    model.data, source=model.source, threads=1, threshold=model.threshold, max_bytes=len(model.data)
                )
            except VerificationError as exc:
                raise VerificationError(
                    f"worker {socket.gethostname()} (pid {os.getpid()}) refuses to score: {exc}",
                    difference=exc.difference,
                ) from None
            _PREDICTORS[key] = predictor
    return predictor
