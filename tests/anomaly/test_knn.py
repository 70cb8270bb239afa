"""KNNDetector: hand-computed scores, agreement with exact search, the annoy backend."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from anomaly import KNNDetector

LINE = np.array([[0.0], [1.0], [3.0], [7.0]])


@pytest.mark.parametrize("method, train, new", [
    # neighbours (k=2, self excluded): 0 -> {1, 3}, 1 -> {0, 2}, 3 -> {2, 3}, 7 -> {4, 6}
    ("largest", [3.0, 2.0, 3.0, 6.0], 3.0),
    ("mean", [2.0, 1.5, 2.5, 5.0], 2.0),
    ("median", [2.0, 1.5, 2.5, 5.0], 2.0),
])
def test_scores_by_hand(method, train, new):
    det = KNNDetector(2, method=method, scaler=None, backend="exact").fit(LINE)
    np.testing.assert_allclose(det.decision_scores_, train, rtol=1e-6)
    # the new point 4 has neighbours 3 (distance 1) and 7 (distance 3)
    np.testing.assert_allclose(det.decision_function([[4.0]]), [new], rtol=1e-6)


def test_two_dimensional_by_hand():
    X = np.array([[0, 0], [3, 4], [0, 4], [6, 8]], dtype=float)
    det = KNNDetector(1, scaler=None, backend="exact").fit(X)
    # nearest other point: (0,0)->(0,4) 4; (3,4)->(0,4) 3; (0,4)->(3,4) 3; (6,8)->(3,4) 5
    np.testing.assert_allclose(det.decision_scores_, [4, 3, 3, 5], rtol=1e-6)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_duplicate_rows_match_sklearn(k):
    # rows drawn with replacement from 40 points (plus a block of 30 copies): a duplicate of a
    # training point is its neighbour at distance 0, as in scikit-learn and PyOD
    rng = np.random.default_rng(11)
    base = rng.normal(size=(40, 3)).astype(np.float32)
    X = np.vstack([base[rng.integers(0, 40, size=200)], np.repeat(base[:1], 30, axis=0)])
    Q = np.vstack([rng.normal(size=(20, 3)).astype(np.float32), base[:3]])
    nn = NearestNeighbors().fit(X)
    d, _ = nn.kneighbors(n_neighbors=k)
    dq, _ = nn.kneighbors(Q, n_neighbors=k)
    det = KNNDetector(k, method="mean", scaler=None, backend="exact").fit(X)
    np.testing.assert_allclose(det.decision_scores_, d.mean(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(det.decision_function(Q), dq.mean(axis=1), rtol=1e-5, atol=1e-6)


def test_all_rows_identical():
    det = KNNDetector(3, scaler=None, backend="exact").fit(np.ones((10, 2)))
    np.testing.assert_array_equal(det.decision_scores_, np.zeros(10))
    np.testing.assert_allclose(det.decision_function([[2.0, 1.0]]), [1.0])


def test_annoy_backend_is_seeded_and_close_to_exact():
    rng = np.random.default_rng(7)
    far = rng.uniform(6, 10, size=(8, 6)) * rng.choice([-1.0, 1.0], size=(8, 6))
    X = np.vstack([rng.normal(size=(400, 6)), far])
    a = KNNDetector(5, backend="annoy", random_state=0).fit(X)
    b = KNNDetector(5, backend="annoy", random_state=0).fit(X)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)
    exact = KNNDetector(5, backend="exact").fit(X)
    assert a.backend_ == "annoy" and exact.backend_ == "exact"
    assert np.corrcoef(a.decision_scores_, exact.decision_scores_)[0, 1] > 0.95
    # the planted points are the top scores for both
    assert set(np.argsort(-a.decision_scores_)[:8]) == set(range(400, 408))


def test_random_state_generator_reaches_the_store():
    X = np.random.default_rng(1).normal(size=(300, 8))
    a = KNNDetector(5, backend="annoy", n_trees=2, random_state=np.random.default_rng(5)).fit(X)
    b = KNNDetector(5, backend="annoy", n_trees=2, random_state=np.random.default_rng(5)).fit(X)
    np.testing.assert_array_equal(a.decision_scores_, b.decision_scores_)


def test_auto_backend_small_data_is_exact():
    assert KNNDetector(3).fit(np.random.default_rng(0).normal(size=(50, 8))).backend_ == "exact"


def test_n_jobs_gives_the_same_scores():
    X = np.random.default_rng(2).normal(size=(500, 5))
    one = KNNDetector(5, backend="exact").fit(X)
    two = KNNDetector(5, backend="exact", n_jobs=2).fit(X)
    every = KNNDetector(5, backend="exact", n_jobs=-1).fit(X)
    np.testing.assert_allclose(one.decision_scores_, two.decision_scores_, rtol=1e-6)
    np.testing.assert_allclose(one.decision_scores_, every.decision_scores_, rtol=1e-6)
