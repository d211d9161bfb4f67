"""Threads: onnxruntime uses one unless threads= says otherwise; one Predictor shared by 8 threads is safe."""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnxruntime
import pytest

from edge_predict import InputError, Predictor

THREADS, BATCHES = 8, 2000


def batches(seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0, 10, size=int(rng.integers(1, 40))).astype(np.float32) for _ in range(BATCHES)]


def test_shared_predictor_matches_serial_results(model_path):
    predictor = Predictor.from_path(model_path)
    work = [batches(seed) for seed in range(THREADS)]
    serial = [[predictor.predict_proba(x)[:, 1] for x in xs] for xs in work]

    def score(xs):
        out = []
        for i, x in enumerate(xs):
            out.append(predictor.predict_proba(x)[:, 1])
            if i % 97 == 0:  # errors raised in one thread must not disturb the others
                try:
                    predictor.predict_proba([-1.0])[:, 1]
                except InputError:
                    pass
        return out

    with ThreadPoolExecutor(THREADS) as pool:
        parallel = list(pool.map(score, work))
    for expected, got in zip(serial, parallel):
        assert len(got) == BATCHES
        for a, b in zip(expected, got):
            np.testing.assert_array_equal(a, b)


@pytest.fixture
def session_options(monkeypatch):
    """Every onnxruntime.SessionOptions the runtime makes, to read back what it asked onnxruntime for."""
    made, real = [], onnxruntime.SessionOptions

    def recording():
        made.append(real())
        return made[-1]

    monkeypatch.setattr(onnxruntime, "SessionOptions", recording)
    return made


@pytest.mark.parametrize(
    "threads, intra",
    [(None, 1), (1, 1), (os.cpu_count() or 1, os.cpu_count() or 1)],
    ids=["default", "one", "every CPU"],
)
def test_onnxruntime_gets_one_thread_unless_threads_is_given(model_path, session_options, threads, intra):
    Predictor.from_path(model_path, threads=threads)
    (options,) = session_options
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (intra, 1)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"  # idle threads sleep
    assert options.log_severity_level == 4  # fatal only: onnxruntime's log lines never reach the user


def test_a_pickled_predictor_keeps_its_thread_count(model_path, session_options):
    import pickle

    threads = os.cpu_count() or 1
    pickle.loads(pickle.dumps(Predictor.from_path(model_path, threads=threads)))
    assert [options.intra_op_num_threads for options in session_options] == [threads, threads]
