import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from nnstore import ArtifactError, NeighborStore, col, embeddings_frame
from nnstore._exact import pair_distances

METRICS = ["cosine", "euclidean", "dot", "manhattan"]


def clustered(n=1500, dim=8, centers=15, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(scale=4.0, size=(centers, dim))
    x = c[rng.integers(0, centers, n)] + rng.normal(size=(n, dim))
    return x.astype(np.float32)


def brute(q, X, keys, k, metric):
    d = pair_distances(q[None, :], X, metric)
    order = np.argsort(d, kind="stable")[:k]
    return [keys[i] for i in order], d[order]


@pytest.fixture(scope="module")
def data():
    X = clustered()
    keys = [f"id{i}" for i in range(len(X))]
    meta = pd.DataFrame({"group": np.arange(len(X)) % 10, "price": np.arange(len(X), dtype=float)},
                        index=keys)
    return X, keys, meta


@pytest.mark.parametrize("metric", METRICS)
def test_exact_mode_matches_brute_force(data, metric):
    X, keys, _ = data
    store = NeighborStore(8, metric=metric, exact=True).add(keys, X)
    Q = clustered(20, seed=1)
    k_arr, d_arr, pos = store.query_arrays(Q, k=5)
    assert k_arr.shape == (20, 5) and d_arr.dtype == np.float32 and pos.dtype == np.int64
    for i, q in enumerate(Q):
        bk, bd = brute(q, X, keys, 5, metric)
        np.testing.assert_allclose(d_arr[i], bd, rtol=1e-4, atol=1e-4)
        assert list(k_arr[i]) == bk
    assert list(store.keys[pos[0]]) == list(k_arr[0])


@pytest.mark.parametrize("metric", METRICS)
def test_annoy_mode_recall_and_true_distances(data, metric):
    X, keys, _ = data
    store = NeighborStore(8, metric=metric, n_trees=20, random_state=0).add(keys, X)
    Q = clustered(50, seed=2)
    assert store.recall_at_k(Q, k=10, search_k=1000) >= 0.9
    res = store.query(Q[:5], k=4)
    assert list(res.columns) == ["query", "rank", "key", "distance"]
    assert len(res) == 20
    assert res.groupby("query")["distance"].apply(lambda s: s.is_monotonic_increasing).all()
    idx = {k: i for i, k in enumerate(keys)}
    true = pair_distances(Q[res["query"].to_numpy()], X[[idx[k] for k in res["key"]]], metric)
    np.testing.assert_allclose(res["distance"].to_numpy(), true, rtol=1e-3, atol=1e-3)


def test_dot_is_maximum_inner_product():
    rng = np.random.default_rng(3)
    # vectors with very different norms: MIPS != nearest by L2 or cosine
    X = (rng.normal(size=(800, 6)) * rng.uniform(0.1, 5, size=(800, 1))).astype(np.float32)
    Q = rng.normal(size=(30, 6)).astype(np.float32)
    store = NeighborStore(6, metric="dot", n_trees=30, random_state=0).add(np.arange(800), X)
    assert store.recall_at_k(Q, k=5, search_k=1000) >= 0.95
    keys, dist, _ = store.query_arrays(Q[:1], k=3)
    np.testing.assert_allclose(dist[0], -(X[list(keys[0])] @ Q[0]), rtol=1e-4, atol=1e-3)
    assert keys[0][0] == int(np.argmax(X @ Q[0]))


def test_keys_any_hashable_and_large_ints():
    X = clustered(50)
    big = [10**15 + 7 * i for i in range(50)]
    store = NeighborStore(8, metric="euclidean").add(big, X)
    assert len(store) == 50 and big[3] in store and 5 not in store
    assert store.keys.dtype == np.int64
    assert store.query_keys([big[0]], k=1)["key"].iloc[0] in big
    s2 = NeighborStore(8).add([("a", 1), ("b", 2)], X[:2])
    assert ("a", 1) in s2
    res = s2.query_keys([("a", 1)], k=1)
    assert res["key"].iloc[0] == ("b", 2)


def test_add_embeddings_frame_and_query_frame(data):
    X, keys, _ = data
    emb = embeddings_frame(X[:100], keys[:100])
    store = NeighborStore(8, metric="euclidean", exact=True).add(emb)
    np.testing.assert_array_equal(store.get_vectors(keys[:3]), X[:3])
    res = store.query(emb.iloc[:2], k=1)
    assert res["query"].tolist() == keys[:2] and res["key"].tolist() == keys[:2]
    assert res["distance"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("exact", [True, False])
def test_upsert_delete_visible_at_once(data, exact):
    X, keys, meta = data
    store = NeighborStore(8, metric="euclidean", exact=exact, rebuild_threshold=0.5,
                          random_state=0).add(keys, X, metadata=meta)
    store.query(X[:1], k=1)  # builds the index
    target = X[0] + 100.0
    store.add(["id5"], target[None, :])  # upsert far away
    assert store.n_delta == (len(X) if exact else 1)
    assert store.query(target[None, :], k=1)["key"].iloc[0] == "id5"
    assert store.get_metadata(["id5"])["group"].iloc[0] == 5  # metadata kept on upsert
    np.testing.assert_array_equal(store.get_vectors(["id5"])[0], target)
    store.add(["new"], (X[0] + 100.5)[None, :])
    assert pd.isna(store.get_metadata(["new"])["group"].iloc[0])
    store.delete(["id5", "id0"])
    assert "id5" not in store and len(store) == len(X) - 1
    res = store.query(np.vstack([X[0], target]), k=5)
    assert not res["key"].isin(["id5", "id0"]).any() and len(res) == 10
    assert res[res["query"] == 1]["key"].iloc[0] == "new"
    assert "id0" not in set(store.keys)


def test_auto_and_explicit_rebuild(data):
    X, keys, _ = data
    store = NeighborStore(8, metric="euclidean", rebuild_threshold=0.1, random_state=0)
    store.add(keys[:1000], X[:1000])
    store.query(X[:1], k=1)
    assert store.n_delta == 0 and store.n_tombstones == 0
    store.add(keys[1000:1050], X[1000:1050])
    store.delete(keys[:20])
    assert store.n_delta == 50 and store.n_tombstones == 20
    store.query(X[:1], k=1)  # 70 < 0.1 * 1030: no rebuild
    assert store.n_delta == 50
    store.add(keys[1050:1200], X[1050:1200])
    store.query(X[:1], k=1)  # past the threshold: rebuilt
    assert store.n_delta == 0 and store.n_tombstones == 0 and len(store) == 1180
    store.delete(keys[20:30]).rebuild()
    assert store.n_tombstones == 0 and len(store) == 1170


@pytest.mark.parametrize("selectivity", [0.01, 0.1, 0.5])
def test_filter_returns_k_passing(selectivity):
    X = clustered(4000)
    n_pass = int(4000 * selectivity)
    meta = pd.DataFrame({"ok": np.arange(4000) < n_pass, "price": np.arange(4000) % 7})
    store = NeighborStore(8, metric="euclidean", n_trees=20, random_state=0).add(
        np.arange(4000), X, metadata=meta)
    Q = clustered(30, seed=5)
    f = (col("ok") == True) & (col("price") != 3)  # noqa: E712
    keys, _, _ = store.query_arrays(Q, k=10, filter=f)
    assert (keys != None).all()  # noqa: E711
    passing = set(np.flatnonzero((meta["ok"] & (meta["price"] != 3)).to_numpy()))
    assert all(k in passing for k in keys.ravel())
    assert store.recall_at_k(Q, k=10, filter=f) >= 0.9
    exact = NeighborStore(8, metric="euclidean", exact=True).add(np.arange(4000), X, metadata=meta)
    ek, _, _ = exact.query_arrays(Q, k=10, filter=f)
    assert all(k in passing for k in ek.ravel())


def test_filter_fewer_than_k_and_callable():
    X = clustered(300)
    meta = pd.DataFrame({"g": np.arange(300) % 100})
    store = NeighborStore(8, metric="euclidean", n_trees=5, random_state=0).add(range(300), X, metadata=meta)
    res = store.query(X[:2], k=10, filter=col("g") == 7)
    assert sorted(res[res["query"] == 0]["key"]) == [7, 107, 207]
    res = store.query(X[:2], k=10, filter=lambda m: m["g"] < 2)
    assert len(res) == 12 and res["key"].isin([0, 1, 100, 101, 200, 201]).all()


def test_exclude_and_exclude_self(data):
    X, keys, _ = data
    store = NeighborStore(8, metric="euclidean", n_trees=10, random_state=0).add(keys, X)
    res = store.query_keys(keys[:3], k=5)
    assert not (res["query"] == res["key"]).any() and len(res) == 15
    res = store.query_keys(keys[:3], k=1, exclude_self=False)
    assert res["key"].tolist() == keys[:3]
    first = store.query(X[:1], k=3)["key"].tolist()
    res = store.query(X[:1], k=3, exclude=first[:2])
    assert not res["key"].isin(first[:2]).any() and len(res) == 3
    res = store.query(X[:2], k=2, exclude=[[keys[0]], None])
    assert keys[0] not in res[res["query"] == 0]["key"].tolist()
    assert res[res["query"] == 1]["key"].iloc[0] == keys[1]


def test_same_random_state_same_index(data):
    X, keys, _ = data
    Q = clustered(40, seed=9)
    a = NeighborStore(8, n_trees=5, random_state=42).add(keys, X).query_arrays(Q, k=10)
    b = NeighborStore(8, n_trees=5, random_state=42).add(keys, X).query_arrays(Q, k=10)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("metric", ["cosine", "dot"])
def test_save_load_identical_and_mutable(tmp_path, data, mmap, metric):
    X, keys, meta = data
    store = NeighborStore(8, metric=metric, n_trees=10, random_state=0, rebuild_threshold=0.5)
    store.add(keys[:1200], X[:1200], metadata=meta.iloc[:1200])
    store.query(X[:1], k=1)
    store.add(keys[1200:1300], X[1200:1300]).delete(keys[:10])  # delta + tombstones saved as is
    Q = clustered(25, seed=4)
    f = col("group") < 5
    before = store.query(Q, k=7, filter=f)
    store.save(tmp_path / "s")
    loaded = NeighborStore.load(tmp_path / "s", mmap=mmap)
    assert loaded.n_delta == 100 and loaded.n_tombstones == 10 and len(loaded) == len(store)
    pd.testing.assert_frame_equal(loaded.query(Q, k=7, filter=f), before)
    pd.testing.assert_frame_equal(loaded.get_metadata(), store.get_metadata())
    # still mutable; save over the directory it was loaded from (Annoy maps that file)
    loaded.add(["extra"], X[:1] + 50).delete(keys[10:20])
    loaded.save(tmp_path / "s")
    again = NeighborStore.load(tmp_path / "s")
    assert "extra" in again and keys[15] not in again
    pd.testing.assert_frame_equal(again.query(Q, k=7), loaded.query(Q, k=7))
    loaded.rebuild().save(tmp_path / "s")
    pd.testing.assert_frame_equal(NeighborStore.load(tmp_path / "s").query(Q, k=7), loaded.query(Q, k=7))


def test_save_load_int_keys_and_mismatch_errors(tmp_path):
    X = clustered(100)
    store = NeighborStore(8, metric="euclidean").add(np.arange(100) * 3, X)
    store.save(tmp_path / "s")
    loaded = NeighborStore.load(tmp_path / "s", dim=8, metric="euclidean")
    assert loaded.keys.dtype == np.int64 and 3 in loaded
    with pytest.raises(ValueError, match="has dim 8, but dim=16"):
        NeighborStore.load(tmp_path / "s", dim=16)
    with pytest.raises(ValueError, match="has metric 'euclidean', but metric='cosine'"):
        NeighborStore.load(tmp_path / "s", metric="cosine")
    with pytest.raises(ArtifactError, match="not_found|no artifact"):
        NeighborStore.load(tmp_path / "nothing")


def test_bad_input_nothing_half_applied(data):
    X, keys, _ = data
    store = NeighborStore(8, metric="euclidean", exact=True).add(keys[:10], X[:10])
    state = (len(store), list(store.keys), store.get_vectors(keys[:10]).copy())

    def unchanged():
        assert (len(store), list(store.keys)) == state[:2]
        np.testing.assert_array_equal(store.get_vectors(keys[:10]), state[2])

    with pytest.raises(ValueError, match="must have dimension 8, got 3"):
        store.add(["a"], np.ones((1, 3)))
    bad = X[10:12].copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        store.add(["a", "b"], bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        store.add(["a", "b"], bad)
    with pytest.raises(ValueError, match="must be unique; repeated: \\['a'\\]"):
        store.add(["a", "a"], X[10:12])
    with pytest.raises(ValueError, match="keys has 1 entries but there are 2 vectors"):
        store.add(["a"], X[10:12])
    with pytest.raises(ValueError, match="metadata has 1 rows"):
        store.add(["a", "b"], X[10:12], metadata=pd.DataFrame({"x": [1]}))
    unchanged()
    with pytest.raises(KeyError, match="not in the store, first: \\['nope'\\]"):
        store.delete([keys[0], "nope"])
    unchanged()
    with pytest.raises(KeyError, match="nope"):
        store.query_keys(["nope"])
    with pytest.raises(ValueError, match="k must be a positive int, got 0"):
        store.query(X[:1], k=0)
    with pytest.raises(ValueError, match="k must be a positive int"):
        store.query_keys(keys[:1], k=-1)
    with pytest.raises(KeyError, match="filter column 'color'"):
        store.query(X[:1], k=1, filter=col("color") == "red")
    with pytest.raises(ValueError, match="dimension 8"):
        store.query(np.ones((1, 4)), k=1)
    with pytest.raises(ValueError, match="metric must be one of"):
        NeighborStore(8, metric="hamming")
    with pytest.raises(ValueError, match="dim must be a positive int"):
        NeighborStore(0)
    unchanged()


def test_concurrent_queries_from_threads(data):
    X, keys, _ = data
    store = NeighborStore(8, metric="euclidean", n_trees=10, random_state=0).add(keys, X)
    Q = clustered(200, seed=7)
    expected = store.query_arrays(Q, k=5, n_jobs=1)[0]
    errors, results = [], {}

    def worker(i):
        try:
            results[i] = store.query_arrays(Q, k=5, n_jobs=2)[0]
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results.values():
        np.testing.assert_array_equal(r, expected)


def test_empty_store_and_small_k():
    store = NeighborStore(4, metric="euclidean")
    keys, dist, pos = store.query_arrays(np.zeros((2, 4)), k=3)
    assert (keys == None).all() and np.isinf(dist).all() and (pos == -1).all()  # noqa: E711
    store.add(["a", "b"], np.eye(4, dtype=np.float32)[:2])
    res = store.query(np.zeros((1, 4)), k=5)
    assert sorted(res["key"]) == ["a", "b"]


def test_same_answers_as_raw_annoy_with_same_seed(data):
    from annoy import AnnoyIndex

    X, keys, _ = data
    store = NeighborStore(8, metric="euclidean", n_trees=5, random_state=3).add(keys, X).rebuild()
    raw = AnnoyIndex(8, "euclidean")
    raw.set_seed(3)
    for i, row in enumerate(X.tolist()):
        raw.add_item(i, row)
    raw.build(5, n_jobs=1)
    Q = clustered(20, seed=11)
    got, dist, _ = store.query_arrays(Q, k=10)
    for i, q in enumerate(Q):
        ids, d = raw.get_nns_by_vector(q.tolist(), 10, include_distances=True)
        assert list(got[i]) == [keys[j] for j in ids]
        np.testing.assert_allclose(dist[i], d, rtol=1e-5)


@pytest.mark.parametrize("metric", METRICS)
def test_single_vector_fast_path_matches_batch(data, metric):
    X, keys, _ = data
    store = NeighborStore(8, metric=metric, n_trees=10, random_state=0).add(keys, X).rebuild()
    Q = clustered(15, seed=5)
    bk, bd, bp = store.query_arrays(Q, k=6, n_jobs=1)
    for i, q in enumerate(Q):
        k1, d1, p1 = store.query_arrays(q, k=6)  # one 1-D float32 vector: one kernel call
        assert k1.shape == d1.shape == p1.shape == (1, 6) and d1.dtype == np.float32
        assert list(k1[0]) == list(bk[i]) and list(p1[0]) == list(bp[i])
        if metric == "dot":  # |q|^2 summed in another order
            np.testing.assert_allclose(d1[0], bd[i], rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(d1[0], bd[i])
    assert list(store.keys[p1[0]]) == list(k1[0])
    bad = Q[0].copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        store.query_arrays(bad, k=3)


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "manhattan"])
def test_single_vector_fast_path_views_and_extremes(data, metric):
    """Strided, reversed and read-only 1-D views and huge finite values answer like the batch
    path, without warnings; NaN and +-inf anywhere raise. A huge query whose distances overflow
    float32 (euclidean: |q|^2 near 1e62) is refused by both paths with the same named error;
    cosine (scale-free) and manhattan (no square) still answer it."""
    X, keys, _ = data
    store = NeighborStore(8, metric=metric, n_trees=10, random_state=0).add(keys, X).rebuild()
    Q = clustered(6, seed=21)
    wide = np.repeat(Q, 2, axis=1)  # wide[:, ::2] == Q, a strided view
    ro = Q[2].copy()
    ro.flags.writeable = False
    huge = Q[3] * np.float32(1e30)  # q.q would overflow float32
    cases = [wide[0, ::2], np.ascontiguousarray(Q[1, ::-1])[::-1], ro]
    if metric == "euclidean":
        for q in (huge, np.array([huge])):
            with pytest.raises(ValueError, match="would overflow float32"):
                store.query_arrays(q, k=5)
    else:
        cases.append(huge)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for q in cases:
            k1, d1, p1 = store.query_arrays(q, k=5)
            bk, bd, bp = store.query_arrays(np.array([q]), k=5)
            assert list(k1[0]) == list(bk[0]) and list(p1[0]) == list(bp[0])
            np.testing.assert_array_equal(d1, bd)
    for pos, bad in [(0, np.inf), (7, -np.inf), (4, np.nan)]:
        q = Q[0].copy()
        q[pos] = bad
        with pytest.raises(ValueError, match="NaN|inf"):
            store.query_arrays(q, k=3)


@pytest.mark.parametrize("metric", METRICS)
def test_single_vector_fast_path_rejects_bad_vectors(data, metric):
    """On a clean index (the state in which one 1-D float32 vector goes straight to the kernel), a
    vector of the wrong length or with NaN/+-inf anywhere raises a ValueError and nothing else
    (no numpy warning first, e.g. from +inf and -inf in one vector), and the store still answers."""
    X, keys, _ = data
    store = NeighborStore(8, metric=metric, n_trees=5, random_state=0).add(keys, X).rebuild()
    q = clustered(1, seed=31)[0]
    before = store.query_arrays(q, k=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for wrong in (q[:7], np.append(q, np.float32(0.5)), np.zeros(0, dtype=np.float32)):
            with pytest.raises(ValueError, match=f"dimension 8, got {len(wrong)}"):
                store.query_arrays(wrong, k=4)
        for pos, bad in [(0, np.nan), (7, np.inf), (3, -np.inf)]:
            v = q.copy()
            v[pos] = bad
            with pytest.raises(ValueError, match="NaN or infinite"):
                store.query_arrays(v, k=4)
        both = q.copy()
        both[1], both[5] = np.inf, -np.inf
        with pytest.raises(ValueError, match="NaN or infinite"):
            store.query_arrays(both, k=4)
    after = store.query_arrays(q, k=4)
    assert list(after[0][0]) == list(before[0][0])
    np.testing.assert_array_equal(after[1], before[1])


def test_single_vector_fast_path_pads_past_the_store():
    store = NeighborStore(3, metric="cosine", n_trees=2, random_state=0)
    store.add(["a", "b", "c"], np.eye(3, dtype=np.float32)).rebuild()
    keys, dist, pos = store.query_arrays(np.array([1, 0.1, 0], dtype=np.float32), k=5)
    assert keys[0, 0] == "a" and list(keys[0, 3:]) == [None, None]
    assert np.isinf(dist[0, 3:]).all() and list(pos[0, 3:]) == [-1, -1]
    assert np.isfinite(dist[0, :3]).all()


def test_dot_default_search_k_is_scaled(data):
    X, keys, _ = data
    store = NeighborStore(8, metric="dot", n_trees=7, random_state=0).add(keys, X).rebuild()
    Q = clustered(10, seed=9)
    k = 5
    default = store.query_arrays(Q, k=k)[0]
    scaled = store.query_arrays(Q, k=k, search_k=NeighborStore.DOT_SEARCH_K_FACTOR * 7 * k)[0]
    np.testing.assert_array_equal(default, scaled)
    single = store.query_arrays(Q[0], k=k)[0]
    np.testing.assert_array_equal(single[0], scaled[0])
