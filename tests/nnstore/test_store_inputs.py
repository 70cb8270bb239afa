"""Validate, then commit: writes change the store only when nothing can fail; values keep their
types (int64 metadata, mixed keys); missing metadata never passes a filter; magnitudes whose
float32 distances would overflow are refused by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nnstore._store as store_mod
from nnstore import NeighborStore, col

BIG = 2**60 + 1  # not representable in float64


def _store(metric="euclidean", exact=False, n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    meta = pd.DataFrame({"flag": np.arange(n) % 2 == 0, "big": np.arange(n, dtype=np.int64) + BIG,
                         "name": [f"n{i}" for i in range(n)]})
    s = NeighborStore(4, metric=metric, exact=exact, n_trees=3, random_state=0)
    return s.add(list(range(n)), X, metadata=meta).rebuild(), X


def _snapshot(s):
    return (list(s.keys), s.get_vectors(list(s.keys)).copy(), s.get_metadata().copy(), s.n_delta,
            s.n_tombstones)


def _same(s, snap):
    keys, vec, meta, n_delta, n_tomb = snap
    assert list(s.keys) == keys and s.n_delta == n_delta and s.n_tombstones == n_tomb
    np.testing.assert_array_equal(s.get_vectors(keys), vec)
    pd.testing.assert_frame_equal(s.get_metadata(), meta)


def test_add_without_metadata_next_to_bool_and_int64_columns():
    s, X = _store()
    s.add([100], X[:1] + 5)  # a new key: missing values, columns become nullable, ints exact
    s.add([3], X[3:4] + 5)  # an upserted key keeps its row
    meta = s.get_metadata([0, 3, 100])
    assert str(meta["flag"].dtype) == "boolean" and str(meta["big"].dtype) == "Int64"
    assert meta["big"].tolist()[:2] == [BIG, BIG + 3] and meta["big"].isna().tolist() == [False] * 2 + [True]
    assert meta["flag"].tolist()[:2] == [True, False] and pd.isna(meta["flag"].iloc[2])
    # missing never passes a comparison, isin or between; isna selects it
    assert 100 not in s.query(X[:1], k=50, filter=col("flag") == True)["key"].tolist()  # noqa: E712
    assert 100 not in s.query(X[:1], k=50, filter=col("big") != 5)["key"].tolist()
    assert 100 not in s.query(X[:1], k=50, filter=col("big").between(0, 2**62))["key"].tolist()
    assert s.query(X[:1], k=50, filter=col("big").isna())["key"].tolist() == [100]
    assert 3 in s.query(X[:1], k=50, filter=col("big") == BIG + 3)["key"].tolist()


def test_new_metadata_column_and_nullable_dtypes_in_filters():
    s, X = _store()
    s.add(["k"], X[:1], metadata=pd.DataFrame({"extra": pd.array([7], dtype="Int64"),
                                                "label": pd.array(["x"], dtype="string")}, index=["k"]))
    meta = s.get_metadata()
    assert str(meta["extra"].dtype) == "Int64" and meta["extra"].notna().sum() == 1
    assert str(meta["big"].dtype) == "Int64" and meta.loc[0, "big"] == BIG
    for f, want in [(col("extra") >= 7, ["k"]), (col("label") == "x", ["k"]),
                    (col("label").isin(["x", "y"]), ["k"]), (col("extra") != 3, ["k"])]:
        assert s.query(X[:1], k=60, filter=f)["key"].tolist() == want


def test_a_write_that_fails_late_changes_nothing(monkeypatch):
    s, X = _store()
    snap = _snapshot(s)

    def boom(*a, **k):
        raise RuntimeError("failure while building the next version")

    monkeypatch.setattr(store_mod, "merge_metadata", boom)
    with pytest.raises(RuntimeError, match="next version"):
        s.add([0, 200], X[:2] + 1)  # an upsert (would tombstone 0) and a new key
    _same(s, snap)
    assert s.query_keys([0], k=1)["query"].tolist() == [0]


@pytest.mark.parametrize("args, err, match", [
    (([None], "v"), TypeError, "keys cannot be stored: .*None"),
    (([float("nan")], "v"), TypeError, "keys cannot be stored: .*NaN"),
    (([True], "v"), TypeError, "is a bool"),
    ((["a"], "complex"), TypeError, "vectors must hold real numbers, got complex"),
    ((["a"], "f64-huge"), ValueError, "exceed the float32 range"),
    ((["a"], "norm-huge"), ValueError, "norm above .* would overflow float32"),
    ((["a", "b"], "v2", "meta-bad-index"), ValueError, "metadata must be indexed by the added keys"),
    ((["a"], "v", "meta-dup-cols"), ValueError, "column names must be unique"),
])
def test_refused_adds_change_nothing(args, err, match):
    s, X = _store()
    snap = _snapshot(s)
    vecs = {"v": X[:1], "v2": X[:2], "complex": X[:1].astype(np.complex128) + 1j,
            "f64-huge": X[:1].astype(np.float64) * 1e39, "norm-huge": X[:1] * np.float32(1e19)}
    metas = {"meta-bad-index": pd.DataFrame({"flag": [True, False]}, index=["a", "zzz"]),
             "meta-dup-cols": pd.DataFrame([[1, 2]], columns=["x", "x"], index=["a"])}
    keys, v = args[0], vecs[args[1]]
    meta = metas[args[2]] if len(args) > 2 else None
    with pytest.raises(err, match=match):
        s.add(keys, v, metadata=meta)
    _same(s, snap)


def test_mixed_int_float_and_tuple_keys_keep_their_types(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 3)).astype(np.float32)
    keys = [1, 2.5, ("t", 1), "s"]
    s = NeighborStore(3, metric="euclidean", exact=True).add(keys, X)
    assert list(s.keys) == keys and [type(k) for k in s.keys] == [int, float, tuple, str]
    res = s.query(X[:2], k=1)
    assert res["key"].tolist() == [1, 2.5] and type(res["key"].iloc[0]) is int
    back = NeighborStore.load(s.save(tmp_path / "s"))
    assert list(back.keys) == keys and [type(k) for k in back.keys] == [int, float, tuple, str]
    assert back.query_keys([2.5], k=3, exclude_self=False)["key"].iloc[0] == 2.5


@pytest.mark.parametrize("metric", ["euclidean", "dot", "cosine", "manhattan"])
@pytest.mark.parametrize("exact", [True, False])
def test_overflowing_magnitudes_are_named(metric, exact):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    s = NeighborStore(4, metric=metric, exact=exact, n_trees=3, random_state=0)
    s.add(list(range(30)), X).rebuild()
    huge = X[:1] * np.float32(1e20)  # stored: |x|^2 ~ 1e40 overflows float32 (L1 fits, manhattan)
    if metric == "manhattan":
        s.add(["h"], huge)
        d = s.query(huge, k=1)["distance"].iloc[0]
        assert d == 0.0 and np.isfinite(s.query(X[:1], k=31)["distance"]).all()
        with pytest.raises(ValueError, match="L1 norm above"):
            s.add(["g"], X[:1] * np.float32(1e38))
    else:
        with pytest.raises(ValueError, match=f"norm above .*{metric} distances would overflow"):
            s.add(["h"], huge)
    q = X[:1] * np.float32(1e25)
    if metric in ("euclidean", "dot"):
        for query in (q, q[0]):
            with pytest.raises(ValueError, match="query row.* would overflow float32"):
                s.query_arrays(query, k=3)
    else:  # cosine is scale-free; manhattan sums no squares: finite answers
        _, dist, _ = s.query_arrays(q[0], k=3)
        assert np.isfinite(dist).all()


def test_call_parameters_are_checked_every_time():
    s, X = _store()
    for kw, match in [({"search_k": 0}, "search_k must be None or a positive int, got 0"),
                      ({"search_k": -3}, "search_k must be"), ({"search_k": True}, "search_k must be"),
                      ({"k": True}, "k must be a positive int, got True"), ({"k": 2.0}, "k must be"),
                      ({"n_jobs": 0}, "n_jobs must be None"), ({"n_jobs": 1.5}, "n_jobs must be")]:
        for call in (lambda kw=kw: s.query(X[:2], **kw), lambda kw=kw: s.query_arrays(X[0], **kw),
                     lambda kw=kw: s.query_keys([1], **kw)):
            with pytest.raises(ValueError, match=match):
                call()
    with pytest.raises(TypeError, match="exclude_self must be a bool"):
        s.query_keys([1], exclude_self="yes")
    with pytest.raises(TypeError, match="exclude must be a collection"):
        s.query(X[:1], exclude=5)
    with pytest.raises(ValueError, match="exclude holds 1 collections of keys but there are 2"):
        s.query(X[:2], exclude=[[1]])


def test_k_beyond_the_store_is_capped_not_allocated():
    s, X = _store(n=40)
    assert len(s.query(X[:2], k=10**9)) == 80  # no (2, 1e9) arrays behind it
    assert len(s.query_keys([0], k=10**9)) == 39
    keys, dist, pos = s.query_arrays(X[:2], k=45)  # modest padding past the store: kept
    assert keys.shape == (2, 45) and (pos[:, 40:] == -1).all() and np.isinf(dist[:, 40:]).all()
    with pytest.raises(ValueError, match="k=1000000000 is larger than the store .* use query()"):
        s.query_arrays(X[:2], k=10**9)


def test_constructor_and_get_params():
    for kw, err, match in [({"n_trees": True}, ValueError, "n_trees must be a positive int"),
                           ({"exact": "no"}, TypeError, "exact must be a bool"),
                           ({"search_k": 0}, ValueError, "search_k must be"),
                           ({"rebuild_threshold": float("nan")}, ValueError, "rebuild_threshold"),
                           ({"n_jobs": True}, ValueError, "n_jobs must be"),
                           ({"metric": ["cosine"]}, ValueError, "metric must be one of")]:
        with pytest.raises(err, match=match):
            NeighborStore(4, **kw)
    s = NeighborStore(4, exact=np.bool_(True))
    assert s.get_params(deep=True) == s.get_params(deep=False) == s.get_params()
    assert s.get_params()["exact"] is True


def test_store_saved_in_format_1_still_loads(tmp_path):
    """A store written before the manifest checksum and the key serialiser (format_version 1,
    keys as a str column plus key_is_int) loads with its key types."""
    import hashlib
    import json

    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4)).astype(np.float32)
    keys = [*range(15), *(f"s{i}" for i in range(15))]
    s = NeighborStore(4, metric="euclidean", n_trees=2, random_state=0).add(keys, X).rebuild()
    path = s.save(tmp_path / "s")
    pd.DataFrame({"key": [str(k) for k in keys], "key_is_int": [isinstance(k, int) for k in keys],
                  "alive": np.ones(30, bool)}).to_parquet(path / "keys.parquet")
    m = json.loads((path / "manifest.json").read_text())
    data = (path / "keys.parquet").read_bytes()
    m["files"]["keys.parquet"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    for field in ("manifest_sha256", "required"):
        m.pop(field)
    m["format_version"] = 1
    (path / "manifest.json").write_text(json.dumps(m))
    back = NeighborStore.load(path)
    assert list(back.keys) == keys and type(back.keys[0]) is int
    pd.testing.assert_frame_equal(back.query(X[:5], k=3), s.query(X[:5], k=3))
