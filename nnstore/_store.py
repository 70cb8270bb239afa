"""NeighborStore: an Annoy-backed neighbour store without Annoy's limits.

Annoy gives fast approximate search over a memory-mapped index file, but the
index is frozen after ``build``, takes dense integer ids (memory for
``max(id) + 1``), has no delete, no filter and no batch query. The store keeps
Annoy for the bulk of the vectors and adds what is missing around it:

* **Keys.** str, int, finite float, or tuples of these (what an artifact
  stores with its type: :func:`nnstore.check_storable_keys`; ``None``, NaN,
  bools and other objects are refused at ``add``). Every stored vector lives in a
  *slot* of one contiguous float32 matrix; the Annoy id of an indexed vector
  is its slot, so ids are always dense ``0..n-1`` and memory is proportional
  to the number of vectors, not to the largest key.
* **Upsert and delete, visible at once.** ``add`` of a new or existing key
  appends the vector to a new slot past the indexed ones (the *delta
  buffer*), searched exactly next to Annoy; the old slot becomes a
  *tombstone*. ``delete`` tombstones. Tombstones are never returned: Annoy is
  asked for more neighbours in proportion to the dead fraction, and any query
  left short of k is completed by exact search. ``rebuild()`` folds the delta
  into a fresh Annoy index and drops tombstones; it runs automatically (at the
  next query or save) once ``(delta + tombstones) > rebuild_threshold * len``.
  The first index is therefore built lazily, in one tight loop over the
  contiguous matrix, when the first query arrives.
* **Metrics.** ``cosine`` -> Annoy ``angular`` (distance returned: 1 - cos);
  ``euclidean`` -> L2; ``manhattan`` -> L1; ``dot`` -> maximum inner product
  search by the augmentation ``x -> [x, sqrt(M^2 - |x|^2)]``,
  ``q -> [q, 0]`` (so ``|q' - x'|^2 = |q|^2 + M^2 - 2 q.x`` and the nearest in
  L2 is the largest inner product); distance returned: ``-q.x``.
* **Filters.** On metadata columns (:func:`nnstore.col`). The filter is
  evaluated once per batch into a mask. If the passing, indexed items are
  few (``<= FILTER_EXACT_COUNT``, or ``<= FILTER_EXACT_COST_RATIO`` (20) times
  the ``search_k`` Annoy would need after over-fetching: a cost model, one
  BLAS distance being much cheaper than one Annoy node visit) the query is
  answered by exact search over exactly those items; otherwise Annoy is
  asked for ``k / selectivity * FILTER_OVERFETCH``
  neighbours (with ``search_k`` scaled the same way) and the passing ones
  kept, and any query still short of k is completed exactly. So when at
  least k items pass, k items that all pass are returned.
* **Search.** Annoy builds the index; queries walk it with a compiled kernel
  (:mod:`nnstore._annoy_search`): Annoy's own search over the same index file,
  with no Python per query, no GIL held and no lists built (what made single
  queries 8-13% slower than raw Annoy through its binding). Batches are split
  into chunks run on a thread pool (``n_jobs``). The rest (masks, merging with
  the delta) is vectorised numpy over the whole batch. If the index cannot be
  given a file (no temporary space), queries go through Annoy's binding.
* **Graph search** (``search="graph"``). At every rebuild a neighbour graph is
  built over the indexed vectors from the Annoy trees' own leaves, refined by
  NN-descent and pruned by HNSW's heuristic (:mod:`nnstore._graph_search`);
  queries descend a few trees to their leaves and search the graph best-first
  with beam width ``ef`` in a compiled kernel. Tombstones, the delta buffer,
  filters and exclusions work exactly as with the tree search (the graph
  stands in for the trees' candidate list). Saved as ``graph.npy`` and
  ``graph_order.npy``, memory-mapped and validated at load.
* **Exact mode.** ``exact=True`` keeps no Annoy index: every query is a
  blocked float32 matrix product (:mod:`nnstore._exact`). The same code gives
  the ground truth of :meth:`NeighborStore.recall_at_k`.

* **Magnitudes.** Distances are float32. Vectors whose distances would
  overflow (norm above 2^62, or L1 norm above 2^125 for manhattan) are
  refused at ``add``, and queries likewise, with an error that says so,
  instead of answering with inf or NaN.

Concurrency: any number of threads may query one store while other threads
``add``, ``delete``, ``rebuild`` or ``save``. Every query answers for one
version of the store (the one current when it started): copy-on-write
versions (:mod:`nnstore._store_state`); writers are serialised by a lock and
publish each new version with one reference assignment, readers take no
lock. A write that raises changes nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import tempfile
import threading
from collections.abc import Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._annoy_search import POST_DOT, POST_HALF, POST_NONE, POST_SQRT, AnnoyFile, search_many, search_one
from ._artifact import ArtifactWriter, read_artifact
from ._errors import ArtifactError
from ._exact import exact_search
from ._filters import evaluate_filter
from ._graph_search import GraphIndex, OneQuery, build_graph, search_one_table
from ._keys import keys_to_frame
from ._store_persist import (
    ANNOY_METRIC,
    GRAPH_FILES,
    REQUIRED,
    annoy_self_check,
    load_state,
    write_index_file,
)
from ._store_state import (
    KeyMap,
    StoreState,
    check_query_magnitude,
    merge_metadata,
    stored_magnitude,
)
from ._validation import check_keys, check_random_state, check_storable_keys, check_vectors, key_index

__all__ = ["NeighborStore"]

logger = logging.getLogger(__name__)

KIND = "neighbor_store"
METRICS = ("cosine", "euclidean", "dot", "manhattan")
SEARCHES = ("annoy", "graph")
#: the store's default search (see benchmarks/results/nnstore_search.md)
DEFAULT_SEARCH = "annoy"
_ANNOY_METRIC = ANNOY_METRIC
_POST = {"cosine": POST_HALF, "euclidean": POST_SQRT, "dot": POST_DOT, "manhattan": POST_NONE}
_ADD_CHUNK = 16384
_F32 = np.dtype(np.float32)
_I64 = np.dtype(np.int64)
#: query_arrays pads its (n_queries, k) arrays past the store's size only up to this many
#: entries; a larger k than the store holds is refused above it (query() has no such limit)
_MAX_PADDED = 1 << 24


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


class _FastCall(NamedTuple):
    """The single-query fast path's fixed arguments for one store version (``n_items`` 0: no
    fast path, the version has a delta, tombstones or no compiled index)."""

    graph_call: OneQuery | None   # the graph kernel's tables (no graph: None)
    tree_args: tuple | None       # tree kernel's leading arguments
    shape: tuple                  # (dim,): the accepted query shape
    n_items: int                  # indexed items
    wide_ef: int                  # GRAPH_ENTRY_WIDE_EF
    entry_trees: int              # entry trees below wide_ef ...
    entry_trees_wide: int         # ... and from it on


class NeighborStore:
    """A neighbour store over keyed float32 vectors (Annoy + exact delta buffer).

    Parameters
    ----------
    dim : int
        Vector dimension.
    metric : {"cosine", "euclidean", "dot", "manhattan"}, default "cosine"
        Distances returned: cosine -> ``1 - cos`` in [0, 2]; euclidean -> L2;
        manhattan -> L1; dot -> ``-q.x`` (smaller is closer).
    n_trees : int, default 50
        Annoy trees. More trees: higher recall at the same ``search_k``, a
        larger index file and a longer build (linear in ``n_trees``).
    search_k : int or None, default None
        Nodes Annoy inspects per query; None uses Annoy's default
        ``n_trees * k`` (``2 * n_trees * k`` for ``metric="dot"``,
        ``DOT_SEARCH_K_FACTOR``). Larger: higher recall, slower queries
        (roughly linear). See the measured tables in the README/notebook.
    exact : bool, default False
        No Annoy index; every query is an exact blocked search (ground truth,
        small stores).
    rebuild_threshold : float, default 0.2
        Rebuild automatically (at the next query or save) once
        ``delta + tombstones > rebuild_threshold * len(store)``.
    n_jobs : int or None, default None
        Query threads (and Annoy build threads); None -> all cores.
    random_state : int or None, default None
        Seeds Annoy's tree building (and the graph's): same seed, same data -> same index.
    search : {"annoy", "graph"}, default "annoy"
        How queries walk the index. ``"annoy"``: Annoy's tree search (``search_k``).
        ``"graph"``: a neighbour graph built at every rebuild from the trees' leaves and
        refined (NN-descent, HNSW's pruning), searched best-first from the leaves the
        query's descent reaches (:mod:`nnstore._graph_search`); saved as ``graph.npy``
        and ``graph_order.npy``. Higher recall per query time, a longer build (see
        benchmarks/results/nnstore_search.md). A ``search_k`` (here or per query) asks
        for the tree search instead.
    ef : int or None, default None
        Graph search beam width (``>= k`` is used); None: ``max(GRAPH_EF, 1.5 k)`` (twice
        that for dot). Larger: higher recall, slower queries.

    Shapes
    ------
    - add: keys ``(n,)``, vectors ``(n, dim)``, metadata ``(n, n_columns)``
    - query: vectors ``(n_queries, dim)`` -> DataFrame of ``<= n_queries * k`` rows
      (query, rank, key, distance)
    - query_arrays: -> keys ``(n_queries, k)`` object, distances ``(n_queries, k)``
      float32, positions ``(n_queries, k)`` int64

    Examples
    --------
    >>> import numpy as np
    >>> from nnstore import NeighborStore, col
    >>> rng = np.random.default_rng(0)
    >>> store = NeighborStore(8, metric="euclidean", random_state=0)
    >>> meta = __import__("pandas").DataFrame({"even": [i % 2 == 0 for i in range(100)]})
    >>> _ = store.add([f"k{i}" for i in range(100)], rng.normal(size=(100, 8)), metadata=meta)
    >>> res = store.query_keys(["k0"], k=3, filter=col("even") == True)
    >>> len(res), bool(res["key"].isin([f"k{i}" for i in range(0, 100, 2)]).all())
    (3, True)
    """

    #: a filter passed by at most this many indexed items is answered by exact search ...
    FILTER_EXACT_COUNT = 2048
    #: ... or by at most this many times the nodes Annoy would visit for it (search_k after
    #: over-fetch): a BLAS distance costs far less than one Annoy node visit
    FILTER_EXACT_COST_RATIO = 20.0
    #: over-fetch factor on top of 1/selectivity when a filter goes through Annoy
    FILTER_OVERFETCH = 1.5
    #: default search_k multiplier for metric "dot": after the MIPS augmentation the true
    #: neighbours are less separated from the rest, so the trees need more nodes for the same
    #: recall (measured: benchmarks/results/nnstore.md, search_k sweep)
    DOT_SEARCH_K_FACTOR = 2
    #: batches smaller than this many queries per thread run on one thread
    MIN_QUERIES_PER_THREAD = 16
    #: search="graph": neighbours kept per vector in the graph
    GRAPH_DEGREE = 32
    #: ... trees descended per query for entry points (three times more for dot) ...
    GRAPH_ENTRY_TREES = 3
    #: ... and one more from this beam width on: a query's answers can lie in a part of the
    #: graph that its other entry points do not reach, and wide beams are for high recall
    GRAPH_ENTRY_WIDE_EF = 20
    #: ... entry points taken from the leaf reached in each entry tree after the first (the
    #: first tree's leaf gives up to max(ef, this) items, which lie next to each other in the
    #: graph's storage order; the others' lie anywhere in memory: measured in
    #: benchmarks/results/nnstore_search.md)
    GRAPH_ENTRY_PER_LEAF = 16
    #: ... beam width when ef is None: max(GRAPH_EF, GRAPH_EF_PER_K * k)
    GRAPH_EF = 16
    GRAPH_EF_PER_K = 1.5
    #: ... candidate lists computed exactly (blocked matrix products) while n^2 * dim is at most
    #: this, else by NN-descent from the trees' leaves (see nnstore._graph_search)
    GRAPH_EXACT_BUDGET = 2e10
    #: ... fewer indexed vectors than this get no graph (the tree search answers them)
    GRAPH_MIN_ITEMS = 256

    def __init__(self, dim: int, *, metric: str = "cosine", n_trees: int = 50,
                 search_k: int | None = None, exact: bool = False, rebuild_threshold: float = 0.2,
                 n_jobs: int | None = None, random_state: int | None = None,
                 search: str = DEFAULT_SEARCH, ef: int | None = None) -> None:
        if not _is_int(dim) or dim <= 0:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if not isinstance(metric, str) or metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        if not isinstance(search, str) or search not in SEARCHES:
            raise ValueError(f"search must be one of {SEARCHES}, got {search!r}")
        if not _is_int(n_trees) or n_trees <= 0:
            raise ValueError(f"n_trees must be a positive int, got {n_trees!r}")
        if ef is not None and (not _is_int(ef) or ef <= 0):
            raise ValueError(f"ef must be None or a positive int, got {ef!r}")
        if search_k is not None and (not _is_int(search_k) or search_k <= 0):
            raise ValueError(f"search_k must be None or a positive int, got {search_k!r}")
        if not isinstance(exact, (bool, np.bool_)):
            raise TypeError(f"exact must be a bool, got {type(exact).__name__}: {exact!r}")
        if not (isinstance(rebuild_threshold, (int, float, np.integer, np.floating))
                and not isinstance(rebuild_threshold, (bool, np.bool_))
                and not math.isnan(rebuild_threshold) and rebuild_threshold >= 0):
            raise ValueError(f"rebuild_threshold must be a float >= 0, got {rebuild_threshold!r}")
        self._check_n_jobs(n_jobs)
        check_random_state(random_state)
        self.dim = int(dim)
        self.metric = metric
        self.n_trees = int(n_trees)
        self.search_k = None if search_k is None else int(search_k)
        self.exact = bool(exact)
        self.search = search
        self.ef = None if ef is None else int(ef)
        self.rebuild_threshold = float(rebuild_threshold)
        self.n_jobs = n_jobs
        self.random_state = random_state
        self._state = StoreState.empty(self.dim, metric)
        self._wlock = threading.RLock()  # serialises writers; readers never take it
        self._binding_lock = threading.Lock()  # Annoy's binding vs. its save() (fallback only)

    # -- basics ---------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """The constructor parameters (JSON types); ``deep`` is accepted for scikit-learn's API."""
        rs = self.random_state if _is_int(self.random_state) else None
        return {"dim": self.dim, "metric": self.metric, "n_trees": self.n_trees,
                "search_k": self.search_k, "exact": self.exact,
                "rebuild_threshold": self.rebuild_threshold, "n_jobs": self.n_jobs,
                "random_state": rs, "search": self.search, "ef": self.ef}

    def __len__(self) -> int:
        return self._state.n_alive

    def __contains__(self, key: Hashable) -> bool:
        try:
            return self._state.keymap.get(key) >= 0
        except TypeError:
            return False

    def __repr__(self) -> str:
        st = self._state
        return (f"NeighborStore(dim={self.dim}, metric={self.metric!r}, n={st.n_alive}, "
                f"indexed={st.n_indexed}, delta={st.n_alive_delta}, "
                f"tombstones={st.n_indexed - st.n_alive_indexed}, exact={self.exact})")

    # the current version's parts (read-only views for tests and benchmarks)
    @property
    def _index(self):
        return self._state.index

    @property
    def _afile(self) -> AnnoyFile | None:
        return self._state.afile

    @_afile.setter
    def _afile(self, afile: AnnoyFile | None) -> None:
        with self._wlock:
            self._state = self._state.evolve(afile=afile)

    @property
    def _meta(self) -> pd.DataFrame | None:
        return self._state.meta

    @property
    def keys(self) -> pd.Index:
        """The alive keys, in slot order (the order ``positions`` refer to)."""
        st = self._state
        return key_index(st.keys[:st.n][st.alive[:st.n]].tolist())

    @property
    def n_delta(self) -> int:
        """Alive vectors not yet in the Annoy index (searched exactly)."""
        return self._state.n_alive_delta

    @property
    def n_tombstones(self) -> int:
        """Deleted or replaced vectors still in the Annoy index."""
        st = self._state
        return st.n_indexed - st.n_alive_indexed

    @staticmethod
    def _slots(st: StoreState, keys: Any, name: str = "keys") -> np.ndarray:
        idx = check_keys(keys, name=name, unique=False)
        try:
            slots = st.keymap.slots(list(idx))
        except TypeError as e:
            raise TypeError(f"{name} must be hashable: {e}") from e
        if (slots < 0).any():
            missing = idx[slots < 0].unique()[:5].tolist()
            raise KeyError(f"{name}: {int((slots < 0).sum())} key(s) not in the store, "
                           f"first: {missing}")
        return slots

    def get_vectors(self, keys: Any) -> np.ndarray:
        """Vectors of ``keys``, ndarray of shape (n, dim) float32; KeyError for unknown keys."""
        st = self._state
        return np.array(st.vec[self._slots(st, keys)], dtype=np.float32)

    def get_metadata(self, keys: Any = None) -> pd.DataFrame:
        """Metadata rows indexed by key (all alive keys when ``keys`` is None)."""
        st = self._state
        slots = np.flatnonzero(st.alive[:st.n]) if keys is None else self._slots(st, keys)
        index = key_index(st.keys[slots].tolist())
        if st.meta is None:
            return pd.DataFrame(index=index)
        out = st.meta.iloc[slots].copy()
        out.index = index
        return out

    # -- mutation (each builds the next version, then publishes it) ------------------
    @staticmethod
    def _align_metadata(metadata: Any, keys: pd.Index) -> pd.DataFrame:
        if not isinstance(metadata, pd.DataFrame):
            raise TypeError(f"metadata must be a pandas DataFrame, got {type(metadata).__name__}")
        if len(metadata) != len(keys):
            raise ValueError(f"metadata has {len(metadata)} rows but {len(keys)} keys are added")
        bad = [c for c in metadata.columns if not isinstance(c, str)]
        if bad:
            raise TypeError(f"metadata column names must be strings, got {bad[:5]}")
        if not metadata.columns.is_unique:
            raise ValueError(f"metadata column names must be unique; repeated: "
                             f"{metadata.columns[metadata.columns.duplicated()].tolist()[:5]}")
        if not metadata.index.equals(keys):
            if metadata.index.is_unique and set(metadata.index) == set(keys):
                metadata = metadata.reindex(keys)
            elif isinstance(metadata.index, pd.RangeIndex) and metadata.index.equals(
                    pd.RangeIndex(len(keys))):
                pass  # positional
            else:
                raise ValueError("metadata must be indexed by the added keys (or have a default "
                                 "RangeIndex, aligned by position)")
        return metadata.reset_index(drop=True)

    def add(self, keys: Any, vectors: Any = None, metadata: pd.DataFrame | None = None) -> NeighborStore:
        """Insert or replace (upsert) vectors by key.

        Parameters
        ----------
        keys : iterable of keys of length n, or an embeddings DataFrame
            str, int, finite float or tuples of these (see
            :func:`nnstore.check_storable_keys`). With a DataFrame (index =
            keys, columns ``emb_*`` or numeric) leave ``vectors`` out.
        vectors : array-like of shape (n, dim)
        metadata : DataFrame of n rows, optional
            Indexed by the keys (or a default RangeIndex, aligned by position).
            Replaces the metadata of an upserted key; when omitted, an upserted
            key keeps its metadata and a new key gets missing values (int and
            bool columns become the nullable ``Int64``/``boolean`` dtypes then,
            so their values stay exact).

        Raises
        ------
        ValueError
            For a wrong dimension, NaN/inf, values beyond float32, vectors
            whose distances would overflow float32, repeated keys or a length
            mismatch.
        TypeError
            For keys that cannot be stored (None, NaN, bools, objects) or
            complex vectors.

        Nothing is changed when it raises: the new version is built in full
        before it replaces the current one.
        """
        if vectors is None:
            if not isinstance(keys, pd.DataFrame):
                raise TypeError("add(keys, vectors): vectors missing (or pass one embeddings "
                                "DataFrame whose index holds the keys)")
            vec, kidx = check_vectors(keys, dim=self.dim, name="vectors", allow_empty=True)
            kidx = check_keys(check_storable_keys(kidx, name="keys"), name="keys")
        else:
            if isinstance(keys, pd.DataFrame):
                raise TypeError("add(keys, vectors): keys is a DataFrame; pass its index, or the "
                                "embeddings DataFrame alone")
            vec, _ = check_vectors(vectors, dim=self.dim, name="vectors", allow_empty=True)
            kidx = check_keys(check_storable_keys(keys, name="keys"), n=len(vec), name="keys")
        m = len(vec)
        meta_rows = None if metadata is None else self._align_metadata(metadata, kidx)
        if m == 0:
            return self
        norm = stored_magnitude(vec, self.metric, kidx)
        kl = kidx.tolist() if kidx.dtype != object else list(kidx)
        with self._wlock:
            st = self._state
            self._state = self._appended(st, kl, vec, st.keymap.slots(kl), meta_rows, norm)
        return self

    def _appended(self, st: StoreState, keys: list, vec: np.ndarray, old: np.ndarray,
                  meta_rows: pd.DataFrame | None, norm: float) -> StoreState:
        """The version after appending ``keys``/``vec`` (old slots of upserted keys die)."""
        n, m = st.n, len(keys)
        need = n + m
        vbuf, kbuf, abuf = st.vec, st.keys, st.alive
        if need > len(vbuf) or not vbuf.flags.writeable:
            cap = max(need, len(vbuf) + len(vbuf) // 2, 1024) if len(vbuf) else need
            vbuf = np.empty((cap, self.dim), dtype=np.float32)
            vbuf[:n] = st.vec[:n]
            kbuf = np.empty(cap, dtype=object)
            kbuf[:n] = st.keys[:n]
            abuf = np.zeros(cap, dtype=bool)
            abuf[:n] = st.alive[:n]
        killed = old[old >= 0]
        if len(killed) and abuf is st.alive:
            abuf = abuf.copy()  # the current version goes on reading its own flags
        meta = merge_metadata(st.meta, n, meta_rows, old, m)  # may raise: nothing written yet
        vbuf[n:need] = vec  # past every published version's n: no reader looks there
        kbuf[n:need] = np.fromiter(keys, dtype=object, count=m)
        abuf[n:need] = True
        abuf[killed] = False
        n_killed_idx = int((killed < st.n_indexed).sum())
        keymap = st.keymap.changed(dict(zip(keys, range(n, need), strict=True)))
        return st.evolve(vec=vbuf, keys=kbuf, alive=abuf, n=need, keymap=keymap, meta=meta,
                         n_alive_indexed=st.n_alive_indexed - n_killed_idx,
                         n_alive_delta=st.n_alive_delta + m - (len(killed) - n_killed_idx),
                         norm_max=max(st.norm_max, norm))

    def delete(self, keys: Any) -> NeighborStore:
        """Delete keys (tombstones, never returned again). KeyError naming unknown keys."""
        with self._wlock:
            st = self._state
            slots = np.unique(self._slots(st, keys))
            alive = st.alive.copy()
            alive[slots] = False
            n_idx = int((slots < st.n_indexed).sum())
            keymap = st.keymap.changed(dict.fromkeys(st.keys[slots].tolist(), -1))
            self._state = st.evolve(alive=alive, keymap=keymap,
                                    n_alive_indexed=st.n_alive_indexed - n_idx,
                                    n_alive_delta=st.n_alive_delta - (len(slots) - n_idx))
        return self

    def _needs_rebuild(self, st: StoreState) -> bool:
        n_alive = st.n_alive
        if self.exact:  # compact dead slots only
            dead = st.n - n_alive
            return dead > 0 and dead > self.rebuild_threshold * n_alive
        churn = st.n_alive_delta + (st.n_indexed - st.n_alive_indexed)
        return churn > 0 and churn > self.rebuild_threshold * n_alive

    def _maybe_rebuild(self) -> None:
        """Rebuild if the current version is past the threshold and no writer is busy.

        A query never waits for another thread's write: if one is running, this
        query answers from the current version (with its delta and tombstones).
        """
        if self._needs_rebuild(self._state) and self._wlock.acquire(blocking=False):
            try:
                if self._needs_rebuild(self._state):
                    self._rebuild_locked()
            finally:
                self._wlock.release()

    def rebuild(self) -> NeighborStore:
        """Compact (drop tombstones) and build a new Annoy index over every alive vector.

        Queries from other threads go on answering from the previous version
        while the index builds; other writers wait.
        """
        with self._wlock:
            self._rebuild_locked()
        return self

    def _rebuild_locked(self) -> None:
        st = self._state
        alive = np.flatnonzero(st.alive[:st.n])
        n = len(alive)
        vec, keys, alive_buf, meta, keymap = st.vec, st.keys, st.alive, st.meta, st.keymap
        if n != st.n or not st.vec.flags.writeable:
            vec = np.ascontiguousarray(st.vec[alive])
            keys = st.keys[alive]
            alive_buf = np.ones(n, dtype=bool)
            if meta is not None:
                meta = meta.iloc[alive].reset_index(drop=True)
            keymap = KeyMap.from_slots(keys.tolist(), list(range(n)))
        sq = np.einsum("ij,ij->i", vec[:n], vec[:n]) if n else np.zeros(0, np.float32)
        norm_max = float(np.sqrt(sq.max())) if n else 0.0
        dot_max = st.dot_max
        index = afile = None
        graph = None
        if not self.exact and n:
            index, dot_max = self._build_annoy(vec[:n], sq)
            afile = self._map_index(index, vec[:n])
            if afile is not None and self.search == "graph" and n >= self.GRAPH_MIN_ITEMS:
                graph = self._build_graph(vec[:n], afile)
        n_idx = 0 if index is None else n
        self._state = StoreState(metric=self.metric, vec=vec, keys=keys, alive=alive_buf, n=n,
                                 keymap=keymap, meta=meta, index=index, afile=afile, n_indexed=n_idx,
                                 n_alive_indexed=n_idx, n_alive_delta=n - n_idx, dot_max=dot_max,
                                 norm_max=norm_max, graph=graph)

    def _seed(self) -> int:
        rs = self.random_state
        if rs is None:
            return int(np.random.default_rng().integers(0, 2**31 - 1))
        return int(rs) if _is_int(rs) else int(check_random_state(rs).integers(0, 2**31 - 1))

    def _build_graph(self, vec: np.ndarray, afile: AnnoyFile) -> GraphIndex:
        """The neighbour graph over the indexed vectors (see :mod:`nnstore._graph_search`)."""
        graph, order = build_graph(vec, self.metric, afile, degree=self.GRAPH_DEGREE,
                                   n_threads=self._threads(None), seed=self._seed(),
                                   exact_budget=self.GRAPH_EXACT_BUDGET)
        logger.debug("built the neighbour graph: %d vectors, degree %d", len(vec), graph.shape[1])
        return GraphIndex(graph, order, vec, self.metric)

    @staticmethod
    def _check_n_jobs(n_jobs: Any) -> None:
        if n_jobs is not None and (not _is_int(n_jobs) or n_jobs == 0):
            raise ValueError(f"n_jobs must be None, -1 or a positive int, got {n_jobs!r}")

    def _threads(self, n_jobs: int | None) -> int:
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        if n_jobs is None or n_jobs < 0:
            return os.cpu_count() or 1
        return max(1, int(n_jobs))

    def _build_annoy(self, vec: np.ndarray, sq: np.ndarray):
        """(Annoy index over ``vec``, the dot augmentation's M)."""
        from annoy import AnnoyIndex

        f = self.dim + (self.metric == "dot")
        index = AnnoyIndex(f, _ANNOY_METRIC[self.metric])
        if self.random_state is not None:
            rs = self.random_state
            seed = int(rs) if _is_int(rs) else int(check_random_state(rs).integers(0, 2**31 - 1))
            index.set_seed(seed % (2**31 - 1))
        dot_max = 0.0
        if self.metric == "dot":
            dot_max = float(np.sqrt(sq.max()))
            m2 = np.float32(dot_max) ** 2
        add = index.add_item
        for s in range(0, len(vec), _ADD_CHUNK):
            block = vec[s:s + _ADD_CHUNK]
            if self.metric == "dot":
                extra = np.sqrt(np.maximum(m2 - sq[s:s + _ADD_CHUNK], 0.0))
                block = np.hstack([block, extra[:, None].astype(np.float32)])
            # each row as a slice of a flat float32 memoryview: Annoy reads it as a sequence of
            # floats, without building a list of Python floats per row (30% less time)
            flat = memoryview(np.ascontiguousarray(block, dtype=np.float32).reshape(-1))
            for r in range(len(block)):
                add(s + r, flat[r * f:(r + 1) * f])
        index.build(self.n_trees, n_jobs=self._threads(None) if self.random_state is None else 1)
        logger.debug("built Annoy index: %d vectors, %d trees", len(vec), self.n_trees)
        return index, dot_max

    def _map_index(self, index, vec: np.ndarray) -> AnnoyFile | None:
        """The compiled search's view of ``index`` (built in memory over ``vec``).

        Annoy saves the index to a temporary file and then maps itself onto it,
        so both read the same pages; the file is unlinked at once and its space
        freed when both let go. The file is validated, and one query must get the
        same answer from both. None if anything fails: queries then go through
        Annoy's own binding, with the same answers.
        """
        f = self.dim + (self.metric == "dot")
        try:
            fd, tmp = tempfile.mkstemp(prefix="nnstore-", suffix=".ann")
            os.close(fd)
            try:
                index.save(tmp)
                af = AnnoyFile(tmp, f, _ANNOY_METRIC[self.metric])
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except (OSError, ValueError) as e:  # no temp space, or a file this code cannot read
            logger.warning("nnstore: compiled search unavailable (%s); querying through Annoy", e)
            return None
        factor = self.DOT_SEARCH_K_FACTOR if self.metric == "dot" else 1
        if not annoy_self_check(index, af, vec, self.metric, len(vec), self.n_trees * factor):
            logger.warning("nnstore: compiled search unavailable (it answers a self-check query "
                           "unlike Annoy); querying through Annoy")
            return None
        return af

    # -- queries --------------------------------------------------------------------
    def _fastcall_for(self, st: StoreState) -> _FastCall:
        """What :meth:`query_arrays`'s single-query fast path needs for version ``st``, built once
        per version and kept on it (``st.fastcall``). Every array is a plain C-contiguous ndarray
        (numba dispatches those fastest)."""
        af = st.fast
        gr = st.graph
        if af is None:
            fc = _FastCall(None, None, (self.dim,), 0, 0, 0, 0)
        else:
            one = None if gr is None else OneQuery(gr, af.nodes, af.roots, self.GRAPH_ENTRY_PER_LEAF)
            fc = _FastCall(one, (af.nodes, af.roots, af.kind, af.n_items), (self.dim,), af.n_items,
                           self.GRAPH_ENTRY_WIDE_EF, self._entry_trees(0),
                           self._entry_trees(self.GRAPH_ENTRY_WIDE_EF))
        st.fastcall = fc
        return fc

    def _entry_trees(self, ef: int) -> int:
        """Trees descended for the graph search's entry points at beam width ``ef``: one more
        from ``GRAPH_ENTRY_WIDE_EF`` on, three times more for dot (maximum inner product
        answers lie at the rim of the data, where a descent often misses)."""
        base = self.GRAPH_ENTRY_TREES + (ef >= self.GRAPH_ENTRY_WIDE_EF)
        return min(self.n_trees, base * (3 if self.metric == "dot" else 1))

    def _default_ef(self, k: int) -> int:
        """The graph search's beam width when none is given (the store's ``ef``, else the default)."""
        if self.ef is not None:
            return max(self.ef, k)
        f = self.DOT_SEARCH_K_FACTOR if self.metric == "dot" else 1
        return f * max(self.GRAPH_EF, math.ceil(self.GRAPH_EF_PER_K * k))

    @staticmethod
    def _check_ef(ef: Any) -> int | None:
        if ef is None:
            return None
        if not _is_int(ef) or ef <= 0:
            raise ValueError(f"ef must be None or a positive int, got {ef!r}")
        return int(ef)

    def _default_search_k(self, k: int) -> int:
        """search_k when none is given: ``n_trees * k``, times ``DOT_SEARCH_K_FACTOR`` for dot."""
        return self.n_trees * k * (self.DOT_SEARCH_K_FACTOR if self.metric == "dot" else 1)

    @staticmethod
    def _check_k(k: Any) -> int:
        if not _is_int(k) or k <= 0:
            raise ValueError(f"k must be a positive int, got {k!r}")
        return int(k)

    @staticmethod
    def _check_search_k(search_k: Any) -> int | None:
        if search_k is None:
            return None
        if not _is_int(search_k) or search_k <= 0:
            raise ValueError(f"search_k must be None or a positive int, got {search_k!r}")
        return int(search_k)

    @staticmethod
    def _check_width(k: int, nq: int, n_alive: int) -> None:
        """Refuse a k so far past the store's size that the padded arrays would not fit."""
        if k > n_alive and nq * k > _MAX_PADDED:
            raise ValueError(
                f"k={k} is larger than the store ({n_alive} vectors): query_arrays would return "
                f"({nq}, {k}) arrays padded with None/inf/-1 ({nq * k:,} entries each); pass "
                "k <= len(store), or use query(), which returns only the rows found")

    @staticmethod
    def _pad(slots: np.ndarray, dists: np.ndarray, k: int):
        nq, w = slots.shape
        if w >= k:
            return slots, dists
        return (np.hstack([slots, np.full((nq, k - w), -1, dtype=np.int64)]),
                np.hstack([dists, np.full((nq, k - w), np.inf, dtype=np.float32)]))

    def _valid_mask(self, st: StoreState, filter: Any,
                    exclude_slots: np.ndarray | None) -> np.ndarray | None:
        """Alive & passing & not globally excluded, over slots; None when all slots qualify."""
        n = st.n
        mask = None
        if filter is not None:
            meta = st.meta if st.meta is not None else pd.DataFrame(index=pd.RangeIndex(n))
            mask = evaluate_filter(filter, meta) & st.alive[:n]
        elif st.n_alive != n:
            mask = st.alive[:n].copy()
        if exclude_slots is not None and len(exclude_slots):
            if mask is None:
                mask = np.ones(n, dtype=bool)
            mask[exclude_slots] = False
        return mask

    @staticmethod
    def _exclusions(st: StoreState, exclude: Any, nq: int) -> tuple[np.ndarray | None, list | None]:
        """(slots excluded for every query, per-query slot arrays) from ``exclude``."""
        if exclude is None:
            return None, None
        if isinstance(exclude, (str, bytes)) or not isinstance(exclude, Iterable):
            raise TypeError(f"exclude must be a collection of keys, or one collection of keys per "
                            f"query, got {type(exclude).__name__}: {exclude!r}")
        items = list(exclude)
        colls = (list, set, frozenset, np.ndarray, pd.Index)
        per_query = len(items) == nq and all(x is None or isinstance(x, colls) for x in items)
        if not per_query and items and all(x is None or isinstance(x, colls) for x in items):
            raise ValueError(f"exclude holds {len(items)} collections of keys but there are {nq} "
                             "queries (one collection per query, or one flat collection of keys)")
        get = st.keymap.get

        def to_slots(ks):
            try:
                s = [get(k) for k in ks] if ks is not None else []
            except TypeError as e:
                raise TypeError(f"exclude: keys must be hashable: {e}") from e
            return np.array([x for x in s if x >= 0], dtype=np.int64)

        if per_query:
            return None, [to_slots(x) for x in items]
        return to_slots(items), None

    def _annoy_batch(self, st: StoreState, q: np.ndarray, k_fetch: int, search_k: int,
                     n_threads: int, ef: int | None = None):
        """(ids (nq, k_fetch) int64 with -1, store distances float32 with inf) from the index:
        the graph search with beam ``ef`` when given (and the state has a graph), else the trees."""
        nq = len(q)
        n_threads = min(n_threads, max(1, nq // self.MIN_QUERIES_PER_THREAD))
        af = st.afile
        gr = st.graph
        if ef is not None and gr is not None:
            ids = np.empty((nq, k_fetch), dtype=np.int64)
            dist = np.empty((nq, k_fetch), dtype=np.float32)
            q = np.ascontiguousarray(q, dtype=np.float32)
            mq, ne = st.max_qq, self._entry_trees(ef)
            refused = [0]

            def gchunk(s: int, e: int) -> None:
                refused[0] += gr.search(af, q[s:e], k_fetch, ef, ne, self.GRAPH_ENTRY_PER_LEAF, ids[s:e],
                                        dist[s:e], mq)

            self._in_chunks(gchunk, nq, n_threads)
            if refused[0]:
                raise ValueError(f"vectors: {refused[0]} queries refused by the search kernel (NaN, "
                                 "inf or a magnitude whose distances overflow float32)")
            return ids, dist
        if af is not None:
            # the compiled search: one call per chunk of queries, no Python per query,
            # no GIL held (so the chunks run in parallel on the thread pool)
            ids = np.empty((nq, k_fetch), dtype=np.int64)
            dist = np.empty((nq, k_fetch), dtype=np.float32)
            q = np.ascontiguousarray(q, dtype=np.float32)
            post, c, mq = _POST[self.metric], st.post_c, st.max_qq
            refused = [0]

            def chunk(s: int, e: int) -> None:
                refused[0] += search_many(af.nodes, af.roots, af.kind, af.n_items, q[s:e], k_fetch,
                                          search_k, ids[s:e], dist[s:e], post, c, mq)

            self._in_chunks(chunk, nq, n_threads)
            if refused[0]:  # the checks before make this unreachable; never answer silently empty
                raise ValueError(f"vectors: {refused[0]} queries refused by the search kernel (NaN, "
                                 "inf or a magnitude whose distances overflow float32)")
            return ids, dist
        index = st.index
        if self.metric == "dot":
            q = np.hstack([q, np.zeros((nq, 1), dtype=np.float32)])
        elif self.metric == "cosine":  # scale-free: unit queries keep Annoy's float32 sums finite
            qn = np.sqrt(np.einsum("ij,ij->i", q, q, dtype=np.float64))[:, None]
            q = np.divide(q, qn, out=np.zeros(q.shape), where=qn > 0).astype(np.float32)
        rows = q.tolist()
        get = index.get_nns_by_vector
        res: list = [None] * nq
        lock = self._binding_lock

        def work(s: int, e: int) -> None:
            # only Annoy calls in the loop; the lock keeps save() from re-mapping the index under it
            with lock:
                res[s:e] = [get(rows[i], k_fetch, search_k, True) for i in range(s, e)]

        self._in_chunks(work, nq, n_threads)
        if nq and all(len(r[0]) == k_fetch for r in res):
            ids = np.array([r[0] for r in res], dtype=np.int64).reshape(nq, k_fetch)
            dist = np.array([r[1] for r in res], dtype=np.float64).reshape(nq, k_fetch)
        else:  # some queries got fewer than k_fetch (tiny index or search_k): pad
            ids = np.full((nq, k_fetch), -1, dtype=np.int64)
            dist = np.full((nq, k_fetch), np.inf, dtype=np.float64)
            for i, (r, d) in enumerate(res):
                if len(r):
                    ids[i, :len(r)] = r
                    dist[i, :len(r)] = d
        # Annoy distance -> store distance, in float64 like the single-query fast path, then float32
        if self.metric == "cosine":  # Annoy's angular distance is sqrt(2 - 2 cos)
            dist = np.square(dist) * 0.5
        elif self.metric == "dot":  # |q'-x'|^2 = |q|^2 + M^2 - 2 q.x
            qsq = np.einsum("ij,ij->i", q, q).astype(np.float64)[:, None]
            dist = (np.square(dist) - (qsq + st.post_c)) * 0.5
        dist = dist.astype(np.float32)
        dist[ids < 0] = np.inf
        return ids, dist

    @staticmethod
    def _in_chunks(work, nq: int, n_threads: int) -> None:
        """Run ``work(start, end)`` over ``range(nq)``: inline, or 4 chunks per thread."""
        if n_threads <= 1:
            work(0, nq)
            return
        bounds = np.linspace(0, nq, n_threads * 4 + 1).astype(int)
        with ThreadPoolExecutor(n_threads) as ex:
            for f in [ex.submit(work, int(a), int(b)) for a, b in itertools.pairwise(bounds)]:
                f.result()

    def _search(self, q: np.ndarray, k: int, *, filter: Any = None, exclude: Any = None,
                self_slots: np.ndarray | None = None, search_k: int | None = None,
                n_jobs: int | None = None, force_exact: bool = False, st: StoreState | None = None,
                ef: int | None = None):
        """(slots (nq, k) int64 with -1, distances (nq, k) float32 with inf), over version ``st``
        (default: the current one, after any automatic rebuild)."""
        if st is None:
            if not force_exact:
                self._maybe_rebuild()
            st = self._state
        nq = len(q)
        glob_ex, per_ex = self._exclusions(st, exclude, nq)
        ss = self_slots
        valid = self._valid_mask(st, filter, glob_ex)
        n, n_idx = st.n, st.n_indexed
        use_exact = force_exact or self.exact or st.index is None
        if not use_exact and valid is not None and filter is not None:
            # cost model: exact = n_pass BLAS distances per query; Annoy = about search_k
            # node visits, each far dearer than one BLAS distance (FILTER_EXACT_COST_RATIO)
            n_pass_idx = int(valid[:n_idx].sum())
            frac = n_pass_idx / max(n_idx, 1)
            k_need = min(n_idx, math.ceil(k / max(frac, 1e-9) * self.FILTER_OVERFETCH))
            sk_need = self._default_search_k(k_need) if (search_k or self.search_k) is None else \
                (search_k or self.search_k) * k_need / k
            if n_pass_idx <= max(self.FILTER_EXACT_COUNT, self.FILTER_EXACT_COST_RATIO * sk_need):
                use_exact = True
        if use_exact:
            cand = np.flatnonzero(valid) if valid is not None else None
            return self._exact_over(st, q, k, cand, per_ex, ss)
        sk = search_k if search_k is not None else self.search_k
        # the graph, unless a search_k asks for the trees
        ef_base = None if (st.graph is None or sk is not None) else \
            (ef if ef is not None else self._default_ef(k))
        if valid is None and per_ex is None and ss is None and n == n_idx:
            # hot path: nothing to filter or merge; the kernels' lists are already sorted ascending
            kf = min(k, n_idx)
            ids, dist = self._annoy_batch(st, q, kf, self._default_search_k(kf) if sk is None else sk,
                                          self._threads(n_jobs),
                                          ef=None if ef_base is None else max(ef_base, kf))
            if ef_base is not None:  # a beam that found fewer than exist (a tiny component): exact
                short = np.flatnonzero(ids[:, kf - 1] < 0)
                if len(short):
                    ids[short], dist[short] = self._exact_over(st, q[short], kf, None, None)
            return self._pad(ids, dist, k)
        # Annoy over the indexed slots
        n_valid_idx = n_idx if valid is None else int(valid[:n_idx].sum())
        max_ex = max((len(p) for p in per_ex), default=0) if per_ex is not None else 0
        max_ex += ss is not None
        frac = n_valid_idx / max(n_idx, 1)
        k_fetch = k + max_ex
        if frac < 1.0:
            over = 1.0 if filter is None else self.FILTER_OVERFETCH
            k_fetch = math.ceil(k_fetch / max(frac, 1e-9) * over) + 2
        k_fetch = max(1, min(k_fetch, n_idx))
        sk = self._default_search_k(k_fetch) if sk is None else math.ceil(sk * k_fetch / k)
        ids, dist = self._annoy_batch(st, q, k_fetch, sk, self._threads(n_jobs),
                                      ef=None if ef_base is None else
                                      max(k_fetch, math.ceil(ef_base * k_fetch / k)))
        if valid is not None:
            bad = ids < 0
            bad |= ~valid[np.where(ids < 0, 0, ids)]
        else:
            bad = ids < 0
        if ss is not None:
            bad |= ids == ss[:, None]
        if per_ex is not None:
            for i, p in enumerate(per_ex):
                if len(p):
                    bad[i] |= np.isin(ids[i], p)
        dist[bad] = np.inf
        ids[bad] = -1
        slots, dists = _top_k(ids, dist, k)
        # complete queries left short of k (only when more valid indexed items exist)
        have = (slots >= 0).sum(axis=1)
        can = np.full(nq, n_valid_idx)
        if per_ex is not None:
            for i, p in enumerate(per_ex):
                pi = np.unique(p[p < n_idx])
                if ss is not None:
                    pi = pi[pi != ss[i]]
                can[i] -= int(valid[pi].sum()) if valid is not None else len(pi)
        if ss is not None:
            own = ss < n_idx
            if valid is not None:
                own &= valid[np.minimum(ss, n - 1)]
            can -= own
        short = np.flatnonzero(have < np.minimum(k, can))
        if len(short):
            logger.debug("%d of %d queries short of k from Annoy; completing exactly", len(short), nq)
            cand = np.flatnonzero(valid[:n_idx]) if valid is not None else np.arange(n_idx)
            s2, d2 = self._exact_over(st, q[short], k, cand,
                                      [per_ex[i] for i in short] if per_ex is not None else None,
                                      ss[short] if ss is not None else None)
            slots[short], dists[short] = s2, d2
        # the delta buffer, exactly
        if n > n_idx:
            dvalid = st.alive[n_idx:n] if valid is None else valid[n_idx:n]
            cand = np.flatnonzero(dvalid) + n_idx
            if len(cand):
                s2, d2 = self._exact_over(st, q, k, cand, per_ex, ss)
                slots, dists = _top_k(np.hstack([slots, s2]), np.hstack([dists, d2]), k)
        return slots, dists

    def _exact_over(self, st: StoreState, q: np.ndarray, k: int, cand: np.ndarray | None,
                    per_ex: list | None, self_slots: np.ndarray | None = None):
        """Exact search over slots ``cand`` (None: all slots 0..n-1), minus per-query exclusions."""
        if cand is not None and not len(cand):
            return (np.full((len(q), k), -1, dtype=np.int64),
                    np.full((len(q), k), np.inf, dtype=np.float32))
        if cand is None:
            base = st.vec[:st.n]
            ex = per_ex
            one = self_slots
        else:
            base = st.vec[cand]
            ex = None
            if per_ex is not None:
                ex = [np.searchsorted(cand, p[np.isin(p, cand)]) for p in per_ex]
            one = None
            if self_slots is not None:
                pos = np.minimum(np.searchsorted(cand, self_slots), len(cand) - 1)
                one = np.where(cand[pos] == self_slots, pos, -1)
        rows, dist = exact_search(q, base, k, self.metric, exclude=ex, exclude_one=one)
        if cand is not None:
            rows = np.where(rows >= 0, cand[np.where(rows >= 0, rows, 0)], -1)
        return rows, dist

    @staticmethod
    def _output(st: StoreState, slots: np.ndarray, dists: np.ndarray):
        ok = slots >= 0
        if st.n == 0:
            return (np.full(slots.shape, None, dtype=object), dists.astype(np.float32, copy=False),
                    np.full(slots.shape, -1, dtype=np.int64))
        allok = bool(ok.all())
        s = slots if allok else np.where(ok, slots, 0)
        keys = st.keys[s]
        # no dead slots: positions are the slots themselves (``slots`` is this call's own array)
        pos = s if st.n_alive == st.n else st.positions()[s]
        if not allok:
            keys[~ok] = None
            pos[~ok] = -1
        return keys, dists.astype(np.float32, copy=False), pos

    def _query_vectors(self, vectors: Any, st: StoreState):
        """(float32 queries, their keys or None), checked against version ``st``'s magnitudes."""
        if (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.ndim in (1, 2)
                and vectors.shape[-1] == self.dim and np.isfinite(vectors).all()):
            q, qkeys = np.ascontiguousarray(vectors.reshape(-1, self.dim)), None  # fast path
        else:
            q, qkeys = check_vectors(vectors, dim=self.dim, name="vectors", allow_empty=True)
        check_query_magnitude(q, st)
        return q, qkeys

    def _checked_call(self, k: Any, search_k: Any, n_jobs: Any, ef: Any = None) -> int:
        k = self._check_k(k)
        self._check_search_k(search_k)
        self._check_ef(ef)
        self._check_n_jobs(n_jobs)
        return k

    def query_arrays(self, vectors: Any, k: int = 10, *, filter: Any = None, exclude: Any = None,
                     search_k: int | None = None, n_jobs: int | None = None, ef: int | None = None):
        """Hot-path batch query.

        Parameters
        ----------
        vectors : array-like of shape (n_queries, dim) or an embeddings DataFrame
        k : int
            Results per query (> 0). Past the store's size the arrays are padded;
            a k so large that the padding would not fit in memory is refused.
        filter : expression from :func:`nnstore.col`, callable(meta) -> bool mask, or None
        exclude : iterable of keys never returned, or a list with one collection of
            keys (list/set/array/None) per query
        search_k : int, optional
            Overrides the store's ``search_k`` (> 0; scaled up with any over-fetch). Given
            (here or to the store), the query walks the Annoy trees even when the store
            has a graph.
        ef : int, optional
            Beam width of the graph search (``search="graph"``; >= k is used), overriding
            the store's ``ef``; larger: higher recall, slower.
        n_jobs : int, optional
            Query threads for this call.

        Returns
        -------
        keys : object ndarray of shape (n_queries, k); None past the last result
        distances : float32 ndarray of shape (n_queries, k); inf past the last result
        positions : int64 ndarray of shape (n_queries, k); index into ``store.keys``; -1
        """
        if type(k) is not int or k <= 0:
            k = self._check_k(k)
        st = self._state
        fc = st.fastcall
        if fc is None:
            fc = self._fastcall_for(st)
        if (fc.n_items and filter is None and exclude is None and n_jobs is None
                and type(vectors) is np.ndarray and vectors.dtype is _F32 and vectors.shape == fc.shape
                and vectors.flags.c_contiguous and k <= fc.n_items):
            # one clean query (no filter, exclusions, delta or tombstones: ``st.fast``) straight to
            # a compiled kernel; slots are positions. Inline on purpose: the per-call overhead is
            # what counts here. (A strided or other-dtype vector takes the checked path, which
            # copies it: a strided layout would compile a kernel whose float sums, in another
            # order, could differ in the last bit.) Anything odd falls through to the checks.
            m = -1
            one = fc.graph_call
            if one is not None and search_k is None and self.search_k is None:
                if ef is None:
                    e = self._default_ef(k)
                elif type(ef) is int and ef > 0:
                    e = ef if ef > k else k
                else:
                    e = 0  # the checked path below raises
                if e:
                    slots = np.empty((1, k), _I64)
                    dist = np.empty((1, k), _F32)
                    tab = one.take()
                    m = search_one_table(tab, vectors, k, e, fc.entry_trees if e < fc.wide_ef
                                         else fc.entry_trees_wide, st.max_qq, slots, dist)
                    one.give(tab)
            elif (fc.tree_args is not None and (search_k is None or (type(search_k) is int and search_k > 0))
                  and (ef is None or (type(ef) is int and ef > 0))):
                if search_k is None:
                    search_k = self._default_search_k(k) if self.search_k is None else self.search_k
                slots = np.empty((1, k), _I64)
                dist = np.empty((1, k), _F32)
                m = search_one(*fc.tree_args, vectors, k, search_k, slots[0], dist[0], _POST[self.metric],
                               st.post_c, st.max_qq)
            if m == k:
                return st.keys[slots], dist, slots
            if m >= 0:  # fewer than k indexed items reachable: -1 slots, None keys
                keys = st.keys[slots]
                keys[0, m:] = None
                return keys, dist, slots
            # m == -1: not taken, or NaN, inf or too large a query: the checked path below raises
        k = self._checked_call(k, search_k, n_jobs, ef)
        self._maybe_rebuild()
        st = self._state
        q, _ = self._query_vectors(vectors, st)
        self._check_width(k, len(q), st.n_alive)
        kk = max(1, min(k, st.n_alive))
        slots, dists = self._search(q, kk, filter=filter, exclude=exclude, search_k=search_k,
                                    n_jobs=n_jobs, st=st, ef=ef)
        return self._output(st, *self._pad(slots, dists, k))

    def query_keys_arrays(self, keys: Any, k: int = 10, *, exclude_self: bool = True,
                          filter: Any = None, exclude: Any = None, search_k: int | None = None,
                          n_jobs: int | None = None, ef: int | None = None):
        """Like :meth:`query_arrays`, querying with stored keys' vectors."""
        k = self._checked_call(k, search_k, n_jobs, ef)
        if not isinstance(exclude_self, (bool, np.bool_)):
            raise TypeError(f"exclude_self must be a bool, got {type(exclude_self).__name__}")
        self._maybe_rebuild()  # before taking slots: a rebuild renumbers them
        st = self._state
        qslots = self._slots(st, keys)
        self._check_width(k, len(qslots), st.n_alive)
        q = np.ascontiguousarray(st.vec[qslots])
        kk = max(1, min(k, st.n_alive))
        slots, dists = self._search(q, kk, filter=filter, exclude=exclude,
                                    self_slots=qslots if exclude_self else None,
                                    search_k=search_k, n_jobs=n_jobs, st=st, ef=ef)
        return self._output(st, *self._pad(slots, dists, k))

    @staticmethod
    def _frame(query_ids: Any, keys: np.ndarray, dists: np.ndarray) -> pd.DataFrame:
        nq, k = keys.shape
        ok = (keys != None).ravel()  # noqa: E711 - elementwise on an object array
        qids = np.repeat(query_ids if isinstance(query_ids, np.ndarray) else _objects(query_ids), k)
        out = pd.DataFrame({
            "query": key_index(qids[ok].tolist()) if qids.dtype == object else qids[ok],
            "rank": np.tile(np.arange(k, dtype=np.int64), nq)[ok],
            "key": key_index(keys.ravel()[ok].tolist()),
            "distance": dists.ravel()[ok],
        })
        return out

    def query(self, vectors: Any, k: int = 10, *, filter: Any = None, exclude: Any = None,
              search_k: int | None = None, n_jobs: int | None = None,
              ef: int | None = None) -> pd.DataFrame:
        """Batch query; a DataFrame with columns query, rank, key, distance (ascending).

        ``query`` is the query's row number, or its index label when ``vectors``
        is a DataFrame. Queries with fewer than k results have fewer rows.
        """
        k = self._checked_call(k, search_k, n_jobs, ef)
        self._maybe_rebuild()
        st = self._state
        q, qkeys = self._query_vectors(vectors, st)
        kk = max(1, min(k, st.n_alive))
        slots, dists = self._search(q, kk, filter=filter, exclude=exclude, search_k=search_k,
                                    n_jobs=n_jobs, st=st, ef=ef)
        keys, dists, _ = self._output(st, slots, dists)
        qids = np.arange(len(q), dtype=np.int64) if qkeys is None else list(qkeys)
        return self._frame(qids, keys, dists)

    def query_keys(self, keys: Any, k: int = 10, *, exclude_self: bool = True, filter: Any = None,
                   exclude: Any = None, search_k: int | None = None,
                   n_jobs: int | None = None, ef: int | None = None) -> pd.DataFrame:
        """Batch query by stored keys; DataFrame (query = the query key, rank, key, distance)."""
        qidx = check_keys(keys, name="keys", unique=False)
        k = self._checked_call(k, search_k, n_jobs, ef)
        kk = max(1, min(k, len(self)))
        rkeys, dists, _ = self.query_keys_arrays(qidx, kk, exclude_self=exclude_self, filter=filter,
                                                 exclude=exclude, search_k=search_k, n_jobs=n_jobs,
                                                 ef=ef)
        return self._frame(list(qidx), rkeys, dists)

    def recall_at_k(self, queries: Any, k: int = 10, *, filter: Any = None,
                    search_k: int | None = None, ef: int | None = None) -> float:
        """Mean recall@k of the store's answers against exact search over the same store.

        For each query, the fraction of its exact k nearest alive (and passing)
        items that the approximate query returns. 1.0 in exact mode.
        """
        k = self._checked_call(k, search_k, None, ef)
        self._maybe_rebuild()
        st = self._state
        q, _ = self._query_vectors(queries, st)
        kk = max(1, min(k, st.n_alive))
        approx, _ = self._search(q, kk, filter=filter, search_k=search_k, st=st, ef=ef)
        truth, _ = self._search(q, kk, filter=filter, force_exact=True, st=st)
        from .metrics import recall_at_k as _recall

        vals = [_recall(a[a >= 0], t[t >= 0], k) for a, t in zip(approx, truth, strict=True)
                if (t >= 0).any()]
        return float(np.mean(vals)) if vals else float("nan")

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as an artifact directory (kind ``"neighbor_store"``); returns its path.

        Files: ``index.ann`` (Annoy), ``vectors.npy`` (every slot), ``keys.parquet``
        (key per slot, through the one key serialiser: str, int, float, mixed
        and tuple keys keep their types; plus the alive flag),
        ``metadata.parquet`` (if any), ``state.json`` (indexed count, dot scale).
        The delta buffer and tombstones are saved as they are. The version
        saved is the one current when ``save`` starts; other threads may go on
        querying and writing. Saving over the directory the store was loaded
        from works: everything is written to a temporary sibling directory
        first, fsynced, then swapped in (see :class:`nnstore.ArtifactWriter`).
        Afterwards the store reads its index from the saved file.
        """
        self._maybe_rebuild()
        path = Path(path)
        st = self._state
        n = st.n
        frame = keys_to_frame(st.keys[:n])
        frame["alive"] = st.alive[:n]
        counts = {"n": st.n_alive, "slots": n, "indexed": st.n_indexed,
                  "delta": st.n_alive_delta, "tombstones": st.n_indexed - st.n_alive_indexed}
        required = list(REQUIRED) + (["index.ann"] if st.index is not None else []) + \
            (list(GRAPH_FILES) if st.graph is not None else [])
        with ArtifactWriter(path, kind=KIND, params=self.get_params(), required=required,
                            dim=self.dim, metric=self.metric, counts=counts) as w:
            w.save_array("vectors", st.vec[:n])
            w.save_frame("keys", frame)
            if st.meta is not None:
                w.save_frame("metadata", st.meta)
            w.save_json("state", {"n_indexed": st.n_indexed, "dot_max": st.dot_max,
                                  "annoy_dim": self.dim + (self.metric == "dot"),
                                  "graph": st.graph is not None})
            if st.graph is not None:
                w.save_array("graph", st.graph.graph)
                w.save_array("graph_order", st.graph.perm)
            if st.index is not None:
                write_index_file(st, w.file_path("index.ann"), self._binding_lock)
                w.add_file("index.ann")
        if st.index is not None:
            self._follow_saved_index(st, path / "index.ann")
        logger.info("saved %r to %s", self, path)
        return path

    def _follow_saved_index(self, st: StoreState, path: Path) -> None:
        """Read the index from the saved file from now on (it lives in the artifact, shared
        through the page cache with every process that loads it), unless a writer has
        replaced the index meanwhile."""
        from annoy import AnnoyIndex

        f = self.dim + (self.metric == "dot")
        try:
            afile = AnnoyFile(path, f, _ANNOY_METRIC[self.metric])
            index = st.index
            if st.afile is not None:  # Annoy's save() re-mapped the index already otherwise
                index = AnnoyIndex(f, _ANNOY_METRIC[self.metric])
                index.load(str(path))
        except (OSError, ValueError) as e:  # pragma: no cover - a file we just wrote and checked
            logger.warning("nnstore: keeps its index in memory (%s)", e)
            return
        with self._wlock:
            cur = self._state
            if cur.index is st.index:
                self._state = cur.evolve(index=index, afile=afile)

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True, *, dim: int | None = None,
             metric: str | None = None, verify: bool = True) -> NeighborStore:
        """Load a saved store; it still accepts add, delete and rebuild.

        Parameters
        ----------
        path : artifact directory written by :meth:`save`
        mmap : bool, default True
            Memory-map the Annoy index and the vector matrix (shared between
            processes); False reads the vectors into memory and prefaults the
            index. Either way the index file is validated once (one pass over it).
        dim, metric : optional
            Expected dimension/metric; a different one raises ``ValueError``.
        verify : bool, default True
            Check the files' sha256 (see :func:`nnstore.read_artifact`). The
            content checks (shapes, key uniqueness, the index's structure) run
            either way, so a damaged file is an error, never a crash.

        Raises
        ------
        ArtifactError
            For a missing, damaged, edited or inconsistent artifact (``reason``
            says which; ``invalid_content`` for files that are intact but do not
            fit together).
        """
        for name, val in (("mmap", mmap), ("verify", verify)):
            if not isinstance(val, (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {type(val).__name__}: {val!r}")
        if dim is not None and (not _is_int(dim) or dim <= 0):
            raise ValueError(f"dim must be None or a positive int, got {dim!r}")
        if metric is not None and metric not in METRICS:
            raise ValueError(f"metric must be None or one of {METRICS}, got {metric!r}")
        art = read_artifact(path, kind=KIND, verify=verify, required=REQUIRED)
        p = dict(art.params)
        if isinstance(p, dict) and "search" not in p:  # saved before graph search: the trees
            p["search"] = "annoy"
        try:
            store = cls(**p)
        except (TypeError, ValueError) as e:
            raise ArtifactError(f"store artifact {str(art.path)!r}: its params {p} are not a "
                                f"NeighborStore's: {e}", reason="malformed_manifest",
                                path=str(art.path / "manifest.json")) from e
        if dim is not None and int(dim) != store.dim:
            raise ValueError(f"store at {str(path)!r} has dim {store.dim}, but dim={dim} was asked for")
        if metric is not None and metric != store.metric:
            raise ValueError(f"store at {str(path)!r} has metric {store.metric!r}, "
                             f"but metric={metric!r} was asked for")
        store._state = load_state(art, dim=store.dim, metric=store.metric, exact=store.exact,
                                  n_trees=store.n_trees, mmap=bool(mmap),
                                  search_k_factor=cls.DOT_SEARCH_K_FACTOR)
        if store._state.graph is not None and store.search != "graph":
            raise ArtifactError(f"store artifact {str(art.path)!r}: holds a graph but its params say "
                                f"search={store.search!r}", reason="invalid_content",
                                path=str(art.path / "graph.npy"))
        return store


def _objects(items: list) -> np.ndarray:
    """A 1-D object array of ``items`` (tuples stay elements, not rows)."""
    return np.fromiter(items, dtype=object, count=len(items))


def _top_k(ids: np.ndarray, dist: np.ndarray, k: int):
    """Per row, the k smallest distances (stable), padding with -1/inf."""
    nq, m = ids.shape
    if m > k:
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        ids = np.take_along_axis(ids, part, axis=1)
        dist = np.take_along_axis(dist, part, axis=1)
    order = np.argsort(dist, axis=1, kind="stable")
    ids = np.take_along_axis(ids, order, axis=1)
    dist = np.take_along_axis(dist, order, axis=1)
    if ids.shape[1] < k:
        ids = np.hstack([ids, np.full((nq, k - ids.shape[1]), -1, dtype=np.int64)])
        dist = np.hstack([dist, np.full((nq, k - dist.shape[1]), np.inf, dtype=np.float32)])
    ids = ids.copy()
    ids[~np.isfinite(dist)] = -1
    return ids, dist
