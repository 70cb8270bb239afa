"""Random add/delete/query/save/load sequences against a brute-force model of the store."""

import tempfile

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from nnstore import NeighborStore, col
from nnstore._exact import pair_distances

DIM = 4
KEYS = st.one_of(st.integers(0, 30), st.sampled_from([f"s{i}" for i in range(10)]))


def key_sort(k):
    return (isinstance(k, str), str(k) if isinstance(k, str) else k)


class StoreMachine(RuleBasedStateMachine):
    exact = True
    metric = "euclidean"

    @initialize(metric=st.sampled_from(["euclidean", "cosine", "dot", "manhattan"]))
    def setup(self, metric):
        self.metric = metric
        self.store = NeighborStore(DIM, metric=metric, exact=self.exact, n_trees=3,
                                   rebuild_threshold=0.3, random_state=0)
        self.model: dict = {}  # key -> (vector, group)
        self.rng = np.random.default_rng(0)
        self.tmp = tempfile.TemporaryDirectory()

    def teardown(self):
        self.tmp.cleanup()

    @rule(keys=st.lists(KEYS, min_size=1, max_size=8, unique=True), seed=st.integers(0, 10**6))
    def add(self, keys, seed):
        rng = np.random.default_rng(seed)
        vecs = rng.normal(size=(len(keys), DIM)).astype(np.float32)
        groups = rng.integers(0, 3, len(keys))
        self.store.add(keys, vecs, metadata=pd.DataFrame({"group": groups}, index=pd.Index(keys)))
        for k, v, g in zip(keys, vecs, groups, strict=True):
            self.model[k] = (v, int(g))

    @rule(data=st.data())
    def delete(self, data):
        if not self.model:
            return
        keys = data.draw(st.lists(st.sampled_from(sorted(self.model, key=key_sort)), min_size=1,
                                  max_size=4, unique=True))
        self.store.delete(keys)
        for k in keys:
            del self.model[k]

    @rule()
    def save_load(self):
        path = f"{self.tmp.name}/store"
        self.store.save(path)
        self.store = NeighborStore.load(path, mmap=bool(self.rng.integers(2)))

    @rule()
    def rebuild(self):
        self.store.rebuild()

    @rule(k=st.integers(1, 6), seed=st.integers(0, 1000), use_filter=st.booleans())
    def query(self, k, seed, use_filter):
        q = np.random.default_rng(seed).normal(size=(3, DIM)).astype(np.float32)
        f = (col("group") == 1) if use_filter else None
        if use_filter and self.store._meta is None:
            return
        keys, dist, _ = self.store.query_arrays(q, k, filter=f)
        live = [key for key, (_, g) in self.model.items() if not use_filter or g == 1]
        n_exp = min(k, len(live))
        for i in range(3):
            got = [x for x in keys[i] if x is not None]
            assert len(got) == n_exp
            assert all(x in self.model for x in got)
            if use_filter:
                assert all(self.model[x][1] == 1 for x in got)
            if not live:
                continue
            vecs = np.stack([self.model[x][0] for x in live])
            true = pair_distances(q[i][None, :], vecs, self.metric)
            tmap = dict(zip(live, true, strict=True))
            # every returned distance is the true distance of that key
            np.testing.assert_allclose(dist[i][:n_exp], [tmap[x] for x in got], rtol=1e-4, atol=1e-4)
            if self.exact:  # the exact k best (ties aside)
                np.testing.assert_allclose(dist[i][:n_exp], np.sort(true)[:n_exp], rtol=1e-4, atol=1e-4)

    @rule(data=st.data(), k=st.integers(1, 5), use_filter=st.booleans())
    def query_keys(self, data, k, use_filter):
        if not self.model or (use_filter and self.store._meta is None):
            return
        qkey = data.draw(st.sampled_from(sorted(self.model, key=key_sort)))
        f = (col("group") == 1) if use_filter else None
        keys, dist, _ = self.store.query_keys_arrays([qkey], k, filter=f)
        live = [x for x, (_, g) in self.model.items() if x != qkey and (not use_filter or g == 1)]
        got = [x for x in keys[0] if x is not None]
        assert len(got) == min(k, len(live)) and qkey not in got
        assert all(x in live for x in got)
        if self.exact and live:
            vecs = np.stack([self.model[x][0] for x in live])
            true = np.sort(pair_distances(self.model[qkey][0][None, :], vecs, self.metric))
            np.testing.assert_allclose(dist[0][:len(got)], true[:len(got)], rtol=1e-4, atol=1e-4)

    @invariant()
    def same_keys(self):
        if hasattr(self, "store"):
            assert len(self.store) == len(self.model)
            assert sorted(self.store.keys, key=key_sort) == sorted(self.model, key=key_sort)


class ExactStoreMachine(StoreMachine):
    exact = True


class AnnoyStoreMachine(StoreMachine):
    exact = False


_settings = settings(max_examples=20, stateful_step_count=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])
TestExactStore = ExactStoreMachine.TestCase
TestExactStore.settings = _settings
TestAnnoyStore = AnnoyStoreMachine.TestCase
TestAnnoyStore.settings = _settings
