"""NeighborStore(search="graph"): the neighbour-graph search behind the store API."""

import json

import numpy as np
import pytest

from nnstore import ArtifactError, NeighborStore, col
from nnstore._exact import pair_distances
from nnstore._graph_search import GraphIndex, check_graph

METRICS = ["cosine", "euclidean", "dot", "manhattan"]


def _data(n=3000, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, dim)) * 2
    x = (centres[rng.integers(0, 30, n)] + rng.normal(size=(n, dim)) * 0.6).astype(np.float32)
    q = (centres[rng.integers(0, 30, 100)] + rng.normal(size=(100, dim)) * 0.6).astype(np.float32)
    return x, q


def _truth(q, x, k, metric, mask=None):
    d = pair_distances(q[:, None, :], x[None, :, :], metric).astype(np.float64)
    if mask is not None:
        d[:, ~mask] = np.inf
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(d, idx, axis=1)


def _recall(found, truth):
    return np.mean([len(np.intersect1d(f[f >= 0], t)) / len(t) for f, t in zip(found, truth, strict=True)])


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module", params=METRICS)
def store(request, data):
    x, _ = data
    s = NeighborStore(x.shape[1], metric=request.param, search="graph", random_state=0, n_jobs=1)
    s.add(np.arange(len(x)), x).rebuild()
    return s


def test_graph_is_built_and_checked(store, data):
    st = store._state
    assert st.graph is not None
    g = st.graph.graph
    assert g.dtype == np.int32 and g.shape == (len(data[0]), store.GRAPH_DEGREE)
    assert g.min() >= -1 and g.max() < len(data[0])
    assert np.array_equal(np.sort(st.graph.perm), np.arange(len(data[0])))


def test_recall_and_true_distances(store, data):
    x, q = data
    m = store.metric
    _, dist, pos = store.query_arrays(q, k=10)
    truth, _ = _truth(q, x, 10, m)
    assert _recall(pos, truth) >= 0.95
    np.testing.assert_allclose(dist, pair_distances(q[:, None, :], x[pos], m), rtol=1e-4, atol=1e-4)
    assert (np.diff(dist, axis=1) >= -1e-6).all()
    # a larger beam is at least as good
    _, _, pos2 = store.query_arrays(q, k=10, ef=200)
    assert _recall(pos2, truth) >= max(0.95 if m == "dot" else 0.99, _recall(pos, truth) - 1e-9)


def test_single_query_fast_path_matches_batch(store, data):
    _, q = data
    _, d_b, p_b = store.query_arrays(q[:20], k=5)
    for i in range(20):
        _, d1, p1 = store.query_arrays(np.ascontiguousarray(q[i]), k=5)
        np.testing.assert_array_equal(p1[0], p_b[i])
        np.testing.assert_allclose(d1[0], d_b[i], rtol=1e-6)


def test_search_k_asks_for_the_trees(data):
    x, q = data
    s = NeighborStore(x.shape[1], metric="euclidean", search="graph", random_state=0)
    s.add(np.arange(len(x)), x).rebuild()
    _, d1, _p1 = s.query_arrays(q, k=5, search_k=10**6)  # the trees, exhaustive: exact
    _, bd = _truth(q, x, 5, "euclidean")
    np.testing.assert_allclose(d1, bd, rtol=1e-5, atol=1e-5)


