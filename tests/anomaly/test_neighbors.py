"""The detectors' neighbour search (anomaly/_neighbors.py): backend choice, and every search
answering through nnstore with the same semantics (self excluded, duplicates kept)."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from anomaly import AUTO_ANNOY_MIN_FEATURES, AUTO_ANNOY_MIN_SAMPLES, KNNDetector
from anomaly._neighbors import EXACT_KDTREE_MAX_FEATURES, NeighborIndex, exact_method, resolve_backend


def test_auto_backend_by_shape():
    assert resolve_backend("auto", 1000, 32) == "exact"
    assert resolve_backend("auto", 10**6, AUTO_ANNOY_MIN_FEATURES - 1) == "exact"
    assert resolve_backend("auto", AUTO_ANNOY_MIN_SAMPLES, AUTO_ANNOY_MIN_FEATURES) == "annoy"
    assert resolve_backend("auto", AUTO_ANNOY_MIN_SAMPLES - 1, 64) == "exact"
    for b in ("exact", "annoy"):
        assert resolve_backend(b, 10, 2) == b
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("faiss", 10, 2)


def test_exact_method_by_dimension():
    assert exact_method(EXACT_KDTREE_MAX_FEATURES - 1) == "kdtree"
    assert exact_method(EXACT_KDTREE_MAX_FEATURES) == "exact"


@pytest.mark.parametrize("backend, d", [("exact", 4), ("exact", EXACT_KDTREE_MAX_FEATURES), ("annoy", 4)])
def test_searches_agree_with_brute_force(backend, d):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(150, d)).astype(np.float32)
    X = np.vstack([base, base[:10]])  # ten duplicated rows
    Q = rng.normal(size=(20, d)).astype(np.float32)
    index = NeighborIndex(backend, random_state=0, n_trees=20).fit(X)
    nn = NearestNeighbors().fit(X)
    dist, rows = index.train_kneighbors(5)
    d_ref, _ = nn.kneighbors(n_neighbors=5)
    assert dist.dtype == np.float64 and rows.dtype == np.int64 and dist.shape == (160, 5)
    assert not (rows == np.arange(160)[:, None]).any()  # never the row itself
    np.testing.assert_array_equal(dist[np.arange(10), 0], 0.0)  # its duplicate, at distance 0
    dq, _ = index.kneighbors(Q, 5)
    dq_ref, _ = nn.kneighbors(Q, n_neighbors=5)
    if backend == "annoy":  # approximate: distances never below the exact ones, mostly equal
        assert (dist >= d_ref - 1e-5).all() and np.isclose(dist, d_ref, atol=1e-5).mean() > 0.9
        assert np.isclose(dq, dq_ref, atol=1e-5).mean() > 0.9
    else:
        np.testing.assert_allclose(dist, d_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(dq, dq_ref, rtol=1e-5, atol=1e-5)


def test_exact_gives_the_same_scores_in_many_dimensions():
    X = np.random.default_rng(3).normal(size=(300, EXACT_KDTREE_MAX_FEATURES + 2))
    det = KNNDetector(5, backend="exact", scaler=None).fit(X)
    ref, _ = NearestNeighbors().fit(X).kneighbors(n_neighbors=5)
    np.testing.assert_allclose(det.decision_scores_, ref[:, -1], rtol=1e-5)
