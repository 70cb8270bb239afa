"""NeighborStore.query_arrays's single-query fast path: same answers as the batch path and as
exact search, every store behaviour kept (filters, exclusions, delta buffer, tombstones, checks)."""

import copy

import numpy as np
import pytest

from nnstore import NeighborStore, col

METRICS = ["cosine", "euclidean", "dot", "manhattan"]


def _data(n=2000, dim=12, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(20, dim)) * 2
    x = (centres[rng.integers(0, 20, n)] + rng.normal(size=(n, dim)) * 0.6).astype(np.float32)
    q = (centres[rng.integers(0, 20, 40)] + rng.normal(size=(40, dim)) * 0.6).astype(np.float32)
    return x, q


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module", params=[(m, s) for m in METRICS for s in ("graph", "annoy")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def built(request, data):
    metric, search = request.param
    x, _ = data
    meta = __import__("pandas").DataFrame({"bucket": np.arange(len(x)) % 10})
    s = NeighborStore(x.shape[1], metric=metric, search=search, n_trees=10, random_state=0, n_jobs=1)
    s.add(np.arange(len(x)), x, metadata=meta).rebuild()
    return s


def _singles(store, q, k, **kw):
    out = [store.query_arrays(v, k, **kw) for v in q]
    return (np.vstack([o[0] for o in out]), np.vstack([o[1] for o in out]),
            np.vstack([o[2] for o in out]))


def test_single_equals_batch(built, data):
    _, q = data
    for kw in ({}, {"ef": 12}, {"search_k": 200}):
        kb, db, pb = built.query_arrays(q, 10, **kw)
        ks, ds, ps = _singles(built, q, 10, **kw)
        assert ks.shape == (len(q), 10) and ks.dtype == object and ds.dtype == np.float32
        np.testing.assert_array_equal(ps, pb)
        np.testing.assert_array_equal(ks, kb)
        np.testing.assert_allclose(ds, db, rtol=1e-6, atol=1e-6)


