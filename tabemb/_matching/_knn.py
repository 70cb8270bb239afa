"""Exact blocking by cosine similarity: each record's k most similar records of the other table.

For linkage both directions (A -> B and B -> A) come from the same similarity
blocks: ``A[block] @ B.T`` is computed once per block of A rows, and one
compiled pass over it updates the k best of each A row and of each B column.
That is half the matrix products of two one-sided searches and no
``argpartition`` (the k best are kept by insertion, k is small).

Ties are broken by the smaller row number (scan order plus strict ``>``), so
the result is deterministic. The inputs are unit vectors (cosine = dot product).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["exact_topk", "ivf_topk"]

BLOCK_BYTES = 64 << 20


@numba.njit(cache=True, inline="always")
def _insert(best_i, best_s, r, j, s, k):
    """Insert ``(s, j)`` into row ``r`` of the descending top-k lists (``s`` beats the last)."""
    p = k - 1
    while p > 0 and s > best_s[r, p - 1]:
        best_s[r, p] = best_s[r, p - 1]
        best_i[r, p] = best_i[r, p - 1]
        p -= 1
    best_s[r, p] = s
    best_i[r, p] = j


@numba.njit(cache=True)
def _scan(sim, row0, k_row, row_i, row_s, k_col, col_i, col_s, skip_self):
    """Fold the block ``sim`` (rows ``row0..``) into the row and column top-k lists."""
    nr, nc = sim.shape
    for i in range(nr):
        g = row0 + i
        for j in range(nc):
            if skip_self and j == g:
                continue
            s = sim[i, j]
            if k_row > 0 and s > row_s[g, k_row - 1]:
                _insert(row_i, row_s, g, j, s, k_row)
            if k_col > 0 and s > col_s[j, k_col - 1]:
                _insert(col_i, col_s, j, g, s, k_col)


def exact_topk(a: np.ndarray, b: np.ndarray | None, k_a: int, k_b: int = 0, *,
               block_bytes: int = BLOCK_BYTES) -> tuple[np.ndarray, np.ndarray]:
    """Top-k by dot product (cosine for unit rows), exactly.

    Parameters
    ----------
    a : ndarray of shape (n_a, dim), float32
    b : ndarray of shape (n_b, dim), float32, or None
        None: search ``a`` against itself, each row never returning itself.
    k_a : int
        Neighbours in ``b`` kept for each row of ``a``.
    k_b : int
        Neighbours in ``a`` kept for each row of ``b`` (linkage; ignored when ``b`` is None).

    Returns
    -------
    nn_a : ndarray of shape (n_a, min(k_a, available)), int64
        Row numbers into ``b`` (or ``a``), most similar first; -1 where fewer exist.
    nn_b : ndarray of shape (n_b, min(k_b, n_a)), int64
        Row numbers into ``a`` (empty when ``b`` is None or ``k_b == 0``).
    """
    a = np.ascontiguousarray(a, dtype=np.float32)
    self_join = b is None
    b = a if self_join else np.ascontiguousarray(b, dtype=np.float32)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be 2-d with the same width, got shapes {a.shape} and {b.shape}")
    if int(k_a) < 0 or int(k_b) < 0:
        raise ValueError(f"k_a and k_b must be >= 0, got {k_a} and {k_b}")
    na, nb = len(a), len(b)
    ka = min(int(k_a), nb - 1 if self_join else nb)
    kb = 0 if self_join else min(int(k_b), na)
    ka, kb = max(ka, 0), max(kb, 0)
    row_i = np.full((na, max(ka, 1)), -1, dtype=np.int64)
    row_s = np.full((na, max(ka, 1)), -np.inf, dtype=np.float32)
    col_i = np.full((nb, max(kb, 1)), -1, dtype=np.int64)
    col_s = np.full((nb, max(kb, 1)), -np.inf, dtype=np.float32)
    if (ka or kb) and na and nb:
        step = max(1, int(block_bytes) // (4 * nb))
        bt = b.T
        for s in range(0, na, step):
            sim = a[s:s + step] @ bt
            _scan(sim, s, ka, row_i, row_s, kb, col_i, col_s, self_join)
    return row_i[:, :ka], col_i[:, :kb]


# -- approximate: inverted lists over spherical k-means cells (large tables) -----------------------
@numba.njit(cache=True)
def _top_cells(sim, n_probe, out, row0):
    """The ``n_probe`` best columns of every row of ``sim`` into ``out[row0 + i]`` (best first)."""
    nr, nc = sim.shape
    best_i = np.empty((1, n_probe), dtype=np.int64)
    best_s = np.empty((1, n_probe), dtype=np.float32)
    for i in range(nr):
        best_i[0, :] = -1
        best_s[0, :] = -np.inf
        for j in range(nc):
            if sim[i, j] > best_s[0, n_probe - 1]:
                _insert(best_i, best_s, 0, j, sim[i, j], n_probe)
        out[row0 + i, :] = best_i[0, :]


@numba.njit(cache=True)
def _fold(sim, qids, mids, k, row_i, row_s, skip_self):
    """Fold the block ``sim`` (queries ``qids`` x base rows ``mids``) into the queries' top-k."""
    for r in range(len(qids)):
        g = qids[r]
        for j in range(len(mids)):
            m = mids[j]
            if skip_self and m == g:
                continue
            s = sim[r, j]
            if s > row_s[g, k - 1]:
                _insert(row_i, row_s, g, m, s, k)


