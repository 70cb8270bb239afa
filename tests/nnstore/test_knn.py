"""nnstore.kneighbors / cross_kneighbors: every method against brute force."""

import numpy as np
import pandas as pd
import pytest

from nnstore import cross_kneighbors, kneighbors
from nnstore._exact import pair_distances

METRICS = ["cosine", "euclidean", "dot", "manhattan"]


def _brute(q, x, k, metric, self_join=False):
    d = pair_distances(q[:, None, :], x[None, :, :], metric).astype(np.float64)
    if self_join:
        np.fill_diagonal(d, np.inf)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(d, idx, axis=1)


def _recall(found, truth):
    return np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, truth, strict=True)])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(20, 12)) * 3
    x = (centers[rng.integers(0, 20, 1500)] + rng.normal(size=(1500, 12))).astype(np.float32)
    q = (centers[rng.integers(0, 20, 80)] + rng.normal(size=(80, 12))).astype(np.float32)
    return x, q


@pytest.mark.parametrize("metric", METRICS)
def test_exact_matches_brute_force(data, metric):
    x, q = data
    idx, dist = kneighbors(x, q, k=7, metric=metric, method="exact")
    bi, bd = _brute(q, x, 7, metric)
    assert idx.shape == (80, 7) and idx.dtype == np.int64 and dist.dtype == np.float32
    np.testing.assert_allclose(dist, bd, rtol=1e-4, atol=1e-4)
    assert (idx == bi).mean() > 0.99  # ids differ only where distances tie to rounding
    assert (np.diff(dist, axis=1) >= 0).all()