def test_delta_tombstones_filters_exclusions(data):
    x, q = data
    n = len(x)
    import pandas as pd

    meta = pd.DataFrame({"even": np.arange(n) % 2 == 0, "rare": np.arange(n) % 97 == 0})
    s = NeighborStore(x.shape[1], metric="euclidean", search="graph", random_state=0,
                      rebuild_threshold=10.0)
    s.add(np.arange(n), x, metadata=meta).rebuild()
    rng = np.random.default_rng(5)
    # upsert: move 50 keys onto the queries themselves; delete 100 others
    moved = rng.choice(n, 50, replace=False)
    s.add(moved, q[:50])
    gone = np.setdiff1d(rng.choice(n, 150, replace=False), moved)[:100]
    s.delete(gone)
    assert s.n_delta == 50 and s.n_tombstones > 0
    keys, dist, _ = s.query_arrays(q[:50], k=3)
    assert [int(k) for k in keys[:, 0]] == [int(m) for m in moved]  # the moved key is found at once
    np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-5)
    res = s.query(q, k=10)
    assert not res["key"].isin(gone.tolist()).any()
    assert (res.groupby("query").size() == 10).all()
    # filters: exactly k results, all passing, at least as near as exact filtered search's k-th
    alive = np.ones(n, bool)
    alive[gone] = False
    cur_x = x.copy()
    cur_x[moved] = q[:50]
    for name in ("even", "rare"):
        res = s.query(q, k=10, filter=col(name) == True)  # noqa: E712
        assert (res.groupby("query").size() == 10).all()
        kk = res["key"].to_numpy(dtype=np.int64)
        assert meta[name].to_numpy()[kk].all() and alive[kk].all()
        _, td = _truth(q, cur_x, 10, "euclidean", mask=meta[name].to_numpy() & alive)
        got = res.groupby("query")["distance"].max().to_numpy()
        assert np.mean(got <= td[:, -1] + 1e-4) >= 0.9
    # per-query exclusions
    ex = [list(moved[i:i + 1]) for i in range(50)]
    keys, _, _ = s.query_arrays(q[:50], k=3, exclude=ex)
    assert all(int(moved[i]) not in {int(k) for k in keys[i]} for i in range(50))


def test_query_keys_excludes_self(store, data):
    _x, _ = data
    res = store.query_keys(list(range(50)), k=5)
    assert (res["query"] != res["key"]).all()
    assert (res.groupby("query").size() == 5).all()


def test_save_load_roundtrip_and_mmap(store, data, tmp_path):
    _, q = data
    path = store.save(tmp_path / "g")
    man = json.loads((path / "manifest.json").read_text())
    assert {"graph.npy", "graph_order.npy"} <= set(man["required"]) if "required" in man else True
    assert (path / "graph.npy").exists() and (path / "graph_order.npy").exists()
    for mmap in (True, False):
        s2 = NeighborStore.load(path, mmap=mmap)
        assert s2.search == "graph" and s2._state.graph is not None
        a = store.query_arrays(q, k=7)
        b = s2.query_arrays(q, k=7)
        np.testing.assert_array_equal(a[2], b[2])
        np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