def test_single_recall_against_exact(built, data):
    x, q = data
    exact = NeighborStore(x.shape[1], metric=built.metric, exact=True).add(np.arange(len(x)), x)
    _, _, truth = exact.query_arrays(q, 10)
    _, _, found = _singles(built, q, 10)
    rec = np.mean([len(np.intersect1d(f, t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert rec >= (0.9 if built.search == "graph" else 0.8)  # 10 trees, default search_k


def test_single_filter_and_exclusions_match_exact(built, data):
    x, q = data
    exact = NeighborStore(x.shape[1], metric=built.metric, exact=True)
    exact.add(np.arange(len(x)), x, metadata=built.get_metadata())
    f = col("bucket") == 3
    for v in q[:10]:
        keys, dist, _ = built.query_arrays(v, 7, filter=f, exclude=[3, 13, 23])
        assert (keys != None).all() and len(keys[0]) == 7  # noqa: E711 - exactly k results
        assert all(int(kk) % 10 == 3 and int(kk) not in (3, 13, 23) for kk in keys[0])
        ek, ed, _ = exact.query_arrays(v, 7, filter=f, exclude=[3, 13, 23])
        np.testing.assert_array_equal(keys, ek)  # 200 items pass: answered exactly
        np.testing.assert_allclose(dist, ed, rtol=1e-5, atol=1e-5)
        bk, _, _ = built.query_arrays(v[None], 7, filter=f, exclude=[3, 13, 23])
        np.testing.assert_array_equal(keys, bk)


def test_single_sees_delta_buffer_and_tombstones(data):
    x, q = data
    for search in ("graph", "annoy"):
        s = NeighborStore(x.shape[1], metric="euclidean", search=search, n_trees=10, random_state=0,
                          n_jobs=1, rebuild_threshold=0.5)
        s.add(np.arange(len(x)), x).rebuild()
        s.query_arrays(q[0], 5)  # the fast path has seen this version
        assert s._state.fastcall is not None
        near = s.query_arrays(q[0], 5)[0][0]
        s.delete([near[0]])
        assert s._state.fastcall is None  # a new version starts without (evolve does not copy it)
        s.add(["new"], q[1][None] + np.float32(1e-3))
        assert s.n_delta == 1 and s.n_tombstones == 1  # below the threshold: no rebuild
        k0, _, _ = s.query_arrays(q[0], 5)
        assert near[0] not in set(k0[0]) and (k0 != None).all()  # noqa: E711
        k1, d1, p1 = s.query_arrays(q[1], 5)
        assert k1[0, 0] == "new" and d1[0, 0] < 0.01
        assert s.keys[p1[0, 0]] == "new"
        kb, db, pb = s.query_arrays(q[:2], 5)
        np.testing.assert_array_equal(np.vstack([k0, k1]), kb)
        assert pb[1, 0] == p1[0, 0] and db[1, 0] == pytest.approx(d1[0, 0], abs=1e-6)
        s.rebuild()  # a new version: the fast path must follow it
        k2, _, _ = s.query_arrays(q[1], 5)
        assert k2[0, 0] == "new" and near[0] not in set(s.query_arrays(q[0], 5)[0][0])


def test_single_other_layouts_and_dtypes_same_answer(built, data):
    _, q = data
    v = q[3]
    ref = built.query_arrays(v, 10)
    for other in (v.astype(np.float64), list(map(float, v)), np.asfortranarray(q)[3],
                  np.repeat(v, 2)[::2], v[None]):
        got = built.query_arrays(other, 10)
        np.testing.assert_array_equal(got[2], ref[2])
        np.testing.assert_allclose(got[1], ref[1], rtol=1e-5, atol=1e-6)


def test_single_checks_arguments(built, data):
    _, q = data
    v = q[0]
    for bad in ({"ef": 0}, {"ef": "8"}, {"ef": 2.5}, {"search_k": 0}, {"search_k": "x"},
                {"n_jobs": "two"}):
        with pytest.raises((ValueError, TypeError)):
            built.query_arrays(v, 5, **bad)
    for k in (0, -1, 2.0, "3"):
        with pytest.raises(ValueError, match="k must be"):
            built.query_arrays(v, k)
    with pytest.raises(ValueError):
        built.query_arrays(np.full_like(v, np.nan), 5)
    with pytest.raises(ValueError):
        built.query_arrays(np.zeros(len(v) + 1, dtype=np.float32), 5)
    huge = np.full_like(v, 1e30)  # refused or answered: the same as through the batch path
    try:
        ref = built.query_arrays(huge[None], 5)
    except ValueError as e:
        with pytest.raises(ValueError, match=str(e)[:30].replace("(", ".").replace(")", ".")):
            built.query_arrays(huge, 5)
    else:
        np.testing.assert_array_equal(built.query_arrays(huge, 5)[2], ref[2])


def test_k_past_the_store_pads(data):
    x, q = data
    s = NeighborStore(x.shape[1], metric="euclidean", search="graph", random_state=0, n_jobs=1)
    s.add(np.arange(300), x[:300]).rebuild()
    keys, dist, pos = s.query_arrays(q[0], 305)
    assert keys.shape == (1, 305) and (pos[0, :300] >= 0).all() and (pos[0, 300:] == -1).all()
    assert all(kk is None for kk in keys[0, 300:]) and np.isinf(dist[0, 300:]).all()


def test_kernel_arguments_are_plain_arrays(built, tmp_path):
    """Memory-mapped arrays reach the kernels as plain ndarray views (numba types those on its
    fast path), the mapping itself staying alive through ``.base``."""
    path = built.save(tmp_path / "s")
    s2 = NeighborStore.load(path, mmap=True)
    st = s2._state
    assert type(st.afile.nodes) is np.ndarray and not st.afile.nodes.flags.owndata
    if st.graph is not None:
        assert type(st.graph.graph) is np.ndarray and type(st.graph.perm) is np.ndarray
    q = np.zeros(built.dim, dtype=np.float32) + np.float32(0.1)
    np.testing.assert_array_equal(s2.query_arrays(q, 5)[2], built.query_arrays(q, 5)[2])


def test_single_queries_from_many_threads_at_once(built, data):
    # every thread takes its own visited buffer (the graph kernel's table pool)
    from concurrent.futures import ThreadPoolExecutor

    _, q = data
    want = _singles(built, q, 10)[2]
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(lambda v: built.query_arrays(v, 10)[2][0], list(q) * 5))
    np.testing.assert_array_equal(np.vstack(got), np.vstack([want] * 5))


def test_graph_call_table_refuses_bad_arrays_and_copies(data):
    from nnstore._graph_search import OneQuery

    x, _ = data
    s = NeighborStore(x.shape[1], search="graph", random_state=0, n_jobs=1)
    s.add(np.arange(500), x[:500]).rebuild()
    gr, af = s._state.graph, s._state.afile
    with pytest.raises(ValueError, match="roots: expected a C-contiguous int32"):
        OneQuery(gr, af.nodes, af.roots.astype(np.int64), 4)
    with pytest.raises(ValueError, match="nodes: expected a C-contiguous int32"):
        OneQuery(gr, np.asfortranarray(af.nodes), af.roots, 4)
    with pytest.raises(TypeError, match="cannot be pickled or copied"):
        copy.deepcopy(OneQuery(gr, af.nodes, af.roots, 4))