def _spherical_kmeans(x: np.ndarray, n_cells: int, rng: np.random.Generator, n_iter: int = 6,
                      sample: int = 64) -> np.ndarray:
    """Unit centroids from ``n_iter`` rounds of spherical k-means on ``sample * n_cells`` rows."""
    pick = rng.choice(len(x), size=min(len(x), sample * n_cells), replace=False)
    xs = x[np.sort(pick)]
    cent = xs[rng.choice(len(xs), size=n_cells, replace=False)].copy()
    for _ in range(n_iter):
        lab = np.empty(len(xs), dtype=np.int64)
        for s in range(0, len(xs), 16384):
            lab[s:s + 16384] = np.argmax(xs[s:s + 16384] @ cent.T, axis=1)
        new = np.zeros_like(cent)
        np.add.at(new, lab, xs)
        nrm = np.linalg.norm(new, axis=1)
        empty = nrm == 0
        new[empty] = xs[rng.choice(len(xs), size=int(empty.sum()), replace=False)]
        nrm[empty] = 1.0
        cent = (new / nrm[:, None]).astype(np.float32)
    return cent


def ivf_topk(queries: np.ndarray, base: np.ndarray | None, k: int, *, n_probe: int = 4,
             n_cells: int | None = None, random_state: int = 0) -> np.ndarray:
    """Approximate top-k by dot product (unit rows): inverted lists over spherical k-means cells.

    ``base`` rows go to their nearest cell (``n_cells``, default ``sqrt(n_base)``); each query
    is compared exactly with every row of its ``n_probe`` nearest cells (one matrix product
    per cell over all the queries that probe it). ``base=None``: the queries against
    themselves, never returning a row itself. Returns ``(n_queries, k)`` int64 row numbers
    into ``base``, best first, -1 where fewer were found. Deterministic for a ``random_state``.
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    self_join = base is None
    x = q if self_join else np.ascontiguousarray(base, dtype=np.float32)
    if q.ndim != 2 or x.ndim != 2 or q.shape[1] != x.shape[1]:
        raise ValueError(f"queries and base must be 2-d with the same width, got {q.shape} and {x.shape}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rng = np.random.default_rng(random_state)
    nc = int(n_cells) if n_cells else max(1, int(np.sqrt(len(x))))
    nc = min(nc, len(x))
    n_probe = max(1, min(int(n_probe), nc))
    cent = _spherical_kmeans(x, nc, rng)
    step = 16384
    cell = np.empty(len(x), dtype=np.int64)
    for s in range(0, len(x), step):
        cell[s:s + step] = np.argmax(x[s:s + step] @ cent.T, axis=1)
    probe = np.empty((len(q), n_probe), dtype=np.int64)
    for s in range(0, len(q), step):
        _top_cells(q[s:s + step] @ cent.T, n_probe, probe, s)
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(nc + 1))
    pq = np.repeat(np.arange(len(q), dtype=np.int64), n_probe)
    pc = probe.ravel()
    ok = pc >= 0
    pq, pc = pq[ok], pc[ok]
    porder = np.argsort(pc, kind="stable")
    pq = pq[porder]
    pbounds = np.searchsorted(pc[porder], np.arange(nc + 1))
    row_i = np.full((len(q), k), -1, dtype=np.int64)
    row_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    for c in range(nc):
        mids = order[bounds[c]:bounds[c + 1]]
        qids = pq[pbounds[c]:pbounds[c + 1]]
        if len(mids) == 0 or len(qids) == 0:
            continue
        xc = x[mids]
        for s in range(0, len(qids), step):
            qs = qids[s:s + step]
            _fold(q[qs] @ xc.T, qs, mids, k, row_i, row_s, self_join)
    return row_i