def _resave(path, name, arr):
    """Overwrite ``name`` in the artifact and fix its checksum (content damage, not corruption)."""
    import hashlib

    np.save(path / name, arr)
    from nnstore._artifact import manifest_digest

    man = json.loads((path / "manifest.json").read_text())
    data = (path / name).read_bytes()
    man["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    man["manifest_sha256"] = manifest_digest(man)
    (path / "manifest.json").write_text(json.dumps(man))


@pytest.mark.parametrize("bad", ["out_of_range", "dtype", "shape", "order"])
def test_bad_graph_files_are_refused(data, tmp_path, bad):
    x, _ = data
    s = NeighborStore(x.shape[1], metric="euclidean", search="graph", random_state=0)
    s.add(np.arange(len(x)), x).rebuild()
    path = s.save(tmp_path / "g")
    g = np.load(path / "graph.npy")
    if bad == "out_of_range":
        g[7, 3] = len(x) + 5
        _resave(path, "graph.npy", g)
    elif bad == "dtype":
        _resave(path, "graph.npy", g.astype(np.int64))
    elif bad == "shape":
        _resave(path, "graph.npy", g[:-1])
    else:
        o = np.load(path / "graph_order.npy")
        o[0] = o[1]
        _resave(path, "graph_order.npy", o)
    with pytest.raises(ArtifactError, match="graph") as e:
        NeighborStore.load(path)
    assert e.value.reason == "invalid_content"


def test_check_graph_names_the_problem():
    with pytest.raises(ValueError, match="int32"):
        check_graph(np.zeros((3, 2), dtype=np.int64), 3)
    with pytest.raises(ValueError, match="row 1 holds 9"):
        check_graph(np.array([[1, 2], [9, -1], [0, -1]], dtype=np.int32), 3)
    with pytest.raises(ValueError, match="permutation"):
        GraphIndex(np.zeros((3, 2), dtype=np.int32), np.array([0, 0, 1], dtype=np.int32),
                   np.zeros((3, 4), np.float32), "euclidean")


def test_old_store_without_search_param_loads_as_trees(data, tmp_path):
    from nnstore._artifact import manifest_digest

    x, q = data
    s = NeighborStore(x.shape[1], metric="cosine", search="annoy", n_trees=5, random_state=0)
    s.add(np.arange(len(x)), x).rebuild()
    path = s.save(tmp_path / "old")
    man = json.loads((path / "manifest.json").read_text())
    for p in ("search", "ef"):
        man["params"].pop(p)
    # the manifest a store saved before graph search: no "search"/"ef" params, no graph flag
    man["manifest_sha256"] = manifest_digest(man)
    (path / "manifest.json").write_text(json.dumps(man))
    s2 = NeighborStore.load(path)
    assert s2.search == "annoy" and s2._state.graph is None
    np.testing.assert_array_equal(s.query_arrays(q, k=5)[2], s2.query_arrays(q, k=5)[2])


def test_threads_same_answers(store, data):
    _, q = data
    a = store.query_arrays(q, k=5, n_jobs=1)
    b = store.query_arrays(np.vstack([q] * 4), k=5, n_jobs=2)
    np.testing.assert_array_equal(np.vstack([a[2]] * 4), b[2])


def test_small_store_has_no_graph_and_still_answers():
    x = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    s = NeighborStore(4, metric="euclidean", search="graph").add(np.arange(50), x).rebuild()
    assert s._state.graph is None
    _, d, _ = s.query_arrays(x[:3], k=2)
    np.testing.assert_allclose(d[:, 0], 0.0, atol=1e-6)


def test_bad_params():
    with pytest.raises(ValueError, match="search must be one of"):
        NeighborStore(4, search="hnsw")
    with pytest.raises(ValueError, match="ef must be"):
        NeighborStore(4, ef=0)
    s = NeighborStore(4, search="graph")
    with pytest.raises(ValueError, match="ef must be"):
        s.add([1, 2], np.ones((2, 4))).query_arrays(np.ones(4, np.float32), k=1, ef=-1)


@pytest.mark.parametrize("metric", METRICS)
def test_nn_descent_graph_reaches_recall(data, metric):
    # the data above is small enough for exact candidate lists; this builds the same graph
    # through NN-descent from the trees' leaves (the path of large stores)
    x, q = data
    s = NeighborStore(x.shape[1], metric=metric, search="graph", random_state=0, n_jobs=1)
    s.GRAPH_EXACT_BUDGET = 0
    s.add(np.arange(len(x)), x).rebuild()
    truth, _ = _truth(q, x, 10, metric)
    assert _recall(s.query_arrays(q, k=10)[2], truth) >= 0.95
    assert _recall(s.query_arrays(q, k=10, ef=200)[2], truth) >= (0.95 if metric == "dot" else 0.99)


@pytest.mark.parametrize("exact_budget", [0, 2e10])
def test_wide_vectors_whose_trees_are_one_leaf(exact_budget):
    # more dimensions than items: every Annoy tree is a single leaf holding all of them, so
    # neither the entry points nor the leaf initialisation may take the whole leaf
    rng = np.random.default_rng(1)
    topics = rng.random((20, 700)) ** 8
    x = (topics[rng.integers(0, 20, 500)] * rng.random((500, 700))).astype(np.float32)
    q = (topics[rng.integers(0, 20, 50)] * rng.random((50, 700))).astype(np.float32)
    s = NeighborStore(700, search="graph", random_state=0, n_jobs=1)
    s.GRAPH_EXACT_BUDGET = exact_budget
    s.add(np.arange(len(x)), x).rebuild()
    assert s._state.afile.nodes[s._state.afile.roots[0], 0] == len(x)  # one leaf indeed
    truth, _ = _truth(q, x, 10, "cosine")
    assert _recall(s.query_arrays(q, k=10, ef=64)[2], truth) >= 0.95


def _brute_lists(x, aux, L):
    a = np.hstack([x, aux[:, None]]).astype(np.float64)
    d = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :L], np.sort(d, axis=1)[:, :L]


