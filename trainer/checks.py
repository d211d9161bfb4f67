"""The export's checks, measured: torch and the graph onnxruntime runs give every golden row the same answer at every
batch size the device may use, and the file verifies as the runtime verifies it at load."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from edge_predict import Predictor, VerificationError

from .graph import ExportError

ODD_BATCH = 7
# Larger than the golden batch and than the usual virtual batch of ghost batch normalization (128): a size kept by
# the trace, or a chunk count computed from it, shows there.
LARGE_BATCH = 257


def batch_sizes(golden_rows: int) -> list[int]:
    """The golden batch first (what the device verifies at load), then 1, 2, an odd size and one larger than any the
    export traced, each once."""
    others = sorted({1, 2, ODD_BATCH, max(LARGE_BATCH, 2 * golden_rows + 1)} - {golden_rows})
    return [golden_rows, *others]


def rows_of_batch(golden_rows: int, size: int) -> np.ndarray:
    """Which golden rows a batch of `size` holds: the golden batch itself, else rows drawn (seeded by the size)."""
    if size == golden_rows:
        return np.arange(size)
    return np.random.default_rng(size).integers(0, golden_rows, size)


def measure(
    module_outputs: Callable[[np.ndarray], np.ndarray],
    graph_outputs: Callable[[np.ndarray], np.ndarray],
    expected: np.ndarray,
    atol: float,
    rtol: float,
    flagged: Sequence[str],
    describe: Callable[[int], str],
) -> float:
    """The largest |graph - torch| over every batch size; ExportError when the module or the graph answers a golden row
    otherwise at some size than torch did within the golden batch (`expected`).

    module_outputs(rows) / graph_outputs(rows): what torch / onnxruntime compute for the golden rows `rows` scored as one
    batch; `flagged`: what the tracer warned about outside torch; `describe(i)`: golden row i for messages.
    """
    largest = 0.0
    n = len(expected)
    for size in batch_sizes(n):
        rows = rows_of_batch(n, size)
        want = expected[rows]
        if size == 1:  # every golden row alone
            rows, want = np.arange(n), expected
            got = np.concatenate([_outputs(module_outputs, rows[i : i + 1], want[:1].shape) for i in range(n)])
        else:
            got = _outputs(module_outputs, rows, want.shape)
        if (i := _first_outside(got, want, atol, rtol)) is not None:
            r = int(rows[i])
            scored = "scored alone" if size == 1 else f"in a batch of {size}"
            raise ExportError(
                f"the module computes {got[i].tolist()} for golden input {r} {describe(r)} {scored}, but "
                f"{want[i].tolist()} within the batch of all {n} ({_bound(atol, rtol)}): its output for a sample depends "
                "on the other samples scored with it (a statistic over dim 0 such as x.mean(0), softmax(dim=0), a batch "
                "size it keeps), so the device's answers would depend on which rows it reads together; compute each "
                "sample from its own features. If the difference is float32 rounding of large unscaled features, "
                "standardize them in the module or pass a larger atol= (at most 1% of the outputs' scale). Nothing was "
                "written"
            )
        if size == 1:
            got = np.concatenate([_outputs(graph_outputs, rows[i : i + 1], want[:1].shape) for i in range(n)])
        else:
            got = _outputs(graph_outputs, rows, want.shape)
        if size == n and _first_outside(got, want, atol, rtol) is not None:  # the golden batch, traced on itself
            raise golden_disagreement(float(np.nanmax(np.abs(got.astype(np.float64) - want), initial=np.inf)), atol)
        if (i := _first_outside(got, want, atol, rtol)) is not None:
            r = int(rows[i])
            where = _where(flagged)
            raise ExportError(
                f"the exported graph computes {got[i].tolist()} for golden input {r} {describe(r)} "
                f"{'scored alone' if size == 1 else f'at batch size {size}'}, "
                f"but torch computes {want[i].tolist()} ({_bound(atol, rtol)}){where}: the graph kept what one run of "
                "the module did (a size, a branch, a value read in Python) and is wrong at other batch sizes. Write "
                "that code with tensor operations (x.shape[0] instead of len(x), torch.where instead of if), or pass "
                "onnx_exporter='dynamo', which keeps sizes symbolic. If the difference is float32 rounding of large "
                "unscaled features, standardize them in the module or pass a larger atol=. Nothing was written"
            )
        largest = max(largest, float(np.abs(got.astype(np.float64) - want).max()))
    return largest


PROBE_ROWS = 64
PROBE_SLACK = 100  # probe rows are refused beyond 100 x the golden tolerance (measure_values)


def probes(raw: list[np.ndarray], codes: list[np.ndarray], bounds: list, seed: int = 0) -> list[tuple[list, list]]:
    """Batches beside the golden one for measuring values, not sizes: the golden rows with their numbers negated, and
    rows drawn uniformly over the golden numbers' range, all within the domain (`bounds`: per argument (lo, hi) arrays,
    None for categories); categories drawn from the golden rows. Each batch is (raw, codes), per argument, as the
    graph and the module take them."""
    rng = np.random.default_rng(seed)
    n = len(raw[0])
    drawn = rng.integers(0, n, PROBE_ROWS)
    negated, spread = ([], []), ([], [])
    for r, c, b in zip(raw, codes, bounds):
        if b is None:
            for batch, picked in ((negated, np.arange(n)), (spread, drawn)):
                batch[0].append(r[picked])
                batch[1].append(c[picked])
            continue
        lo, hi = r.min(axis=0), r.max(axis=0)
        for batch, numbers in ((negated, -r), (spread, rng.uniform(lo, hi, (PROBE_ROWS, r.shape[1])))):
            numbers = np.clip(numbers, b[0], b[1]).astype(np.float32)
            batch[0].append(numbers)
            batch[1].append(numbers)
    return [negated, spread]


def measure_values(module_outputs, graph_outputs, atol, rtol, flagged, describe) -> None:
    """ExportError when the graph answers a probe row otherwise than torch (where torch's answer is finite): a branch
    or a value the trace kept. ExportError too when torch itself fails on the probe rows."""
    try:
        want = np.asarray(module_outputs(), np.float64)
    except Exception as exc:  # the module's own refusal (an index out of range, a shape): the caller's to fix
        raise ExportError(
            f"the module fails on probe rows (the golden rows with their numbers negated, and rows drawn over their "
            f"range, within domain=): {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}. "
            "A module that indexes an nn.Embedding with a feature (x[:, j].long()) takes category codes: give those "
            "features a forward input of their own (inputs=) and their vocabulary (categories=), so the device refuses "
            "a code it has none for (-1, 1.5 or one past the last). Nothing was written"
        ) from exc
    got = _outputs(lambda _: graph_outputs(), None, want.shape).astype(np.float64)
    finite = np.isfinite(want).all(axis=1)
    # Probe rows lie off the golden ones, where float32 rounding of large weights is not what the golden atol was
    # set for: they test branches and values the trace kept, whose differences are far larger.
    bound = PROBE_SLACK * (atol + rtol * np.abs(want))
    outside = finite[:, None] & ~(np.abs(got - want) <= bound)
    if outside.any():
        i = int(np.flatnonzero(outside.any(axis=1))[0])
        raise ExportError(
            f"the exported graph computes {got[i].astype(np.float32).tolist()} for input {describe(i)}, but torch "
            f"computes {want[i].astype(np.float32).tolist()} ({PROBE_SLACK} x {_bound(atol, rtol)}){_where(flagged)}: "
            "the graph took "
            "the path of the traced inputs (a branch or a value read in Python) and is wrong on others; write that "
            "code with tensor operations (torch.where, masks). If the difference is float32 rounding (a few ulps of "
            "the values computed), pass a larger atol= (at most 1% of the outputs' scale). Nothing was written"
        )


def _where(flagged: Sequence[str]) -> str:
    """The places outside torch the tracer flagged, first first."""
    return f"; the tracer flagged {'; '.join(flagged)}" if flagged else ""


def _outputs(outputs_of, rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """outputs_of(rows) as float32 of `shape`; NaN where it fails or returns another shape."""
    try:
        out = np.asarray(outputs_of(rows), np.float32)
    except Exception:  # onnxruntime's or torch's refusal of another batch size: the measurement shows it as NaN
        return np.full(shape, np.nan, np.float32)
    return out.reshape(shape) if out.size == np.prod(shape) else np.full(shape, np.nan, np.float32)


def _first_outside(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> int | None:
    bound = atol + rtol * np.abs(want.astype(np.float64))
    outside = ~(np.abs(got.astype(np.float64) - want) <= bound)  # NaN is outside too
    return int(np.flatnonzero(outside.any(axis=1))[0]) if outside.any() else None


def _bound(atol: float, rtol: float) -> str:
    return f"bound {atol:g}" + (f" + {rtol:g} x |value|" if rtol else "")


def engines_reproducing(graph: bytes, feed: dict, output: str, expected: np.ndarray, atol: float, rtol: float):
    """The engines that compute torch's golden outputs `expected` within atol + rtol x |expected| (golden.engines):
    onnxruntime, which the export measured already (it stops otherwise), and the numpy engine where it runs every
    operator of `graph` (the serialized model) and agrees on the golden batch `feed`."""
    from edge_predict.authoring import NumpySession, numpy_unsupported, read_numpy_model

    model = read_numpy_model(graph)
    if numpy_unsupported(model):
        return ["onnxruntime"]
    try:
        got = np.asarray(NumpySession(model).run([output], feed)[0], np.float64).reshape(expected.shape)
    except Exception:  # an attribute or a shape the numpy engine does not handle: not proven on it
        return ["onnxruntime"]
    within = np.abs(got - expected) <= atol + rtol * np.abs(expected)
    return ["onnxruntime", "numpy"] if within.all() else ["onnxruntime"]


def verify_file(data: bytes, atol: float, allow_ops=()) -> Predictor:
    """The file loaded as the runtime loads it (allowing `allow_ops`), which scores the golden vectors with onnxruntime;
    ExportError if not."""
    try:
        return Predictor.from_bytes(data, source="<export>", allow_ops=allow_ops)
    except VerificationError as exc:
        if exc.batch_sizes is not None:  # the graph answers by the batch (the runtime's check at load)
            raise ExportError(f"{exc}; nothing was written") from None
        raise golden_disagreement(exc.difference, atol) from None


def golden_disagreement(difference: float, atol: float) -> ExportError:
    """onnxruntime and torch differ on the golden vectors: what usually causes it, in export()'s and edge-train's terms."""
    said = f"onnxruntime disagrees with torch on the golden vectors: largest difference {difference:.3g} > {atol:g}"
    return ExportError(
        f"{said}; nothing was written. Large unscaled features (the two sum in float32 in different orders) or a "
        "normalization over a few nearly equal values (a LayerNorm of 2 units) do that: standardize the features in "
        "the module, or pass a larger atol= (at most 1% of the outputs' scale)",
        cli=f"{said}; nothing was written. Large unscaled features (the two sum in float32 in different orders) or a "
        "normalization over a few nearly equal values (a LayerNorm of 2 units) do that: train with --standardize, or "
        "accept the difference with --atol (at most 1% of the outputs' scale)",
    )
