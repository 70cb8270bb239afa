"""Queries from many threads while another thread adds, upserts, deletes, rebuilds and saves.

Every answer must be right for some version of the store: each returned
(key, distance) is the distance to a vector that key had at some point, no key
appears twice in one answer, a key whose deletion had returned before the
query started is never returned, and every answer has k results (the store
always holds more than k keys). Afterwards the store equals a model that
applied the same writes in order.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

from nnstore import NeighborStore, col
from nnstore._exact import pair_distances

DIM = 6
K = 5


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: more interleavings per second
    yield
    sys.setswitchinterval(old)


def _vec(key: int, version: int) -> np.ndarray:
    rng = np.random.default_rng(key * 1000 + version)
    return rng.normal(size=DIM).astype(np.float32)


@pytest.mark.parametrize("metric, exact", [("euclidean", False), ("cosine", False), ("dot", False),
                                           ("manhattan", True)])
def test_readers_see_one_version_while_a_writer_churns(tmp_path, fast_switching, metric, exact):
    n0 = 300
    history: dict[int, list[np.ndarray]] = {k: [_vec(k, 0)] for k in range(n0)}
    store = NeighborStore(DIM, metric=metric, exact=exact, n_trees=4, random_state=0,
                          rebuild_threshold=0.15)
    meta = pd.DataFrame({"g": np.arange(n0) % 3}, index=pd.Index(range(n0)))
    store.add(list(range(n0)), np.stack([history[k][0] for k in range(n0)]), metadata=meta)
    store.rebuild()
    deleted: dict[int, int] = {}  # key -> write sequence number that published its deletion
    published = [0]
    done = threading.Event()
    errors: list[str] = []
    n_checked = [0]
    deletable = list(range(200, n0))  # deleted keys are never written again
    upsertable = list(range(0, 200))

    def writer():
        rng = np.random.default_rng(1)
        nxt = 10_000
        try:
            for step in range(120):
                op = step % 8
                if op in (0, 1, 2, 3):  # upsert a few keys with new versions (metadata kept)
                    ks = rng.choice(upsertable, 4, replace=False).tolist()
                    vs = []
                    for k in ks:
                        history[k].append(_vec(k, len(history[k])))
                        vs.append(history[k][-1])
                    store.add(ks, np.stack(vs))
                elif op == 4:  # brand-new keys
                    ks = list(range(nxt, nxt + 3))
                    nxt += 3
                    for k in ks:
                        history[k] = [_vec(k, 0)]
                    store.add(ks, np.stack([history[k][0] for k in ks]),
                              metadata=pd.DataFrame({"g": [1, 1, 1]}, index=pd.Index(ks)))
                elif op == 5 and deletable:
                    ks = [deletable.pop() for _ in range(2)]
                    seq = published[0] + 1
                    store.delete(ks)
                    for k in ks:
                        deleted[k] = seq
                elif op == 6:
                    store.rebuild()
                elif op == 7 and step % 32 == 7:
                    store.save(tmp_path / "s")
                published[0] += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(f"writer: {type(e).__name__}: {e}")
        finally:
            done.set()

    def check(q, keys, dist, seq0, where, filt=False):
        for row in range(len(keys)):
            got = [x for x in keys[row] if x is not None]
            if len(got) != K:
                errors.append(f"{where}: {len(got)} results, expected {K}")
            if len(set(got)) != len(got):
                errors.append(f"{where}: a key twice in one answer {got}")
            d = dist[row][:len(got)]
            if np.any(np.diff(d) < -1e-5):
                errors.append(f"{where}: distances not ascending {d}")
            for key, dk in zip(got, d, strict=True):
                if deleted.get(key, 1 << 60) <= seq0:
                    errors.append(f"{where}: key {key} returned after its deletion was published")
                vs = history.get(key)
                if vs is None:
                    errors.append(f"{where}: unknown key {key}")
                    continue
                true = pair_distances(q[row][None, :], np.stack(vs), metric)
                if not np.any(np.abs(true - dk) <= 1e-4 * max(1.0, abs(float(dk)))):
                    errors.append(f"{where}: key {key} at {dk}, which matches no version ({true})")
                if filt and key < 10_000 and key % 3 != 1:
                    errors.append(f"{where}: key {key} fails the filter")
            n_checked[0] += 1

    def reader(seed):
        rng = np.random.default_rng(seed)
        try:
            while not done.is_set():
                seq0 = published[0]
                q = rng.normal(size=(3, DIM)).astype(np.float32)
                mode = int(rng.integers(0, 4))
                if mode == 0:
                    keys, dist, _ = store.query_arrays(q, K)
                elif mode == 1:
                    out = [store.query_arrays(v, K) for v in q]  # the single-vector fast path
                    keys = np.vstack([o[0] for o in out])
                    dist = np.vstack([o[1] for o in out])
                elif mode == 2:
                    keys, dist, _ = store.query_arrays(q, K, filter=col("g") == 1)
                else:
                    qk = rng.choice(upsertable, 3).tolist()
                    keys, dist, _ = store.query_keys_arrays(qk, K, exclude_self=False)
                    # the query is the key's vector in the version read: one of its versions
                    for row, k in enumerate(qk):
                        got = [x for x in keys[row] if x is not None]
                        if len(got) != K or len(set(got)) != K:
                            errors.append(f"query_keys: bad answer {got}")
                        for key, dk in zip(got, dist[row], strict=False):
                            true = pair_distances(np.stack(history[k])[:, None, :],
                                                  np.stack(history[key])[None, :, :], metric)
                            if not np.any(np.abs(true - dk) <= 1e-4 * max(1.0, abs(float(dk)))):
                                errors.append(f"query_keys: {k} -> {key} at {dk} matches no pair "
                                              "of versions")
                    n_checked[0] += len(qk)
                    continue
                check(q, keys, dist, seq0, f"mode {mode}", filt=mode == 2)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(f"reader: {type(e).__name__}: {e}")

    readers = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    w = threading.Thread(target=writer)
    for t in readers:
        t.start()
    w.start()
    w.join(timeout=120)
    for t in readers:
        t.join(timeout=120)
    assert not errors, errors[:10]
    assert n_checked[0] > 50
    # the store after the churn is the model's final state
    alive = {k for k in history if k not in deleted}
    assert set(store.keys) == alive and len(store) == len(alive)
    ks = sorted(alive)
    np.testing.assert_array_equal(store.get_vectors(ks), np.stack([history[k][-1] for k in ks]))
    assert store.get_metadata(list(range(0, 200)))["g"].tolist() == [i % 3 for i in range(200)]


def test_failed_writes_from_threads_change_nothing(fast_switching):
    """Writers whose input is bad raise in their own thread; readers see the store unchanged."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, DIM)).astype(np.float32)
    meta = pd.DataFrame({"flag": np.arange(100) % 2 == 0})
    store = NeighborStore(DIM, metric="euclidean", n_trees=3, random_state=0)
    store.add(list(range(100)), X, metadata=meta).rebuild()
    before = store.query_arrays(X[:10], K)
    stop = time.monotonic() + 0.5
    raised = []

    def bad_writer():
        while time.monotonic() < stop:
            for args in ((["x", None], X[:2]), ([1, 2], X[:2, :3]), ([5], X[:1] * np.float32(1e30))):
                try:
                    store.add(*args)
                except (TypeError, ValueError) as e:
                    raised.append(type(e))

    t = threading.Thread(target=bad_writer)
    t.start()
    while t.is_alive():
        got = store.query_arrays(X[:10], K)
        np.testing.assert_array_equal(got[2], before[2])
    t.join()
    assert raised and set(raised) <= {TypeError, ValueError}
    assert len(store) == 100 and store.n_delta == 0 and store.n_tombstones == 0
