"""Array-in, array-out k-nearest-neighbour search: the toolkit's one search function.

:func:`kneighbors` answers "the k nearest rows of ``data`` for each query row"
(or for each row of ``data`` itself, the row excluded) with one of several
methods behind one signature:

- ``"exact"``: blocked brute force (:mod:`nnstore._exact`): one float32 matrix
  product per block of queries (and of data rows, for very large data), the
  (block, block) score matrix kept under ``block_bytes``;
- ``"kdtree"``: scikit-learn's k-d tree, exact and fast in few dimensions
  (euclidean, manhattan, cosine); identical rows are searched once;
- ``"ivf"``: inverted lists over k-means cells: every query is compared
  exactly with the rows of its ``n_probe`` nearest cells;
- ``"annoy"``: the Annoy random-projection forest of :class:`~nnstore.NeighborStore`;
- ``"graph"``: the store's neighbour-graph search (:mod:`nnstore._graph_search`);
- ``"auto"``: exact search for small work or few dimensions, otherwise the
  approximate method measured fastest at the requested ``recall``
  (``AUTO_APPROX``), its knob tuned on a sample of queries.

An approximate method whose knob is left None (``n_probe``, ``search_k``,
``ef``) is tuned the same way: the knob grows until the recall@k on a sample
of the queries, against exact search, reaches ``recall``.

:func:`cross_kneighbors` gives both directions between two tables (each row of
``a`` in ``b`` and each row of ``b`` in ``a``); exactly, both come from one pass
over the score blocks.
"""

from __future__ import annotations

import itertools
import logging
import math
import numbers
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
import pandas as pd

from ._exact import BLOCK_BYTES, _block_scores, exact_search, pair_distances
from ._validation import check_random_state, check_vectors

__all__ = ["AUTO_APPROX", "AUTO_EXACT_PAIRS", "KDTREE_MAX_DIM", "METHODS", "METRICS",
           "cross_kneighbors", "kneighbors"]

logger = logging.getLogger(__name__)

METRICS = ("cosine", "euclidean", "dot", "manhattan")
METHODS = ("auto", "exact", "kdtree", "ivf", "annoy", "graph")
#: ``method="auto"`` searches exactly while ``n_queries * n_data`` is at most this
AUTO_EXACT_PAIRS = 500_000_000
#: ... and with the k-d tree (exact) up to this many dimensions (euclidean, manhattan, cosine)
KDTREE_MAX_DIM = 6
#: ... and otherwise with this approximate method (tuned to ``recall``)
AUTO_APPROX = "ivf"
#: method="graph": Annoy trees when n_trees is None (they seed the graph and give entry points)
GRAPH_TREES = 10
#: queries (at most) on which an approximate method's knob is tuned
TUNE_QUERIES = 256


# -- checks ------------------------------------------------------------------------------------
def _check_choice(value: Any, name: str, options: tuple) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def _check_int(value: Any, name: str, *, low: int = 1, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < low:
        what = f"None or an int >= {low}" if allow_none else f"an int >= {low}"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return int(value)


def _check_recall(recall: Any) -> float:
    if (isinstance(recall, bool) or not isinstance(recall, numbers.Real) or math.isnan(recall)
            or not 0.0 < float(recall) <= 1.0):
        raise ValueError(f"recall must be a float in (0, 1], got {recall!r}")
    return float(recall)


def _threads(n_jobs: Any) -> int:
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be None, a positive int or a negative int (-1 = all cores), "
                         f"got {n_jobs!r}")
    n_jobs = int(n_jobs)
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


# -- exact -----------------------------------------------------------------------------------
def _merge(rows_a, dist_a, rows_b, dist_b, k):
    """Per row, the k best of two (rows, distances) lists, ordered by (distance, row)."""
    rows = np.hstack([rows_a, rows_b])
    dist = np.hstack([dist_a, dist_b])
    order = np.lexsort((np.where(rows < 0, np.iinfo(np.int64).max, rows), dist), axis=1)[:, :k]
    return np.take_along_axis(rows, order, axis=1), np.take_along_axis(dist, order, axis=1)


