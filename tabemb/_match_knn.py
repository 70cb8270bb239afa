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

__all__ = ["exact_topk"]

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
