"""One Predictor shared by 8 threads returns exactly what serial calls return."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

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