def _exact(q: np.ndarray, x: np.ndarray, k: int, metric: str, self_rows: np.ndarray | None,
           block_bytes: int, groups: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact search; the data is cut in chunks too when one query row would exceed the budget."""
    n = len(x)
    chunk = max(k + 1, block_bytes // 4 // 64)  # at least 64 query rows per block
    if n <= chunk:
        return exact_search(q, x, k, metric, exclude_one=self_rows, block_bytes=block_bytes,
                            groups=groups)
    rows = np.full((len(q), k), -1, dtype=np.int64)
    dist = np.full((len(q), k), np.inf, dtype=np.float32)
    for s in range(0, n, chunk):
        one = None
        if self_rows is not None:
            one = np.where((self_rows >= s) & (self_rows < s + chunk), self_rows - s, -1)
        g = None if groups is None else (groups[0], groups[1][s:s + chunk])
        r, d = exact_search(q, x[s:s + chunk], k, metric, exclude_one=one, block_bytes=block_bytes,
                            groups=g)
        r = np.where(r >= 0, r + s, -1)
        rows, dist = _merge(rows, dist, r, d, k)
    return rows, dist


# -- k-d tree ----------------------------------------------------------------------------------
def _kdtree(q: np.ndarray, x: np.ndarray, k: int, metric: str, self_join: bool,
            n_threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact search with scikit-learn's KDTree over the distinct rows of ``x``.

    A k-d tree cannot prune between identical points, so each distinct row is
    indexed once and its answers expanded to the rows holding it.
    """
    from sklearn.neighbors import KDTree

    if metric == "cosine":  # on the unit sphere: cos distance = |a - b|^2 / 2
        x = _unit(x)
        q = x if self_join else _unit(q)
    uniq, inv, counts = np.unique(x, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    group_rows = np.argsort(inv, kind="stable")  # the rows of each distinct value, in row order
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    tree = KDTree(uniq, metric="manhattan" if metric == "manhattan" else "euclidean")
    if self_join:
        # every row's list includes itself first (its value's copies come first, at distance 0);
        # then the row itself is dropped (or the last entry, when the copies overflow the list)
        d, i = _tree_query(tree, uniq, min(k + 1, len(uniq)), n_threads)
        d, rows = _expand(d, i, counts, start, group_rows, k + 1)
        d, rows = d[inv], rows[inv]
        is_self = rows == np.arange(len(x))[:, None]
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
        keep = np.ones(rows.shape, dtype=bool)
        keep[np.arange(len(x)), drop] = False
        d, rows = d[keep].reshape(-1, k), rows[keep].reshape(-1, k)
    else:
        d, i = _tree_query(tree, q, min(k, len(uniq)), n_threads)
        d, rows = _expand(d, i, counts, start, group_rows, k)
    dist = d.astype(np.float32)
    if metric == "cosine":
        dist = np.square(dist) * np.float32(0.5)
    dist[rows < 0] = np.inf
    return rows, dist


def _tree_query(tree, q, k, n_threads):
    if n_threads <= 1 or len(q) < 2048:
        return tree.query(q, k=k)
    bounds = np.linspace(0, len(q), n_threads * 4 + 1).astype(int)
    with ThreadPoolExecutor(n_threads) as ex:
        parts = list(ex.map(lambda ab: tree.query(q[ab[0]:ab[1]], k=k), itertools.pairwise(bounds)))
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def _expand(d: np.ndarray, i: np.ndarray, counts: np.ndarray, start: np.ndarray,
            group_rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` (distance, row) of each list once distinct value ``i[:, j]`` is replaced
    by its ``counts`` rows (in row order); -1 / inf past the rows available."""
    reps = counts[i]
    cum = np.cumsum(reps, axis=1)
    t = np.arange(k)[None, :]
    col = np.stack([(cum <= s).sum(axis=1) for s in range(k)], axis=1)
    ok = col < d.shape[1]
    colc = np.minimum(col, d.shape[1] - 1)
    rr = np.arange(len(d))[:, None]
    before = np.where(colc > 0, cum[rr, np.maximum(colc - 1, 0)], 0)
    uid = i[rr, colc]
    rows = group_rows[np.minimum(start[uid] + (t - before), len(group_rows) - 1)]
    return np.where(ok, d[rr, colc], np.inf), np.where(ok, rows, -1).astype(np.int64)


def _unit(x: np.ndarray) -> np.ndarray:
    nrm = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))[:, None]
    return np.divide(x, nrm, out=np.zeros(x.shape, dtype=np.float64), where=nrm > 0).astype(np.float32)


# -- IVF ---------------------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _fold(scores, qids, mids, k, best_i, best_s, self_join):
    """Fold a (queries ``qids``) x (rows ``mids``) score block (smaller = better) into the top-k."""
    for r in range(len(qids)):
        g = qids[r]
        for j in range(len(mids)):
            m = mids[j]
            if self_join and m == g:
                continue
            s = scores[r, j]
            if s < best_s[g, k - 1] or (s == best_s[g, k - 1] and m < best_i[g, k - 1]):
                p = k - 1
                while p > 0 and (s < best_s[g, p - 1] or (s == best_s[g, p - 1] and m < best_i[g, p - 1])):
                    best_s[g, p] = best_s[g, p - 1]
                    best_i[g, p] = best_i[g, p - 1]
                    p -= 1
                best_s[g, p] = s
                best_i[g, p] = m


class _IVF:
    """Inverted lists: k-means cells over ``x`` (spherical for cosine), rows grouped by cell."""

    def __init__(self, x: np.ndarray, metric: str, n_cells: int | None, rng: np.random.Generator):
        self.metric = metric
        self.x = _unit(x) if metric == "cosine" else x
        n = len(x)
        nc = min(n, n_cells or max(1, round(math.sqrt(n))))
        self.cent = _kmeans(self.x, nc, rng, spherical=metric == "cosine")
        self.cell = self._nearest_cells(self.x, 1)[:, 0]
        self.order = np.argsort(self.cell, kind="stable")
        self.bounds = np.searchsorted(self.cell[self.order], np.arange(nc + 1))
        self.sq = np.einsum("ij,ij->i", self.x, self.x) if metric == "euclidean" else None
        self.norms = np.ones(n, np.float32) if metric == "cosine" else None

    def _nearest_cells(self, q: np.ndarray, n_probe: int) -> np.ndarray:
        c = self.cent
        out = np.empty((len(q), n_probe), dtype=np.int64)
        csq = np.einsum("ij,ij->i", c, c)
        for s in range(0, len(q), 8192):
            prod = q[s:s + 8192] @ c.T
            sc = -prod if self.metric in ("cosine", "dot") else csq[None, :] - 2 * prod
            if n_probe < len(c):
                part = np.argpartition(sc, n_probe - 1, axis=1)[:, :n_probe]
            else:
                part = np.broadcast_to(np.arange(len(c)), sc.shape).copy()
            o = np.argsort(np.take_along_axis(sc, part, axis=1), axis=1, kind="stable")
            out[s:s + 8192] = np.take_along_axis(part, o, axis=1)
        return out

    def search(self, q: np.ndarray, k: int, n_probe: int, self_join: bool, n_threads: int,
               qrows: np.ndarray | None = None):
        """(rows, scores) of the k best per query; ``qrows``: the data rows the queries are
        (self-join: never return them)."""
        if self.metric == "cosine":
            q = _unit(q)
        nq, nc = len(q), len(self.cent)
        n_probe = max(1, min(n_probe, nc))
        best_i = np.full((nq, k), -1, dtype=np.int64)
        best_s = np.full((nq, k), np.inf, dtype=np.float32)
        if nq == 0:
            return best_i, best_s
        probe = self._nearest_cells(q, n_probe)
        own = qrows if qrows is not None else np.full(nq, -1, dtype=np.int64)

        def work(a: int, b: int) -> None:
            pq = np.repeat(np.arange(a, b, dtype=np.int64), n_probe)
            pc = probe[a:b].ravel()
            po = np.argsort(pc, kind="stable")
            pq, pc = pq[po], pc[po]
            pb = np.searchsorted(pc, np.arange(nc + 1))
            for c in np.flatnonzero(pb[1:] > pb[:-1]):
                mids = self.order[self.bounds[c]:self.bounds[c + 1]]
                if not len(mids):
                    continue
                qids = pq[pb[c]:pb[c + 1]]
                xc = self.x[mids]
                sq = self.sq[mids] if self.sq is not None else None
                nrm = self.norms[:len(mids)] if self.norms is not None else None
                step = max(1, BLOCK_BYTES // (4 * len(mids)))
                for s in range(0, len(qids), step):
                    qs = qids[s:s + step]
                    sc = _block_scores(q[qs], xc, self.metric, nrm, sq)
                    if self_join:
                        # the query's own row never counts: mark it by an id never in mids
                        _fold_self(sc, qs, mids, own, k, best_i, best_s)
                    else:
                        _fold(sc, qs, mids, k, best_i, best_s, False)

        _run_chunks(work, nq, n_threads)
        return best_i, best_s


@numba.njit(cache=True, nogil=True)
def _fold_self(scores, qids, mids, own, k, best_i, best_s):
    """:func:`_fold` where query ``g`` never takes row ``own[g]``."""
    for r in range(len(qids)):
        g = qids[r]
        o = own[g]
        for j in range(len(mids)):
            m = mids[j]
            if m == o:
                continue
            s = scores[r, j]
            if s < best_s[g, k - 1] or (s == best_s[g, k - 1] and m < best_i[g, k - 1]):
                p = k - 1
                while p > 0 and (s < best_s[g, p - 1] or (s == best_s[g, p - 1] and m < best_i[g, p - 1])):
                    best_s[g, p] = best_s[g, p - 1]
                    best_i[g, p] = best_i[g, p - 1]
                    p -= 1
                best_s[g, p] = s
                best_i[g, p] = m


def _run_chunks(work, n: int, n_threads: int) -> None:
    if n_threads <= 1 or n < 64:
        work(0, n)
        return
    bounds = np.linspace(0, n, n_threads + 1).astype(int)
    with ThreadPoolExecutor(n_threads) as ex:
        for f in [ex.submit(work, int(a), int(b)) for a, b in itertools.pairwise(bounds)]:
            f.result()


def _kmeans(x: np.ndarray, n_cells: int, rng: np.random.Generator, *, spherical: bool,
            n_iter: int = 8, sample: int = 64) -> np.ndarray:
    """Centroids from ``n_iter`` Lloyd rounds on at most ``sample * n_cells`` rows."""
    pick = rng.choice(len(x), size=min(len(x), sample * n_cells), replace=False)
    xs = x[np.sort(pick)]
    cent = xs[rng.choice(len(xs), size=n_cells, replace=False)].copy()
    for _ in range(n_iter):
        csq = np.einsum("ij,ij->i", cent, cent)
        lab = np.empty(len(xs), dtype=np.int64)
        for s in range(0, len(xs), 16384):
            prod = xs[s:s + 16384] @ cent.T
            lab[s:s + 16384] = np.argmax(prod, axis=1) if spherical else np.argmin(csq - 2 * prod, axis=1)
        new = np.zeros(cent.shape, dtype=np.float64)
        np.add.at(new, lab, xs)
        cnt = np.bincount(lab, minlength=n_cells)
        empty = cnt == 0
        if empty.any():
            new[empty] = xs[rng.choice(len(xs), size=int(empty.sum()), replace=False)]
            cnt[empty] = 1
        if spherical:
            nrm = np.linalg.norm(new, axis=1)
            nrm[nrm == 0] = 1.0
            cent = (new / nrm[:, None]).astype(np.float32)
        else:
            cent = (new / cnt[:, None]).astype(np.float32)
    return cent


# -- final distances ---------------------------------------------------------------------------
def _finish(q: np.ndarray, x: np.ndarray, rows: np.ndarray, metric: str):
    """Distances of the chosen rows, computed directly, ordered by (distance, row)."""
    ok = rows >= 0
    d = pair_distances(q[:, None, :], x[np.where(ok, rows, 0)], metric)
    d[~ok] = np.inf
    key = np.where(ok, rows, np.iinfo(np.int64).max)
    order = np.lexsort((key, d), axis=1)
    return np.take_along_axis(rows, order, axis=1), np.take_along_axis(d, order, axis=1)


def _finish_blocked(q, x, rows, metric):
    out_r = np.empty_like(rows)
    out_d = np.empty(rows.shape, dtype=np.float32)
    step = max(1, (16 << 20) // max(1, rows.shape[1] * x.shape[1] * 4))
    for s in range(0, len(q), step):
        out_r[s:s + step], out_d[s:s + step] = _finish(q[s:s + step], x, rows[s:s + step], metric)
    return out_r, out_d


def _recall(found: np.ndarray, truth: np.ndarray, found_d: np.ndarray | None = None,
            truth_d: np.ndarray | None = None) -> float:
    """Recall@k of ``found`` rows against the exact ``truth`` rows. With distances, a found row
    at most as far as the query's k-th true neighbour counts too (a tie with a true neighbour is
    as good an answer: data with duplicate rows would otherwise never reach a high recall)."""
    hits = 0
    total = 0
    for i, (f, t) in enumerate(zip(found, truth, strict=True)):
        t = t[t >= 0]
        total += len(t)
        if found_d is None or not len(t):
            hits += len(np.intersect1d(f[f >= 0], t))
            continue
        lim = truth_d[i, len(t) - 1]
        lim = lim + 1e-5 * max(1.0, abs(float(lim)))
        hits += min(len(t), int(np.count_nonzero((f >= 0) & (found_d[i] <= lim))))
    return hits / total if total else 1.0


# -- the public functions ----------------------------------------------------------------------
class _Prepared:
    """Checked inputs of one search call."""

    def __init__(self, data, queries, k, metric, exclude_self, block_bytes, groups):
        self.metric = _check_choice(metric, "metric", METRICS)
        self.x, _ = check_vectors(data, name="data")
        if queries is None:
            self.q = self.x
            self.self_join = True if exclude_self is None else _check_bool(exclude_self, "exclude_self")
        else:
            self.q, _ = check_vectors(queries, name="queries", dim=self.x.shape[1], allow_empty=True)
            if exclude_self is not None and _check_bool(exclude_self, "exclude_self"):
                raise ValueError("exclude_self=True needs queries=None (the queries are then the rows "
                                 "of data, each never returning itself); got separate queries")
            self.self_join = False
        self.k = _check_int(k, "k")
        self.block_bytes = _check_int(block_bytes, "block_bytes", low=1 << 16, allow_none=True) or BLOCK_BYTES
        self.groups = None
        self.max_group = 1
        n_avail = len(self.x) - (1 if self.self_join else 0)
        if groups is not None:
            if queries is not None:
                raise ValueError("groups needs queries=None (each row of data then never returns a row "
                                 "of its own group); got separate queries")
            codes, _ = pd.factorize(pd.Series(np.asarray(groups, dtype=object)
                                                 if not isinstance(groups, pd.Series) else groups))
            if len(codes) != len(self.x):
                raise ValueError(f"groups must have one value per row of data ({len(self.x)}), "
                                 f"got {len(codes)}")
            if (codes < 0).any():
                bad = np.flatnonzero(codes < 0)[:5].tolist()
                raise ValueError(f"groups has missing values at rows {bad}")
            self.groups = codes.astype(np.int64)
            counts = np.bincount(self.groups)
            self.max_group = int(counts.max())
            n_avail = len(self.x) - int(counts.min())
        self.kk = max(0, min(self.k, n_avail))  # searched width; the rest is padding

    def self_rows(self, idx: np.ndarray | None = None):
        if not self.self_join:
            return None
        return np.arange(len(self.q), dtype=np.int64) if idx is None else idx.astype(np.int64)

    def group_pair(self, idx: np.ndarray | None = None):
        if self.groups is None:
            return None
        return (self.groups if idx is None else self.groups[idx], self.groups)


def _check_bool(v: Any, name: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool or None, got {type(v).__name__}: {v!r}")
    return bool(v)


def _pad(rows: np.ndarray, dist: np.ndarray, k: int):
    if rows.shape[1] >= k:
        return rows, dist
    nq = len(rows)
    return (np.hstack([rows, np.full((nq, k - rows.shape[1]), -1, dtype=np.int64)]),
            np.hstack([dist, np.full((nq, k - rows.shape[1]), np.inf, dtype=np.float32)]))


def kneighbors(data: Any, queries: Any = None, *, k: int, metric: str = "cosine",
               method: str = "auto", exclude_self: bool | None = None, groups: Any = None,
               recall: float = 0.95, n_jobs: int | None = None, random_state: Any = None,
               block_bytes: int | None = None, n_cells: int | None = None, n_probe: int | None = None,
               n_trees: int | None = None, search_k: int | None = None,
               ef: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest rows of ``data`` for each query.

    Parameters
    ----------
    data : array-like or DataFrame of shape (n, dim), or a NeighborStore
        The rows searched (float32 internally; NaN/inf refused). A
        :class:`~nnstore.NeighborStore` is searched with its own index and settings
        (``method`` must stay "auto", ``metric`` must be the store's); its
        rows are then the positions in ``store.keys``.
    queries : array-like or DataFrame of shape (n_queries, dim), optional
        None: the rows of ``data`` are the queries and each never returns itself
        (its own row number; identical rows elsewhere are returned, at distance 0).
    k : int
        Neighbours per query (>= 1). Past the rows available (``n``, or ``n - 1``
        without the query itself) the output is padded with -1 / inf.
    metric : {"cosine", "euclidean", "dot", "manhattan"}, default "cosine"
        Distances: cosine ``1 - cos`` (a zero row is at distance 1 from all),
        euclidean L2, manhattan L1, dot ``-q.x`` (smaller is closer throughout).
    method : {"auto", "exact", "kdtree", "ivf", "annoy", "graph"}, default "auto"
        See the module docstring. ``"auto"``: ``"exact"`` while
        ``n_queries * n <= AUTO_EXACT_PAIRS`` or ``recall == 1``, ``"kdtree"`` up to
        ``KDTREE_MAX_DIM`` dimensions (not for dot), else ``AUTO_APPROX`` tuned to ``recall``.
    exclude_self : bool or None, default None
        None: True when ``queries`` is None. False with ``queries=None`` lets each row
        return itself. True with separate ``queries`` is an error.
    groups : array-like of shape (n,), optional
        With ``queries=None``: a group label per row; a row never returns a row of its
        own group (e.g. the nearest record of another entity).
    recall : float in (0, 1], default 0.95
        Target recall@k for ``"auto"`` and for approximate methods whose knob is None (measured
        on a sample of the queries against exact search; an answer tied in distance with a
        true neighbour counts as found).
    n_jobs : int or None
        Threads (None: 1, -1: all cores).
    random_state : int, Generator or None
        Seeds k-means (IVF), the Annoy trees, the graph and the tuning sample.
    block_bytes : int, optional
        Memory bound of one score block of the exact search (default 64 MiB).
    n_cells, n_probe : int, optional
        IVF cells (default ``sqrt(n)``) and cells probed per query (None: tuned).
    n_trees, search_k : int, optional
        Annoy trees (default 50) and nodes inspected per query (None: tuned).
    ef : int, optional
        Graph search beam width (None: tuned).

    Returns
    -------
    indices : ndarray of shape (n_queries, k), int64
        Row numbers into ``data``, nearest first; -1 as padding.
    distances : ndarray of shape (n_queries, k), float32
        Ascending, computed directly from the two rows whatever the method; inf as padding.

    Raises
    ------
    ValueError
        Unknown metric or method, k < 1, empty ``data``, a width mismatch, NaN/inf
        values, ``exclude_self=True`` or ``groups`` with separate queries, a method that
        cannot serve the metric (``"kdtree"`` with dot).
    TypeError
        ``exclude_self`` not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from nnstore import kneighbors
    >>> x = np.array([[0.0, 0], [1, 0], [5, 0]], dtype=np.float32)
    >>> idx, dist = kneighbors(x, k=1, metric="euclidean")
    >>> idx.ravel().tolist(), dist.ravel().tolist()
    ([1, 0, 1], [1.0, 1.0, 4.0])
    """
    from ._store import NeighborStore

    if isinstance(data, NeighborStore):
        return _store_kneighbors(data, queries, k=k, metric=metric, method=method,
                                 exclude_self=exclude_self, groups=groups, n_jobs=n_jobs)
    p = _Prepared(data, queries, k, metric, exclude_self, block_bytes, groups)
    method = _check_choice(method, "method", METHODS)
    recall = _check_recall(recall)
    n_threads = _threads(n_jobs)
    for name, v in (("n_cells", n_cells), ("n_probe", n_probe), ("n_trees", n_trees),
                    ("search_k", search_k), ("ef", ef)):
        _check_int(v, name, allow_none=True)
    rng = check_random_state(random_state)
    nq = len(p.q)
    if p.kk == 0 or nq == 0:
        return (np.full((nq, p.k), -1, dtype=np.int64), np.full((nq, p.k), np.inf, dtype=np.float32))
    if method == "auto":
        method = _auto_method(len(p.x), nq, p.x.shape[1], p.metric, recall)
        logger.debug("kneighbors: method='auto' -> %r", method)
    if method == "kdtree" and p.metric == "dot":
        raise ValueError("method='kdtree' serves metric 'euclidean', 'manhattan' or 'cosine', not 'dot'")
    if method == "exact":
        rows, dist = _exact(p.q, p.x, p.kk, p.metric, p.self_rows(), p.block_bytes, p.group_pair())
        return _pad(rows, dist, p.k)
    if method == "kdtree":
        def search(q, idx, knob, kf):
            return _kdtree(q, p.x, kf, p.metric, p.self_join, n_threads)[0]
        knob = 0
    else:
        search = _approx_searcher(method, p, rng, n_threads, n_cells=n_cells, n_trees=n_trees)
        knob = {"ivf": n_probe, "annoy": search_k, "graph": ef}[method]
        if knob is None:
            knob = _tune(search, p, rng, recall)
    if p.groups is None:
        rows = search(p.q, None, knob, p.kk)
    else:
        rows = _grouped(search, p, knob)
    rows, dist = _finish_blocked(p.q, p.x, rows, p.metric)
    return _pad(rows, dist, p.k)


def _grouped(search, p: _Prepared, knob: int) -> np.ndarray:
    """Rows of other groups: over-fetch by the largest group, drop the query's group, complete
    the queries left short exactly."""
    n_avail = len(p.x) - 1
    kf = min(n_avail, p.kk + p.max_group - 1)
    rows = search(p.q, None, knob, kf)
    g = p.groups
    bad = (rows < 0) | (g[np.maximum(rows, 0)] == g[:, None])
    # stable: keep the found order, the bad ones last
    order = np.argsort(bad, axis=1, kind="stable")[:, :p.kk]
    rows = np.where(np.take_along_axis(bad, order, axis=1), -1, np.take_along_axis(rows, order, axis=1))
    short = np.flatnonzero((rows < 0).any(axis=1))
    if len(short):
        r2, _ = _exact(p.q[short], p.x, p.kk, p.metric, p.self_rows(short), p.block_bytes,
                       p.group_pair(short))
        rows[short] = r2
    return rows


def _store_kneighbors(store, queries, *, k, metric, method, exclude_self, groups, n_jobs):
    """kneighbors over a NeighborStore: its own search; rows are positions in ``store.keys``."""
    if method != "auto":
        raise ValueError(f"data is a NeighborStore: it searches with its own index, so method must "
                         f"stay 'auto', got {method!r}")
    if metric != store.metric:
        raise ValueError(f"data is a NeighborStore with metric {store.metric!r}: pass that metric, "
                         f"got metric={metric!r}")
    if groups is not None:
        raise ValueError("groups is not supported when data is a NeighborStore (use its filters)")
    k = _check_int(k, "k")
    if queries is not None:
        if exclude_self is not None and _check_bool(exclude_self, "exclude_self"):
            raise ValueError("exclude_self=True needs queries=None; got separate queries")
        _, dist, pos = store.query_arrays(queries, k, n_jobs=n_jobs)
        return pos, dist
    ex = True if exclude_self is None else _check_bool(exclude_self, "exclude_self")
    store._maybe_rebuild()
    st = store._state
    slots = np.flatnonzero(st.alive[:st.n])
    if not len(slots):
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    q = np.ascontiguousarray(st.vec[slots])
    kk = max(1, min(k, st.n_alive - ex))
    if st.n_alive - ex <= 0:
        return np.full((len(q), k), -1, np.int64), np.full((len(q), k), np.inf, np.float32)
    s, d = store._search(q, kk, self_slots=slots if ex else None, n_jobs=n_jobs, st=st)
    _, d, pos = store._output(st, *store._pad(s, d, k))
    return pos, d


def _auto_method(n: int, nq: int, dim: int, metric: str, recall: float) -> str:
    if recall >= 1.0 or nq * n <= AUTO_EXACT_PAIRS:
        return "exact"
    if dim <= KDTREE_MAX_DIM and metric != "dot":
        return "kdtree"
    return AUTO_APPROX


def _approx_searcher(method: str, p: _Prepared, rng: np.random.Generator, n_threads: int, *,
                     n_cells: int | None, n_trees: int | None):
    """``search(q, query_rows or None, knob, k) -> rows (nq, k)`` for an approximate method."""
    if method == "ivf":
        ivf = _IVF(p.x, p.metric, n_cells, rng)

        def search(q, rows, knob, kf):
            own = p.self_rows(rows)
            return ivf.search(q, kf, knob, p.self_join, n_threads, qrows=own)[0]

        search.knobs = _doubling(1, len(ivf.cent))
        return search
    from ._store import NeighborStore

    if method == "graph" and n_trees is None:
        n_trees = GRAPH_TREES
    store = NeighborStore(p.x.shape[1], metric=p.metric, n_trees=n_trees or 50, n_jobs=n_threads,
                          random_state=int(rng.integers(0, 2**31 - 1)), search=method)
    store.add(np.arange(len(p.x), dtype=np.int64), p.x)
    store.rebuild()
    st = store._state

    def search(q, rows, knob, kf):
        own = p.self_rows(rows)
        kw = {"ef": knob} if method == "graph" else {"search_k": max(knob, knob * kf // max(p.kk, 1))}
        slots, _ = store._search(q, kf, self_slots=own, n_jobs=n_threads, st=st, **kw)
        return slots

    if method == "graph":
        search.knobs = _doubling(p.kk, 4096)
    else:
        search.knobs = _doubling(store.n_trees * p.kk, store.n_trees * p.kk * 256)
    return search


def _doubling(lo: int, hi: int) -> list[int]:
    out = [lo]
    while out[-1] < hi:
        out.append(min(hi, out[-1] * 2))
    return out


def _tune(search, p: _Prepared, rng: np.random.Generator, recall: float) -> int:
    """The smallest knob (of ``search.knobs``) whose recall@k on a sample reaches ``recall``."""
    nq = len(p.q)
    m = min(TUNE_QUERIES, nq)
    idx = np.sort(rng.choice(nq, size=m, replace=False))
    qs = p.q[idx]
    truth, truth_d = _exact(qs, p.x, p.kk, p.metric, p.self_rows(idx), p.block_bytes)
    knob = search.knobs[-1]
    for kn in search.knobs:
        found, found_d = _finish_blocked(qs, p.x, search(qs, idx, kn, p.kk), p.metric)
        r = _recall(found, truth, found_d, truth_d)
        logger.debug("kneighbors tune: knob %d -> recall %.4f", kn, r)
        if r >= recall:
            knob = kn
            break
    return knob


# -- both directions ---------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _scan(scores, row0, k_row, row_i, row_s, k_col, col_i, col_s):
    """Fold a score block (rows ``row0..`` of ``a`` x all of ``b``) into both top-k lists."""
    nr, nc = scores.shape
    for i in range(nr):
        g = row0 + i
        for j in range(nc):
            s = scores[i, j]
            if k_row > 0 and s < row_s[g, k_row - 1]:
                p = k_row - 1
                while p > 0 and s < row_s[g, p - 1]:
                    row_s[g, p] = row_s[g, p - 1]
                    row_i[g, p] = row_i[g, p - 1]
                    p -= 1
                row_s[g, p] = s
                row_i[g, p] = j
            if k_col > 0 and s < col_s[j, k_col - 1]:
                p = k_col - 1
                while p > 0 and s < col_s[j, p - 1]:
                    col_s[j, p] = col_s[j, p - 1]
                    col_i[j, p] = col_i[j, p - 1]
                    p -= 1
                col_s[j, p] = s
                col_i[j, p] = g


def cross_kneighbors(a: Any, b: Any, *, k: int, k_b: int | None = None, metric: str = "cosine",
                     method: str = "auto", **kwargs: Any
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both directions between two tables: each row of ``a`` in ``b`` and each row of ``b`` in ``a``.

    Parameters
    ----------
    a, b : array-like or DataFrame of shapes (n_a, dim) and (n_b, dim)
    k : int
        Neighbours in ``b`` of each row of ``a``.
    k_b : int, optional
        Neighbours in ``a`` of each row of ``b`` (default ``k``).
    metric, method, **kwargs
        As :func:`kneighbors`. Exactly (``"exact"``, or ``"auto"`` on small work) both
        directions come from one pass over blocks of the (a, b) score matrix.

    Returns
    -------
    indices_ab : int64 ndarray of shape (n_a, k); distances_ab : float32 (n_a, k)
    indices_ba : int64 ndarray of shape (n_b, k_b); distances_ba : float32 (n_b, k_b)
        As :func:`kneighbors` (row numbers into ``b`` / ``a``, -1 / inf padding).
    """
    metric = _check_choice(metric, "metric", METRICS)
    method = _check_choice(method, "method", METHODS)
    x_a, _ = check_vectors(a, name="a")
    x_b, _ = check_vectors(b, name="b", dim=x_a.shape[1])
    k = _check_int(k, "k")
    k_b = k if k_b is None else _check_int(k_b, "k_b")
    recall = _check_recall(kwargs.get("recall", 0.95))
    if method == "auto" and (recall >= 1.0 or len(x_a) * len(x_b) <= AUTO_EXACT_PAIRS):
        method = "exact"
    if method != "exact":
        ia, da = kneighbors(x_b, x_a, k=k, metric=metric, method=method, **kwargs)
        ib, db = kneighbors(x_a, x_b, k=k_b, metric=metric, method=method, **kwargs)
        return ia, da, ib, db
    bb = _check_int(kwargs.get("block_bytes"), "block_bytes", low=1 << 16, allow_none=True) or BLOCK_BYTES
    ka, kb = min(k, len(x_b)), min(k_b, len(x_a))
    row_i = np.full((len(x_a), ka), -1, dtype=np.int64)
    row_s = np.full((len(x_a), ka), np.inf, dtype=np.float32)
    col_i = np.full((len(x_b), kb), -1, dtype=np.int64)
    col_s = np.full((len(x_b), kb), np.inf, dtype=np.float32)
    qa, xb = (_unit(x_a), _unit(x_b)) if metric == "cosine" else (x_a, x_b)
    nrm = np.ones(len(xb), np.float32) if metric == "cosine" else None
    sq = np.einsum("ij,ij->i", xb, xb) if metric == "euclidean" else None
    step = max(1, bb // (4 * len(xb)))
    for s in range(0, len(qa), step):
        sc = _block_scores(qa[s:s + step], xb, metric, nrm, sq)
        _scan(sc, s, ka, row_i, row_s, kb, col_i, col_s)
    ia, da = _finish_blocked(x_a, x_b, row_i, metric)
    ib, db = _finish_blocked(x_b, x_a, col_i, metric)
    return (*_pad(ia, da, k), *_pad(ib, db, k_b))

