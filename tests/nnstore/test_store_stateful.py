"""Random add/delete/query/save/load sequences against a brute-force model of the store.

Besides the sequential rules: writes applied by another thread while this one
queries (every answer must be right for some version seen meanwhile), and saves
that fail at a random step (the artifact then loads as the previous save or as
this one, never a mix).
"""

import contextlib
import tempfile
import threading

import hypothesis.strategies as st
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import nnstore._artifact as art_mod
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
        self.saved: dict | None = None  # the model as of the artifact on disk
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
        self.saved = dict(self.model)
        self.store = NeighborStore.load(path, mmap=bool(self.rng.integers(2)))

    @rule(step=st.sampled_from(["_sha256_and_fsync", "_fsync_dir", "_rename", "_rmtree"]),
          nth=st.integers(1, 4))
    def save_fails_midway(self, step, nth):
        """A save whose nth file-system step of a kind raises: the artifact then holds the previous
        save or this one (loaded as is, or recovered), and the next save cleans up."""
        if self.saved is None:
            return
        path = f"{self.tmp.name}/store"
        orig = getattr(art_mod, step)
        calls = [0]

        def failing(*a, **k):
            calls[0] += 1
            if calls[0] == nth:
                raise OSError(5, "injected")
            return orig(*a, **k)

        setattr(art_mod, step, failing)
        try:
            with contextlib.suppress(OSError):
                self.store.save(path)
        finally:
            setattr(art_mod, step, orig)
        loaded = NeighborStore.load(path)
        got = sorted(loaded.keys, key=key_sort)
        old, new = sorted(self.saved, key=key_sort), sorted(self.model, key=key_sort)
        assert got in (old, new)
        self.model = dict(self.model if got == new else self.saved)
        self.store = loaded
        self.store.save(path)
        self.saved = dict(self.model)

    @rule(ops=st.lists(st.tuples(st.booleans(), st.lists(KEYS, min_size=1, max_size=4, unique=True),
                                 st.integers(0, 10**6)), min_size=1, max_size=4),
          qseed=st.integers(0, 1000), k=st.integers(1, 5))
    def concurrent_writes(self, ops, qseed, k):
        """A writer thread adds and deletes while this thread queries: every (key, distance) is the
        distance to a vector the key had in some version during the window, no key twice."""
        model = dict(self.model)
        versions = {key: [v] for key, (v, _) in model.items()}
        plan = []
        for is_add, keys, seed in ops:
            if is_add:
                rng = np.random.default_rng(seed)
                vecs = rng.normal(size=(len(keys), DIM)).astype(np.float32)
                groups = rng.integers(0, 3, len(keys))
                plan.append((keys, vecs, groups))
                for key, v, g in zip(keys, vecs, groups, strict=True):
                    model[key] = (v, int(g))
                    versions.setdefault(key, []).append(v)
            else:
                keys = [key for key in keys if key in model]
                if keys:
                    plan.append((keys, None, None))
                    for key in keys:
                        del model[key]
        errors = []

        def writer():
            try:
                for keys, vecs, groups in plan:
                    if vecs is None:
                        self.store.delete(keys)
                    else:
                        self.store.add(keys, vecs, metadata=pd.DataFrame({"group": groups},
                                                                         index=pd.Index(keys)))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        q = np.random.default_rng(qseed).normal(size=(2, DIM)).astype(np.float32)
        t = threading.Thread(target=writer)
        t.start()
        answers = []
        while t.is_alive() or len(answers) < 2:
            answers.append(self.store.query_arrays(q, k))
            answers.append(self.store.query_arrays(q[0], k))
        t.join()
        assert not errors, errors
        for keys, dist, _ in answers:
            for i in range(len(keys)):
                got = [x for x in keys[i] if x is not None]
                assert len(set(got)) == len(got)
                for key, d in zip(got, dist[i], strict=False):
                    assert key in versions, key
                    true = pair_distances(q[i][None, :], np.stack(versions[key]), self.metric)
                    assert np.any(np.abs(true - d) <= 1e-4 * max(1.0, abs(float(d)))), (key, d, true)
        self.model = model

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


_settings = settings(max_examples=25, stateful_step_count=15, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow])
TestExactStore = ExactStoreMachine.TestCase
TestExactStore.settings = _settings
TestAnnoyStore = AnnoyStoreMachine.TestCase
TestAnnoyStore.settings = _settings