@pytest.mark.parametrize("metric", METRICS)
def test_exact_blocks_bound_memory_same_answer(data, metric):
    x, q = data
    small = kneighbors(x, q, k=5, metric=metric, method="exact", block_bytes=1 << 16)
    big = kneighbors(x, q, k=5, metric=metric, method="exact")
    np.testing.assert_allclose(small[1], big[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", METRICS)
def test_self_join_excludes_each_row(data, metric):
    x, _ = data
    idx, dist = kneighbors(x, k=5, metric=metric, method="exact")
    assert not (idx == np.arange(len(x))[:, None]).any()
    _, bd = _brute(x, x, 5, metric, self_join=True)
    np.testing.assert_allclose(dist, bd, rtol=1e-4, atol=1e-4)
    idx2, _ = kneighbors(x, k=1, metric="euclidean", exclude_self=False, method="exact")
    assert (idx2[:, 0] == np.arange(len(x))).all()


@pytest.mark.parametrize("method", ["ivf", "annoy", "graph"])
@pytest.mark.parametrize("metric", METRICS)
def test_approximate_methods_reach_requested_recall(data, method, metric):
    x, q = data
    bi, _ = _brute(q, x, 10, metric)
    idx, dist = kneighbors(x, q, k=10, metric=metric, method=method, recall=0.95, random_state=0)
    assert _recall(idx, bi) >= 0.9  # tuned to 0.95 on a sample of these queries
    exact_d = pair_distances(q[:, None, :], x[idx], metric)
    np.testing.assert_allclose(dist, exact_d, rtol=1e-5, atol=1e-5)  # true distances of what is returned
    si, _ = kneighbors(x, k=5, metric=metric, method=method, random_state=0)
    assert not (si == np.arange(len(x))[:, None]).any()


def test_ivf_full_probe_is_exact(data):
    x, q = data
    _idx, dist = kneighbors(x, q, k=5, metric="euclidean", method="ivf", n_cells=10, n_probe=10,
                           random_state=0)
    _, bd = _brute(q, x, 5, "euclidean")
    np.testing.assert_allclose(dist, bd, rtol=1e-5, atol=1e-5)


def test_ivf_same_seed_same_answer(data):
    x, q = data
    a = kneighbors(x, q, k=5, method="ivf", n_probe=2, random_state=3)
    b = kneighbors(x, q, k=5, method="ivf", n_probe=2, random_state=3, n_jobs=2)
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_kdtree_exact_with_duplicates(metric):
    rng = np.random.default_rng(1)
    x = np.repeat(rng.normal(size=(60, 3)).astype(np.float32), 3, axis=0)  # each row 3 times
    idx, dist = kneighbors(x, k=4, metric=metric, method="kdtree")
    _, bd = _brute(x, x, 4, metric, self_join=True)
    np.testing.assert_allclose(dist, bd, rtol=1e-4, atol=1e-6)
    assert not (idx == np.arange(len(x))[:, None]).any()
    # a row's first two neighbours are its two copies
    group = np.arange(len(x)) // 3
    assert (group[idx[:, :2]] == group[:, None]).all()
    q = rng.normal(size=(20, 3)).astype(np.float32)
    _qi, qd = kneighbors(x, q, k=6, metric=metric, method="kdtree")
    np.testing.assert_allclose(qd, _brute(q, x, 6, metric)[1], rtol=1e-4, atol=1e-6)


def test_kdtree_refuses_dot(data):
    x, q = data
    with pytest.raises(ValueError, match="kdtree"):
        kneighbors(x, q, k=3, metric="dot", method="kdtree")


def test_padding_past_available_rows():
    x = np.eye(3, dtype=np.float32)
    idx, dist = kneighbors(x, k=4, metric="euclidean")
    assert idx.shape == (3, 4)
    assert (idx[:, 2:] == -1).all() and np.isinf(dist[:, 2:]).all()
    assert (idx[:, :2] >= 0).all()


def test_dataframe_input_and_doc_example():
    x = pd.DataFrame({"emb_0": [0.0, 1.0, 5.0], "emb_1": [0.0, 0.0, 0.0]})
    idx, dist = kneighbors(x, k=1, metric="euclidean")
    assert idx.ravel().tolist() == [1, 0, 1]
    assert dist.ravel().tolist() == [1.0, 1.0, 4.0]


def test_auto_picks_exact_for_small_and_approximate_for_large(data, monkeypatch):
    import nnstore._knn as knn

    x, q = data
    idx, dist = kneighbors(x, q, k=5, metric="euclidean")  # small: exact
    np.testing.assert_allclose(dist, _brute(q, x, 5, "euclidean")[1], rtol=1e-5, atol=1e-5)
    assert knn._auto_method(10**6, 10**6, 64, "cosine", 0.95) == knn.AUTO_APPROX
    assert knn._auto_method(10**6, 10**6, 3, "euclidean", 0.95) == "kdtree"
    assert knn._auto_method(10**6, 10**6, 64, "cosine", 1.0) == "exact"
    monkeypatch.setattr(knn, "AUTO_EXACT_PAIRS", 0)
    idx, _ = kneighbors(x, q, k=10, metric="cosine", recall=0.97, random_state=0)
    assert _recall(idx, _brute(q, x, 10, "cosine")[0]) >= 0.92


@pytest.mark.parametrize("metric", METRICS)
def test_cross_both_directions_match_two_searches(data, metric):
    x, q = data
    ia, da, ib, db = cross_kneighbors(q, x, k=4, k_b=2, metric=metric)
    assert ia.shape == (80, 4) and ib.shape == (1500, 2)
    np.testing.assert_allclose(da, _brute(q, x, 4, metric)[1], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, _brute(x, q, 2, metric)[1], rtol=1e-4, atol=1e-4)


def test_cross_approximate(data):
    x, q = data
    ia, _da, ib, _db = cross_kneighbors(q, x, k=5, method="ivf", random_state=0)
    assert _recall(ia, _brute(q, x, 5, "cosine")[0]) >= 0.9
    assert ib.shape == (1500, 5)


@pytest.mark.parametrize("kwargs, err, match", [
    ({"k": 0}, ValueError, "k must be"),
    ({"k": 2.5}, ValueError, "k must be"),
    ({"k": 3, "metric": "cos"}, ValueError, "metric must be one of"),
    ({"k": 3, "method": "hnsw"}, ValueError, "method must be one of"),
    ({"k": 3, "ef": 0}, ValueError, "ef must be"),
    ({"k": 3, "recall": 1.5}, ValueError, "recall must be"),
    ({"k": 3, "n_jobs": 0}, ValueError, "n_jobs"),
    ({"k": 3, "n_probe": 0}, ValueError, "n_probe"),
    ({"k": 3, "exclude_self": "yes"}, TypeError, "exclude_self"),
])
def test_bad_arguments_are_named(kwargs, err, match):
    x = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    with pytest.raises(err, match=match):
        kneighbors(x, **kwargs)


def test_bad_arrays_are_named():
    x = np.ones((10, 4), dtype=np.float32)
    with pytest.raises(ValueError, match="queries must have dimension 4"):
        kneighbors(x, np.ones((2, 3)), k=2)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="data contains NaN"):
        kneighbors(bad, k=2)
    with pytest.raises(ValueError, match="data is empty"):
        kneighbors(np.zeros((0, 4)), k=2)
    with pytest.raises(ValueError, match="exclude_self=True needs queries=None"):
        kneighbors(x, x, k=2, exclude_self=True)


@pytest.mark.parametrize("method", ["exact", "ivf", "kdtree"])
def test_groups_never_return_own_group(data, method):
    x, _ = data
    groups = np.arange(len(x)) // 4  # groups of four rows
    idx, dist = kneighbors(x, k=3, metric="euclidean", method=method, groups=groups, random_state=0)
    assert (groups[idx] != groups[:, None]).all()
    d = pair_distances(x[:, None, :], x[None, :, :], "euclidean")
    d[groups[:, None] == groups[None, :]] = np.inf
    truth = np.argsort(d, axis=1, kind="stable")[:, :3]
    if method == "ivf":
        assert _recall(idx, truth) >= 0.85
    else:
        np.testing.assert_allclose(dist, np.take_along_axis(d, truth, axis=1), rtol=1e-4, atol=1e-4)


def test_groups_bad_length_named(data):
    x, _ = data
    with pytest.raises(ValueError, match="groups must have one value per row"):
        kneighbors(x, k=2, groups=[0, 1])


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_store_as_data(data, metric):
    from nnstore import NeighborStore

    x, q = data
    store = NeighborStore(x.shape[1], metric=metric, exact=True)
    store.add([f"r{i}" for i in range(len(x))], x)
    store.delete(["r0", "r5"])
    pos, dist = kneighbors(store, k=4, metric=metric)
    alive = np.delete(np.arange(len(x)), [0, 5])
    assert pos.shape == (len(alive), 4)
    assert not (pos == np.arange(len(alive))[:, None]).any()
    _bi, bd = _brute(x[alive], x[alive], 4, metric, self_join=True)
    np.testing.assert_allclose(dist, bd, rtol=1e-4, atol=1e-4)
    _pq, dq = kneighbors(store, q, k=3, metric=metric)
    np.testing.assert_allclose(dq, _brute(q, x[alive], 3, metric)[1], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="method must"):
        kneighbors(store, k=2, metric=metric, method="ivf")
    with pytest.raises(ValueError, match="pass that metric"):
        kneighbors(store, k=2, metric="dot")


def test_tuning_recall_counts_ties_as_found():
    from nnstore._knn import _recall

    truth = np.array([[0, 1, 2], [3, 4, 5]])
    truth_d = np.array([[0.0, 1.0, 1.0], [0.5, 0.6, 0.7]], dtype=np.float32)
    found = np.array([[0, 1, 9], [3, 4, 8]])  # 9 ties with row 2; 8 is farther than row 5
    found_d = np.array([[0.0, 1.0, 1.0], [0.5, 0.6, 0.9]], dtype=np.float32)
    assert _recall(found, truth) == pytest.approx(4 / 6)
    assert _recall(found, truth, found_d, truth_d) == pytest.approx(5 / 6)


def test_graph_tuning_reaches_high_recall_on_duplicate_rows():
    # every row four times: ids of tied neighbours are arbitrary, their distances are not
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(size=(400, 12)).astype(np.float32), 4, axis=0)
    _, dist = kneighbors(x, k=6, method="graph", recall=0.99, random_state=0)
    _, dist_exact = kneighbors(x, k=6, method="exact")
    assert np.mean(np.isclose(dist, dist_exact, atol=1e-5).all(axis=1)) >= 0.97