def test_exact_candidate_lists_match_brute_force_on_any_thread_count():
    # both exact paths: the blocked upper-triangle lists (larger inputs) and the full distance
    # matrix (small ones); rows come in the same order whatever the thread count
    from nnstore._graph_search import _exact_lists, _gram_dists, _top_rows

    x, _ = _data(n=600, dim=12, seed=3)
    aux = np.random.default_rng(0).random(600).astype(np.float32)
    want_i, want_d = _brute_lists(x, aux, 20)
    runs = []
    for threads in (1, 3):
        hi, hd = _exact_lists(x, aux, 20, threads)
        D = _gram_dists(x, aux, threads)
        gi = np.empty((600, 20), np.int32)
        gd = np.empty((600, 20), np.float32)
        _top_rows(D, gi, gd, 0, 600)
        runs.append((hi, hd, D, gi, gd))
        for ids, dist in ((hi, hd), (gi, gd)):
            assert np.mean([len(np.intersect1d(a, b)) for a, b in zip(ids, want_i, strict=True)]) >= 19.9
            np.testing.assert_allclose(dist, want_d, rtol=1e-3, atol=1e-3)
            assert np.all(np.diff(dist, axis=1) >= 0)
        assert np.array_equal(D, D.T) and np.all(np.diag(D) == 0)
    for a, b in zip(runs[0], runs[1], strict=True):
        assert np.array_equal(a, b)


def test_exact_lists_put_duplicate_rows_at_distance_zero():
    from nnstore._graph_search import _exact_lists, _gram_dists

    x, _ = _data(n=300, dim=40, seed=4)
    x[100:105] = x[7]  # six copies of one row
    aux = np.zeros(300, np.float32)
    hi, hd = _exact_lists(x, aux, 8, 1)
    D = _gram_dists(x, aux, 1)
    copies = [7, 100, 101, 102, 103, 104]
    for c in copies:
        assert set(hi[c, :5]) == set(copies) - {c}
        assert np.all(hd[c, :5] == 0) and hd[c, 5] > 0
    assert np.all(D[np.ix_(copies, copies)] == 0)


@pytest.mark.parametrize("n", [700, 5000])
def test_graph_is_the_same_on_any_thread_count(n):
    # n = 700 keeps the whole distance matrix, n = 5000 the blocked lists
    x, _ = _data(n=n, dim=8, seed=5)
    graphs = []
    for threads in (1, 2):
        s = NeighborStore(8, search="graph", random_state=0, n_jobs=threads)
        s.add(np.arange(n), x).rebuild()
        graphs.append(np.asarray(s._state.graph.graph))
    assert np.array_equal(graphs[0], graphs[1])


@pytest.mark.parametrize("n_blocks", [1, 2, 5, 8])
def test_block_pairs_cover_the_upper_triangle_in_disjoint_rounds(n_blocks):
    from nnstore._graph_search import _block_pairs

    rounds = _block_pairs(n_blocks)
    pairs = [p for r in rounds for p in r]
    assert sorted(pairs) == [(i, j) for i in range(n_blocks) for j in range(i, n_blocks)]
    for r in rounds:
        blocks = [b for p in r for b in set(p)]
        assert len(blocks) == len(set(blocks))
