"""The compiled search over Annoy's index file answers exactly as Annoy's own binding."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from annoy import AnnoyIndex

from nnstore import NeighborStore
from nnstore._annoy_search import POST_NONE, POST_SQRT, AnnoyFile


def _index(tmp_path, metric, n, f, trees, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 20), f))
    X = (centres[rng.integers(0, len(centres), n)] + 0.3 * rng.normal(size=(n, f))).astype(np.float32)
    a = AnnoyIndex(f, metric)
    a.set_seed(1)
    for i, row in enumerate(X.tolist()):
        a.add_item(i, row)
    a.build(trees, n_jobs=1)
    path = tmp_path / f"{metric}-{n}.ann"
    a.save(str(path))
    return a, str(path), rng


@pytest.mark.parametrize("metric", ["angular", "euclidean", "manhattan"])
@pytest.mark.parametrize("n,f,trees", [(1, 3, 2), (3, 4, 3), (60, 8, 5), (3000, 16, 8)])
def test_same_answers_as_annoy(tmp_path, metric, n, f, trees):
    """Same ids in the same order and distances equal to float32 rounding, for k above and below
    n, Annoy's default search_k and small ones (which stop the walk early), and tiny indexes
    whose roots are leaves (n <= K) or a single item. Float sums run in another order than
    Annoy's, so two items at distances equal to rounding may swap places: allowed only there."""
    a, path, rng = _index(tmp_path, metric, n, f, trees)
    af = AnnoyFile(path, f, metric)
    assert af.n_items == n
    Q = rng.normal(size=(60, f)).astype(np.float32)
    post = POST_NONE if metric == "manhattan" else POST_SQRT
    n_swapped = n_queries = 0
    for k, sk in [(10, k_ * trees) for k_ in (10,)] + [(1, 3), (5, 17), (n + 2, 10_000)]:
        ids = np.empty(k, np.int64)
        dist = np.empty(k, np.float32)
        for q in Q:
            want_ids, want_d = a.get_nns_by_vector(q.tolist(), k, sk, True)
            m = af.search(q, k, sk, ids, dist, post)
            assert m == len(want_ids)
            np.testing.assert_allclose(dist[:m], want_d, rtol=2e-6, atol=2e-6)
            got = ids[:m].tolist()
            if got != want_ids:
                assert sorted(got) == sorted(want_ids)
                swapped = np.flatnonzero(np.array(got) != np.array(want_ids))
                gap = np.abs(np.array(want_d)[swapped] - dist[swapped])
                assert gap.max() <= 2e-6 * max(1.0, float(np.max(want_d))), (k, sk, swapped)
                n_swapped += 1
            n_queries += 1
            assert (ids[m:] == -1).all() and np.isinf(dist[m:]).all()
    assert n_swapped <= 0.1 * n_queries


def test_non_finite_query_and_bad_file(tmp_path):
    _, path, _ = _index(tmp_path, "angular", 100, 8, 3)
    af = AnnoyFile(path, 8, "angular")
    ids, dist = np.empty(3, np.int64), np.empty(3, np.float32)
    for bad in (np.nan, np.inf, -np.inf):
        q = np.ones(8, np.float32)
        q[2] = bad
        assert af.search(q, 3, 30, ids, dist) == -1
    with pytest.raises(ValueError, match="not a whole number of 48-byte nodes"):
        AnnoyFile(path, 9, "angular")
    with pytest.raises(ValueError, match="metric must be one of"):
        AnnoyFile(path, 8, "dot")


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot", "manhattan"])
def test_store_compiled_path_matches_annoy_binding(metric, tmp_path):
    """The store's compiled search (single, batch, threads) gives the same keys as the same store
    forced onto Annoy's binding; and it follows the index to the saved artifact and back."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2000, 12)).astype(np.float32)
    keys = [f"k{i}" for i in range(len(X))]
    store = NeighborStore(12, metric=metric, n_trees=8, random_state=0).add(keys, X).rebuild()
    assert store._afile is not None
    Q = rng.normal(size=(40, 12)).astype(np.float32)
    single = [store.query_arrays(q, k=7) for q in Q]
    batch1 = store.query_arrays(Q, k=7, n_jobs=1)
    batch2 = store.query_arrays(Q, k=7, n_jobs=2)
    afile, store._afile = store._afile, None  # the fallback: Annoy's own binding
    ref = store.query_arrays(Q, k=7, n_jobs=1)
    store._afile = afile
    for i, (k1, d1, p1) in enumerate(single):
        assert list(k1[0]) == list(ref[0][i]) == list(batch1[0][i]) == list(batch2[0][i])
        assert list(p1[0]) == list(batch1[2][i])
        np.testing.assert_allclose(d1[0], ref[1][i], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(d1[0], batch1[1][i])
    store.save(tmp_path / "s")
    assert store._afile is not None and afile is not store._afile
    again = NeighborStore.load(tmp_path / "s")
    assert again._afile is not None
    np.testing.assert_array_equal(again.query_arrays(Q, k=7)[2], batch1[2])


def test_store_falls_back_to_annoy_without_temp_space(monkeypatch, caplog):
    """No temporary file for the index: the store says so and answers through Annoy."""
    import nnstore._store as st

    def no_space(*a, **k):
        raise OSError(28, "No space left on device")

    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 6)).astype(np.float32)
    ref = NeighborStore(6, n_trees=5, random_state=0).add(np.arange(500), X).rebuild()
    monkeypatch.setattr(st.tempfile, "mkstemp", no_space)
    with caplog.at_level(logging.WARNING, logger="nnstore._store"):
        store = NeighborStore(6, n_trees=5, random_state=0).add(np.arange(500), X).rebuild()
    assert store._afile is None and "compiled search unavailable" in caplog.text
    Q = rng.normal(size=(20, 6)).astype(np.float32)
    np.testing.assert_array_equal(store.query_arrays(Q, k=5)[2], ref.query_arrays(Q, k=5)[2])
    np.testing.assert_array_equal(store.query_arrays(Q[0], k=5)[2], ref.query_arrays(Q[0], k=5)[2])
