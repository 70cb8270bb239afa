"""NeighborStore: an Annoy-backed neighbour store without Annoy's limits.

Annoy gives fast approximate search over a memory-mapped index file, but the
index is frozen after ``build``, takes dense integer ids (memory for
``max(id) + 1``), has no delete, no filter and no batch query. The store keeps
Annoy for the bulk of the vectors and adds what is missing around it:

* **Keys.** Any hashable (str, int, ...). Every stored vector lives in a
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
* **Exact mode.** ``exact=True`` keeps no Annoy index: every query is a
  blocked float32 matrix product (:mod:`nnstore._exact`). The same code gives
  the ground truth of :meth:`NeighborStore.recall_at_k`.

Concurrency: any number of threads may query one store at once. ``add``,
``delete``, ``rebuild`` and ``save`` must not run concurrently with queries
or with each other (take your own lock if you mix them).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import tempfile
import threading
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._annoy_search import POST_DOT, POST_HALF, POST_NONE, POST_SQRT, AnnoyFile, search_many, search_one
from ._artifact import ArtifactWriter, read_artifact
from ._exact import exact_search
from ._filters import evaluate_filter
from ._validation import check_keys, check_random_state, check_vectors

__all__ = ["NeighborStore"]

logger = logging.getLogger(__name__)

KIND = "neighbor_store"
METRICS = ("cosine", "euclidean", "dot", "manhattan")
_ANNOY_METRIC = {"cosine": "angular", "euclidean": "euclidean", "dot": "euclidean",
                 "manhattan": "manhattan"}
_POST = {"cosine": POST_HALF, "euclidean": POST_SQRT, "dot": POST_DOT, "manhattan": POST_NONE}
_ADD_CHUNK = 16384
_F32 = np.dtype(np.float32)
_I64 = np.dtype(np.int64)


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
        Seeds Annoy's tree building: same seed, same data -> same index.

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

    def __init__(self, dim: int, *, metric: str = "cosine", n_trees: int = 50,
                 search_k: int | None = None, exact: bool = False, rebuild_threshold: float = 0.2,
                 n_jobs: int | None = None, random_state: int | None = None) -> None:
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim <= 0:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
        if not isinstance(n_trees, (int, np.integer)) or n_trees <= 0:
            raise ValueError(f"n_trees must be a positive int, got {n_trees!r}")
        if search_k is not None and (not isinstance(search_k, (int, np.integer)) or search_k <= 0):
            raise ValueError(f"search_k must be None or a positive int, got {search_k!r}")
        if not (isinstance(rebuild_threshold, (int, float)) and rebuild_threshold >= 0):
            raise ValueError(f"rebuild_threshold must be a float >= 0, got {rebuild_threshold!r}")
        if n_jobs is not None and (not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0):
            raise ValueError(f"n_jobs must be None, -1 or a positive int, got {n_jobs!r}")
        check_random_state(random_state)
        self.dim = int(dim)
        self.metric = metric
        self.n_trees = int(n_trees)
        self.search_k = None if search_k is None else int(search_k)
        self.exact = bool(exact)
        self.rebuild_threshold = float(rebuild_threshold)
        self.n_jobs = n_jobs
        self.random_state = random_state
        # slot state
        self._vec = np.empty((0, self.dim), dtype=np.float32)
        self._keys = np.empty(0, dtype=object)
        self._alive = np.zeros(0, dtype=bool)
        self._n = 0
        self._slot_of: dict[Hashable, int] = {}
        self._meta: pd.DataFrame | None = None
        # index state
        self._index = None
        self._afile: AnnoyFile | None = None  # the index's file, for the compiled search
        self._n_indexed = 0
        self._n_alive_indexed = 0
        self._n_alive_delta = 0
        self._dot_max = 0.0
        self._lock = threading.RLock()
        self._pos_cache: np.ndarray | None = None

    # -- basics ---------------------------------------------------------------------
    def get_params(self) -> dict:
        """The constructor parameters (JSON types)."""
        rs = self.random_state if isinstance(self.random_state, (int, np.integer)) else None
        return {"dim": self.dim, "metric": self.metric, "n_trees": self.n_trees,
                "search_k": self.search_k, "exact": self.exact,
                "rebuild_threshold": self.rebuild_threshold, "n_jobs": self.n_jobs,
                "random_state": rs}

    def __len__(self) -> int:
        return self._n_alive_indexed + self._n_alive_delta

    def __contains__(self, key: Hashable) -> bool:
        try:
            return key in self._slot_of
        except TypeError:
            return False

    def __repr__(self) -> str:
        return (f"NeighborStore(dim={self.dim}, metric={self.metric!r}, n={len(self)}, "
                f"indexed={self._n_indexed}, delta={self._n_alive_delta}, "
                f"tombstones={self._n_indexed - self._n_alive_indexed}, exact={self.exact})")

    @property
    def keys(self) -> pd.Index:
        """The alive keys, in slot order (the order ``positions`` refer to)."""
        return pd.Index(self._keys[:self._n][self._alive[:self._n]].tolist(), tupleize_cols=False)

    @property
    def n_delta(self) -> int:
        """Alive vectors not yet in the Annoy index (searched exactly)."""
        return self._n_alive_delta

    @property
    def n_tombstones(self) -> int:
        """Deleted or replaced vectors still in the Annoy index."""
        return self._n_indexed - self._n_alive_indexed

    def _slots(self, keys: Any, name: str = "keys") -> np.ndarray:
        idx = check_keys(keys, name=name, unique=False)
        get = self._slot_of.get
        slots = np.fromiter((get(k, -1) for k in idx), dtype=np.int64, count=len(idx))
        if (slots < 0).any():
            missing = idx[slots < 0].unique()[:5].tolist()
            raise KeyError(f"{name}: {int((slots < 0).sum())} key(s) not in the store, "
                           f"first: {missing}")
        return slots

    def get_vectors(self, keys: Any) -> np.ndarray:
        """Vectors of ``keys``, ndarray of shape (n, dim) float32; KeyError for unknown keys."""
        return np.array(self._vec[self._slots(keys)], dtype=np.float32)

    def get_metadata(self, keys: Any = None) -> pd.DataFrame:
        """Metadata rows indexed by key (all alive keys when ``keys`` is None)."""
        if keys is None:
            slots = np.flatnonzero(self._alive[:self._n])
        else:
            slots = self._slots(keys)
        index = pd.Index(self._keys[slots].tolist(), tupleize_cols=False)
        if self._meta is None:
            return pd.DataFrame(index=index)
        out = self._meta.iloc[slots].copy()
        out.index = index
        return out

    # -- mutation -------------------------------------------------------------------
    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        cap = len(self._vec)
        if need <= cap and self._vec.flags.writeable:
            return
        new_cap = max(need, cap + cap // 2, 1024) if cap else need
        vec = np.empty((new_cap, self.dim), dtype=np.float32)
        vec[:self._n] = self._vec[:self._n]
        keys = np.empty(new_cap, dtype=object)
        keys[:self._n] = self._keys[:self._n]
        alive = np.zeros(new_cap, dtype=bool)
        alive[:self._n] = self._alive[:self._n]
        self._vec, self._keys, self._alive = vec, keys, alive

    def _align_metadata(self, metadata: Any, keys: pd.Index) -> pd.DataFrame:
        if not isinstance(metadata, pd.DataFrame):
            raise TypeError(f"metadata must be a pandas DataFrame, got {type(metadata).__name__}")
        if len(metadata) != len(keys):
            raise ValueError(f"metadata has {len(metadata)} rows but {len(keys)} keys are added")
        bad = [c for c in metadata.columns if not isinstance(c, str)]
        if bad:
            raise TypeError(f"metadata column names must be strings, got {bad[:5]}")
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
        keys : iterable of hashables of length n, or an embeddings DataFrame
            With a DataFrame (index = keys, columns ``emb_*`` or numeric) leave
            ``vectors`` out.
        vectors : array-like of shape (n, dim)
        metadata : DataFrame of n rows, optional
            Indexed by the keys (or a default RangeIndex, aligned by position).
            Replaces the metadata of an upserted key; when omitted, an upserted
            key keeps its metadata and a new key gets missing values.

        Raises ``ValueError`` for a wrong dimension, NaN/inf, repeated keys or a
        length mismatch; nothing is changed when it raises.
        """
        if vectors is None:
            if not isinstance(keys, pd.DataFrame):
                raise TypeError("add(keys, vectors): vectors missing (or pass one embeddings "
                                "DataFrame whose index holds the keys)")
            vec, kidx = check_vectors(keys, dim=self.dim, name="vectors", allow_empty=True)
            kidx = check_keys(kidx, name="keys")
        else:
            vec, _ = check_vectors(vectors, dim=self.dim, name="vectors", allow_empty=True)
            kidx = check_keys(keys, n=len(vec), name="keys")
        m = len(vec)
        meta_rows = None if metadata is None else self._align_metadata(metadata, kidx)
        if m == 0:
            return self
        get = self._slot_of.get
        old = np.fromiter((get(k, -1) for k in kidx), dtype=np.int64, count=m)
        with self._lock:
            self._reserve(m)
            s0 = self._n
            new_slots = np.arange(s0, s0 + m)
            self._vec[s0:s0 + m] = vec
            keys_obj = _objects(kidx.tolist())
            self._keys[s0:s0 + m] = keys_obj
            self._alive[s0:s0 + m] = True
            old_live = old[old >= 0]
            self._kill(old_live)
            # metadata
            if meta_rows is not None or self._meta is not None:
                if meta_rows is None:
                    meta_rows = self._meta.iloc[np.where(old >= 0, old, 0)].reset_index(drop=True)
                    meta_rows.loc[old < 0, :] = None
                if self._meta is None:
                    self._meta = pd.DataFrame(index=pd.RangeIndex(s0))
                meta_rows.index = pd.RangeIndex(s0, s0 + m)
                base = self._meta.iloc[:s0]
                self._meta = pd.concat([base, meta_rows]) if len(base) else meta_rows
            self._n = s0 + m
            self._slot_of.update(zip(keys_obj.tolist(), new_slots.tolist(), strict=True))
            self._n_alive_delta += m
            self._pos_cache = None
        return self

    def _kill(self, slots: np.ndarray) -> None:
        if not len(slots):
            return
        self._alive[slots] = False
        n_idx = int((slots < self._n_indexed).sum())
        self._n_alive_indexed -= n_idx
        self._n_alive_delta -= len(slots) - n_idx

    def delete(self, keys: Any) -> NeighborStore:
        """Delete keys (tombstones, never returned again). KeyError naming unknown keys."""
        slots = np.unique(self._slots(keys))
        with self._lock:
            ks = self._keys[slots].tolist()
            self._kill(slots)
            for k in ks:
                del self._slot_of[k]
            self._pos_cache = None
        return self

    def _needs_rebuild(self) -> bool:
        if self.exact:  # compact dead slots only
            dead = self._n - len(self)
            return dead > 0 and dead > self.rebuild_threshold * len(self)
        churn = self._n_alive_delta + (self._n_indexed - self._n_alive_indexed)
        return churn > 0 and churn > self.rebuild_threshold * len(self)

    def _maybe_rebuild(self) -> None:
        if self._needs_rebuild():
            with self._lock:
                if self._needs_rebuild():
                    self.rebuild()

    def rebuild(self) -> NeighborStore:
        """Compact (drop tombstones) and build a new Annoy index over every alive vector."""
        with self._lock:
            alive = np.flatnonzero(self._alive[:self._n])
            n = len(alive)
            if n != self._n or not self._vec.flags.writeable:
                self._vec = np.ascontiguousarray(self._vec[alive])
                self._keys = self._keys[alive]
                self._alive = np.ones(n, dtype=bool)
                if self._meta is not None:
                    self._meta = self._meta.iloc[alive].reset_index(drop=True)
                self._slot_of = dict(zip(self._keys.tolist(), range(n), strict=True))
                self._n = n
            self._index = None if self.exact or n == 0 else self._build_annoy(self._vec[:n])
            self._afile = None if self._index is None else self._map_index(self._index)
            self._n_indexed = 0 if self._index is None else n
            self._n_alive_indexed = self._n_indexed
            self._n_alive_delta = n - self._n_indexed
            self._pos_cache = None
        return self

    def _threads(self, n_jobs: int | None) -> int:
        n_jobs = self.n_jobs if n_jobs is None else n_jobs
        if n_jobs is None or n_jobs < 0:
            return os.cpu_count() or 1
        return max(1, int(n_jobs))

    def _build_annoy(self, vec: np.ndarray):
        from annoy import AnnoyIndex

        f = self.dim + (self.metric == "dot")
        index = AnnoyIndex(f, _ANNOY_METRIC[self.metric])
        if self.random_state is not None:
            rs = self.random_state
            seed = int(rs) if isinstance(rs, (int, np.integer)) else int(
                check_random_state(rs).integers(0, 2**31 - 1))
            index.set_seed(seed % (2**31 - 1))
        if self.metric == "dot":
            sq = np.einsum("ij,ij->i", vec, vec)
            self._dot_max = float(np.sqrt(sq.max()))
            m2 = np.float32(self._dot_max) ** 2
        add = index.add_item
        for s in range(0, len(vec), _ADD_CHUNK):
            block = vec[s:s + _ADD_CHUNK]
            if self.metric == "dot":
                extra = np.sqrt(np.maximum(m2 - sq[s:s + _ADD_CHUNK], 0.0))
                block = np.hstack([block, extra[:, None].astype(np.float32)])
            for i, row in enumerate(block.tolist(), start=s):
                add(i, row)
        index.build(self.n_trees, n_jobs=self._threads(None) if self.random_state is None else 1)
        logger.debug("built Annoy index: %d vectors, %d trees", len(vec), self.n_trees)
        return index

    def _map_index(self, index, path: str | os.PathLike | None = None) -> AnnoyFile | None:
        """The compiled search's view of ``index``: its file ``path``, or for an index
        built in memory a temporary file that Annoy saves it to (Annoy then maps
        itself onto that file, so both read the same pages; the file is unlinked at
        once and its space freed when both let go). None if that fails: queries then
        go through Annoy's own binding, with the same answers."""
        f = self.dim + (self.metric == "dot")
        metric = _ANNOY_METRIC[self.metric]
        try:
            if path is not None:
                return AnnoyFile(path, f, metric)
            fd, tmp = tempfile.mkstemp(prefix="nnstore-", suffix=".ann")
            os.close(fd)
            try:
                index.save(tmp)
                return AnnoyFile(tmp, f, metric)
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        except (OSError, ValueError) as e:  # no temp space, or a file this code cannot read
            logger.warning("nnstore: compiled search unavailable (%s); querying through Annoy", e)
            return None

    # -- queries --------------------------------------------------------------------
    def _default_search_k(self, k: int) -> int:
        """search_k when none is given: ``n_trees * k``, times ``DOT_SEARCH_K_FACTOR`` for dot."""
        return self.n_trees * k * (self.DOT_SEARCH_K_FACTOR if self.metric == "dot" else 1)

    def _check_k(self, k: Any) -> int:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
            raise ValueError(f"k must be a positive int, got {k!r}")
        return int(k)

    def _valid_mask(self, filter: Any, exclude_slots: np.ndarray | None) -> np.ndarray | None:
        """Alive & passing & not globally excluded, over slots; None when all slots qualify."""
        n = self._n
        mask = None
        if filter is not None:
            meta = self._meta if self._meta is not None else pd.DataFrame(index=pd.RangeIndex(n))
            mask = evaluate_filter(filter, meta) & self._alive[:n]
        elif len(self) != n:
            mask = self._alive[:n].copy()
        if exclude_slots is not None and len(exclude_slots):
            if mask is None:
                mask = np.ones(n, dtype=bool)
            mask[exclude_slots] = False
        return mask

    def _exclusions(self, exclude: Any, nq: int) -> tuple[np.ndarray | None, list | None]:
        """(slots excluded for every query, per-query slot arrays) from ``exclude``."""
        if exclude is None:
            return None, None
        items = list(exclude) if not isinstance(exclude, (str, bytes)) else [exclude]
        per_query = len(items) == nq and all(
            x is None or isinstance(x, (list, set, frozenset, np.ndarray, pd.Index)) for x in items)
        get = self._slot_of.get

        def to_slots(ks):
            s = [get(k, -1) for k in ks] if ks is not None else []
            return np.array([x for x in s if x >= 0], dtype=np.int64)

        if per_query:
            return None, [to_slots(x) for x in items]
        return to_slots(items), None

    def _annoy_batch(self, q: np.ndarray, k_fetch: int, search_k: int, n_threads: int):
        """(ids (nq, k_fetch) int64 with -1, store distances float32 with inf) from the index."""
        nq = len(q)
        n_threads = min(n_threads, max(1, nq // self.MIN_QUERIES_PER_THREAD))
        af = self._afile
        if af is not None:
            # the compiled search: one call per chunk of queries, no Python per query,
            # no GIL held (so the chunks run in parallel on the thread pool)
            ids = np.empty((nq, k_fetch), dtype=np.int64)
            dist = np.empty((nq, k_fetch), dtype=np.float32)
            q = np.ascontiguousarray(q, dtype=np.float32)
            post, c = _POST[self.metric], self._dot_max ** 2

            def chunk(s: int, e: int) -> None:
                search_many(af.nodes, af.roots, af.kind, af.n_items, q[s:e], k_fetch, search_k,
                            ids[s:e], dist[s:e], post, c)

            self._in_chunks(chunk, nq, n_threads)
            return ids, dist
        index = self._index
        if self.metric == "dot":
            q = np.hstack([q, np.zeros((nq, 1), dtype=np.float32)])
        rows = q.tolist()
        get = index.get_nns_by_vector
        res: list = [None] * nq

        def work(s: int, e: int) -> None:
            # only Annoy calls in the loop (they release the GIL); arrays are made once below
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
            dist = (np.square(dist) - (qsq + self._dot_max ** 2)) * 0.5
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
                n_jobs: int | None = None, force_exact: bool = False):
        """(slots (nq, k) int64 with -1, distances (nq, k) float32 with inf)."""
        nq = len(q)
        if not force_exact:
            self._maybe_rebuild()
        glob_ex, per_ex = self._exclusions(exclude, nq)
        ss = self_slots
        valid = self._valid_mask(filter, glob_ex)
        n, n_idx = self._n, self._n_indexed
        use_exact = force_exact or self.exact or self._index is None
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
            return self._exact_over(q, k, cand, per_ex, ss)
        sk = search_k if search_k is not None else self.search_k
        if valid is None and per_ex is None and ss is None and n == n_idx:
            # hot path: nothing to filter or merge; Annoy's lists are already sorted ascending
            kf = min(k, n_idx)
            ids, dist = self._annoy_batch(q, kf, self._default_search_k(kf) if sk is None else sk,
                                          self._threads(n_jobs))
            if kf < k:
                ids = np.hstack([ids, np.full((nq, k - kf), -1, dtype=np.int64)])
                dist = np.hstack([dist, np.full((nq, k - kf), np.inf, dtype=np.float32)])
            return ids, dist
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
        ids, dist = self._annoy_batch(q, k_fetch, sk, self._threads(n_jobs))
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
            s2, d2 = self._exact_over(q[short], k, cand,
                                      [per_ex[i] for i in short] if per_ex is not None else None,
                                      ss[short] if ss is not None else None)
            slots[short], dists[short] = s2, d2
        # the delta buffer, exactly
        if n > n_idx:
            dvalid = self._alive[n_idx:n] if valid is None else valid[n_idx:n]
            cand = np.flatnonzero(dvalid) + n_idx
            if len(cand):
                s2, d2 = self._exact_over(q, k, cand, per_ex, ss)
                slots, dists = _top_k(np.hstack([slots, s2]), np.hstack([dists, d2]), k)
        return slots, dists

    def _exact_over(self, q: np.ndarray, k: int, cand: np.ndarray | None, per_ex: list | None,
                    self_slots: np.ndarray | None = None):
        """Exact search over slots ``cand`` (None: all slots 0..n-1), minus per-query exclusions."""
        if cand is not None and not len(cand):
            return (np.full((len(q), k), -1, dtype=np.int64),
                    np.full((len(q), k), np.inf, dtype=np.float32))
        if cand is None:
            base = self._vec[:self._n]
            ex = per_ex
            one = self_slots
        else:
            base = self._vec[cand]
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

    def _positions(self) -> np.ndarray:
        pc = self._pos_cache
        if pc is None or len(pc) != self._n:
            pc = np.cumsum(self._alive[:self._n], dtype=np.int64) - 1
            self._pos_cache = pc
        return pc

    def _output(self, slots: np.ndarray, dists: np.ndarray):
        ok = slots >= 0
        if self._n == 0:
            return (np.full(slots.shape, None, dtype=object), dists.astype(np.float32, copy=False),
                    np.full(slots.shape, -1, dtype=np.int64))
        allok = bool(ok.all())
        s = slots if allok else np.where(ok, slots, 0)
        keys = self._keys[s]
        # no dead slots: positions are the slots themselves (``slots`` is this call's own array)
        pos = s if len(self) == self._n else self._positions()[s]
        if not allok:
            keys[~ok] = None
            pos[~ok] = -1
        return keys, dists.astype(np.float32, copy=False), pos

    def _query_vectors(self, vectors: Any):
        if (isinstance(vectors, np.ndarray) and vectors.dtype == np.float32 and vectors.ndim in (1, 2)
                and vectors.shape[-1] == self.dim and np.isfinite(vectors).all()):
            return np.ascontiguousarray(vectors.reshape(-1, self.dim)), None  # fast path
        return check_vectors(vectors, dim=self.dim, name="vectors", allow_empty=True)

    def query_arrays(self, vectors: Any, k: int = 10, *, filter: Any = None, exclude: Any = None,
                     search_k: int | None = None, n_jobs: int | None = None):
        """Hot-path batch query.

        Parameters
        ----------
        vectors : array-like of shape (n_queries, dim) or an embeddings DataFrame
        k : int
        filter : expression from :func:`nnstore.col`, callable(meta) -> bool mask, or None
        exclude : iterable of keys never returned, or a list with one collection of
            keys (list/set/array/None) per query
        search_k : int, optional
            Overrides the store's ``search_k`` (scaled up with any over-fetch).
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
        af = self._afile
        if (af is not None and filter is None and exclude is None and type(vectors) is np.ndarray
                and vectors.ndim == 1 and vectors.dtype == _F32 and vectors.shape[0] == self.dim
                and vectors.flags.c_contiguous and self._n == self._n_indexed == self._n_alive_indexed):
            # one clean query, no filter, no delta, no tombstones: straight to the compiled
            # search, slots are positions. Kept inline: per-call overhead is what counts here.
            # (A strided view takes the batch path, which copies it: a strided layout would
            # compile a kernel whose float sums, in another order, could differ in the last bit.)
            metric = self.metric
            if search_k is None:
                search_k = self.search_k
                if search_k is None:
                    search_k = self.n_trees * k * (self.DOT_SEARCH_K_FACTOR if metric == "dot" else 1)
            slots = np.empty((1, k), dtype=_I64)
            dist = np.empty((1, k), dtype=_F32)
            m = search_one(af.nodes, af.roots, af.kind, af.n_items, vectors, k, search_k, slots[0],
                           dist[0], _POST[metric], self._dot_max ** 2)
            if m == k:
                return self._keys[slots], dist, slots
            if m >= 0:  # fewer than k indexed items reachable: -1 slots, None keys
                keys = self._keys[slots]
                keys[0, m:] = None
                return keys, dist, slots
            # m == -1: NaN or inf in the query; the checked path below raises
        q, _ = self._query_vectors(vectors)
        slots, dists = self._search(q, k, filter=filter, exclude=exclude, search_k=search_k,
                                    n_jobs=n_jobs)
        return self._output(slots, dists)

    def query_keys_arrays(self, keys: Any, k: int = 10, *, exclude_self: bool = True,
                          filter: Any = None, exclude: Any = None, search_k: int | None = None,
                          n_jobs: int | None = None):
        """Like :meth:`query_arrays`, querying with stored keys' vectors."""
        k = self._check_k(k)
        self._maybe_rebuild()  # before taking slots: a rebuild renumbers them
        qslots = self._slots(keys)
        q = np.ascontiguousarray(self._vec[qslots])
        slots, dists = self._search(q, k, filter=filter, exclude=exclude,
                                    self_slots=qslots if exclude_self else None,
                                    search_k=search_k, n_jobs=n_jobs)
        return self._output(slots, dists)

    @staticmethod
    def _frame(query_ids: Any, keys: np.ndarray, dists: np.ndarray) -> pd.DataFrame:
        nq, k = keys.shape
        ok = (keys != None).ravel()  # noqa: E711 - elementwise on an object array
        qids = np.repeat(query_ids if isinstance(query_ids, np.ndarray) else _objects(query_ids), k)
        out = pd.DataFrame({
            "query": pd.Index(qids[ok].tolist() if qids.dtype == object else qids[ok],
                              tupleize_cols=False),
            "rank": np.tile(np.arange(k, dtype=np.int64), nq)[ok],
            "key": pd.Index(keys.ravel()[ok].tolist(), tupleize_cols=False),
            "distance": dists.ravel()[ok],
        })
        return out

    def query(self, vectors: Any, k: int = 10, *, filter: Any = None, exclude: Any = None,
              search_k: int | None = None, n_jobs: int | None = None) -> pd.DataFrame:
        """Batch query; a DataFrame with columns query, rank, key, distance (ascending).

        ``query`` is the query's row number, or its index label when ``vectors``
        is a DataFrame. Queries with fewer than k results have fewer rows.
        """
        k = self._check_k(k)
        q, qkeys = self._query_vectors(vectors)
        slots, dists = self._search(q, k, filter=filter, exclude=exclude, search_k=search_k,
                                    n_jobs=n_jobs)
        keys, dists, _ = self._output(slots, dists)
        qids = np.arange(len(q), dtype=np.int64) if qkeys is None else list(qkeys)
        return self._frame(qids, keys, dists)

    def query_keys(self, keys: Any, k: int = 10, *, exclude_self: bool = True, filter: Any = None,
                   exclude: Any = None, search_k: int | None = None,
                   n_jobs: int | None = None) -> pd.DataFrame:
        """Batch query by stored keys; DataFrame (query = the query key, rank, key, distance)."""
        qidx = check_keys(keys, name="keys", unique=False)
        rkeys, dists, _ = self.query_keys_arrays(qidx, k, exclude_self=exclude_self, filter=filter,
                                                 exclude=exclude, search_k=search_k, n_jobs=n_jobs)
        return self._frame(list(qidx), rkeys, dists)

    def recall_at_k(self, queries: Any, k: int = 10, *, filter: Any = None,
                    search_k: int | None = None) -> float:
        """Mean recall@k of the store's answers against exact search over the same store.

        For each query, the fraction of its exact k nearest alive (and passing)
        items that the approximate query returns. 1.0 in exact mode.
        """
        k = self._check_k(k)
        q, _ = self._query_vectors(queries)
        approx, _ = self._search(q, k, filter=filter, search_k=search_k)
        truth, _ = self._search(q, k, filter=filter, force_exact=True)
        from .metrics import recall_at_k as _recall

        vals = [_recall(a[a >= 0], t[t >= 0], k) for a, t in zip(approx, truth, strict=True)
                if (t >= 0).any()]
        return float(np.mean(vals)) if vals else float("nan")

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as an artifact directory (kind ``"neighbor_store"``).

        Files: ``index.ann`` (Annoy), ``vectors.npy`` (every slot), ``keys.parquet``
        (key per slot + alive flag; int and str keys keep their type),
        ``metadata.parquet`` (if any), ``state.json`` (indexed count, dot scale).
        The delta buffer and tombstones are saved as they are. Saving over the
        directory the store was loaded from works: everything is written to a
        temporary sibling directory first, then swapped in.
        """
        self._maybe_rebuild()
        path = Path(path)
        with self._lock:
            n = self._n
            frame = _keys_frame(self._keys[:n])
            frame["alive"] = self._alive[:n]
            counts = {"n": len(self), "slots": n, "indexed": self._n_indexed,
                      "delta": self._n_alive_delta, "tombstones": self.n_tombstones}
            with ArtifactWriter(path, kind=KIND, params=self.get_params(), dim=self.dim,
                                metric=self.metric, counts=counts) as w:
                w.save_array("vectors", self._vec[:n])
                w.save_frame("keys", frame)
                if self._meta is not None:
                    w.save_frame("metadata", self._meta)
                w.save_json("state", {"n_indexed": self._n_indexed, "dot_max": self._dot_max,
                                      "annoy_dim": self.dim + (self.metric == "dot")})
                if self._index is not None:
                    # Annoy's save() writes the file, then re-maps itself onto it: the index
                    # now lives in the new artifact, never in the one being replaced.
                    self._index.save(str(w.file_path("index.ann")))
                    w.add_file("index.ann")
            if self._index is not None:  # the compiled search follows it to the same file
                self._afile = self._map_index(self._index, path / "index.ann")
        logger.info("saved %r to %s", self, path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True, *, dim: int | None = None,
             metric: str | None = None, verify: bool = True) -> NeighborStore:
        """Load a saved store; it still accepts add, delete and rebuild.

        Parameters
        ----------
        path : artifact directory written by :meth:`save`
        mmap : bool, default True
            Memory-map the Annoy index and the vector matrix (shared between
            processes, loads in O(1)); False reads the vectors into memory and
            prefaults the index.
        dim, metric : optional
            Expected dimension/metric; a different one raises ``ValueError``.
        verify : bool, default True
            Check the files' sha256 (see :func:`nnstore.read_artifact`).
        """
        art = read_artifact(path, kind=KIND, verify=verify)
        p = dict(art.params)
        if dim is not None and int(dim) != p["dim"]:
            raise ValueError(f"store at {str(path)!r} has dim {p['dim']}, but dim={dim} was asked for")
        if metric is not None and metric != p["metric"]:
            raise ValueError(f"store at {str(path)!r} has metric {p['metric']!r}, "
                             f"but metric={metric!r} was asked for")
        store = cls(**p)
        vec = art.load_array("vectors", mmap=mmap)
        if vec.dtype != np.float32 or vec.ndim != 2 or vec.shape[1] != store.dim:
            raise ValueError(f"vectors.npy in {str(path)!r} has dtype {vec.dtype} and shape {vec.shape};"
                             f" expected float32 (n, {store.dim})")
        kf = art.load_frame("keys")
        state = art.load_json("state")
        n = len(vec)
        keys = _keys_from_frame(kf)
        alive = kf["alive"].to_numpy(dtype=bool).copy()
        store._vec, store._keys, store._alive, store._n = vec, keys, alive, n
        store._slot_of = dict(zip(keys[alive].tolist(), np.flatnonzero(alive).tolist(), strict=True))
        if "metadata.parquet" in art.files:
            store._meta = art.load_frame("metadata")
        n_idx = int(state["n_indexed"])
        store._n_indexed = n_idx
        store._n_alive_indexed = int(alive[:n_idx].sum())
        store._n_alive_delta = int(alive[n_idx:].sum())
        store._dot_max = float(state["dot_max"])
        if "index.ann" in art.files:
            from annoy import AnnoyIndex

            index = AnnoyIndex(int(state["annoy_dim"]), _ANNOY_METRIC[store.metric])
            index.load(str(art.file_path("index.ann")), prefault=not mmap)
            if index.get_n_items() != n_idx:
                raise ValueError(f"index.ann in {str(path)!r} holds {index.get_n_items()} items, "
                                 f"state.json says {n_idx}")
            store._index = index
            store._afile = store._map_index(index, art.file_path("index.ann"))
        return store


def _keys_frame(keys: np.ndarray) -> pd.DataFrame:
    """Keys as a parquet-able frame: an int64 or str column, or str plus ``key_is_int`` if mixed."""
    idx = pd.Index(keys.tolist(), tupleize_cols=False)
    if idx.dtype != object or not len(idx):
        return pd.DataFrame({"key": idx})
    is_int = np.fromiter((isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys),
                         dtype=bool, count=len(keys))
    is_str = np.fromiter((isinstance(k, str) for k in keys), dtype=bool, count=len(keys))
    if not (is_int | is_str).all():
        bad = sorted({type(k).__name__ for k in keys[~(is_int | is_str)]})
        raise TypeError(f"save supports str and int keys only, got keys of type {bad}")
    if is_str.all():
        return pd.DataFrame({"key": idx})
    return pd.DataFrame({"key": [str(k) for k in keys], "key_is_int": is_int})


def _keys_from_frame(kf: pd.DataFrame) -> np.ndarray:
    keys = kf["key"].tolist()
    if "key_is_int" in kf.columns:
        keys = [int(k) if i else k for k, i in zip(keys, kf["key_is_int"].tolist(), strict=True)]
    return _objects(keys)


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

