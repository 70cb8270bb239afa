"""Blocked exact k-nearest-neighbour search in numpy (float32).

Used by :class:`~nnstore.NeighborStore` for its exact mode, for the delta
buffer of not-yet-indexed vectors, for selective filters, and as ground truth
for ``recall_at_k``. Queries are processed in blocks so that the
(block, n) distance matrix stays under ``block_bytes``; cosine, euclidean and
dot come from one matrix product per block, manhattan from a broadcast over
smaller blocks. The k best of each row are selected with ``argpartition`` and
then ordered by (distance, row) so ties are broken the same way every time.
Final euclidean/manhattan distances are recomputed directly from the chosen
vectors (no cancellation error from the ``|q|^2 + |x|^2 - 2 q.x`` expansion).
"""

from __future__ import annotations

import numpy as np

__all__ = ["exact_search", "pair_distances"]

BLOCK_BYTES = 64 << 20


def pair_distances(q: np.ndarray, x: np.ndarray, metric: str) -> np.ndarray:
    """Distances between matching rows ``q[..., :]`` and ``x[..., :]`` (broadcasting)."""
    if metric == "euclidean":
        return np.sqrt(np.square(q - x).sum(-1, dtype=np.float32)).astype(np.float32)
    if metric == "manhattan":
        return np.abs(q - x).sum(-1, dtype=np.float32).astype(np.float32)
    if metric == "dot":
        return (-(q * x).sum(-1, dtype=np.float32)).astype(np.float32)
    if metric == "cosine":
        qn = np.linalg.norm(q, axis=-1)
        xn = np.linalg.norm(x, axis=-1)
        den = qn * xn
        dot = (q * x).sum(-1, dtype=np.float32)
        sim = np.divide(dot, den, out=np.zeros_like(dot), where=den > 0)
        return (1.0 - sim).astype(np.float32)
    raise ValueError(f"unknown metric {metric!r}")


def _block_scores(qb: np.ndarray, base: np.ndarray, metric: str, base_norms: np.ndarray | None,
                  base_sq: np.ndarray | None) -> np.ndarray:
    """(len(qb), n) float32 scores, smaller = closer (not always the final distance)."""
    if metric == "manhattan":
        out = np.empty((len(qb), len(base)), dtype=np.float32)
        step = max(1, (BLOCK_BYTES // 4) // max(1, len(qb) * base.shape[1]))
        for s in range(0, len(base), step):
            out[:, s:s + step] = np.abs(qb[:, None, :] - base[None, s:s + step, :]).sum(-1)
        return out
    prod = qb @ base.T
    if metric == "dot":
        return np.negative(prod, out=prod)
    if metric == "euclidean":
        qsq = np.einsum("ij,ij->i", qb, qb)
        prod *= -2.0
        prod += qsq[:, None]
        prod += base_sq[None, :]
        return prod
    # cosine: queries are normalised by the caller
    with np.errstate(divide="ignore", invalid="ignore"):
        prod /= base_norms[None, :]
    prod[:, base_norms == 0] = 0.0
    np.subtract(1.0, prod, out=prod)
    return prod


def exact_search(queries: np.ndarray, base: np.ndarray, k: int, metric: str, *,
                 exclude: list[np.ndarray | None] | None = None,
                 exclude_one: np.ndarray | None = None,
                 block_bytes: int | None = None,
                 groups: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest rows of ``base`` for each query.

    Parameters
    ----------
    queries : ndarray of shape (n_queries, dim), float32
    base : ndarray of shape (n, dim), float32
    k : int
    metric : {"cosine", "euclidean", "dot", "manhattan"}
    exclude : list of (int arrays or None), length n_queries, optional
        Rows of ``base`` that query i must not return.
    exclude_one : int ndarray of shape (n_queries,), optional
        One row per query never returned (-1: none), vectorised (self-exclusion).
    groups : (int ndarray (n_queries,), int ndarray (n,)), optional
        Group codes of the queries and of ``base``: a query never returns a row of its group.

    Returns
    -------
    rows : ndarray of shape (n_queries, k), int64
        Row numbers into ``base``, -1 where fewer than k rows exist.
    distances : ndarray of shape (n_queries, k), float32
        Ascending; inf where the row is -1.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    base = np.ascontiguousarray(base, dtype=np.float32)
    nq, n = len(queries), len(base)
    rows = np.full((nq, k), -1, dtype=np.int64)
    dists = np.full((nq, k), np.inf, dtype=np.float32)
    if nq == 0 or n == 0:
        return rows, dists
    base_norms = base_sq = None
    q = queries
    if metric == "cosine":
        base_norms = np.linalg.norm(base, axis=1).astype(np.float32)
        # query norms in float64: a huge (but finite) query must not overflow to inf here
        qn = np.sqrt(np.einsum("ij,ij->i", q, q, dtype=np.float64))[:, None]
        q = np.divide(q, qn, out=np.zeros(q.shape, dtype=np.float64), where=qn > 0).astype(np.float32)
    elif metric == "euclidean":
        base_sq = np.einsum("ij,ij->i", base, base)
    budget = block_bytes or BLOCK_BYTES
    bq = max(1, budget // (4 * n))
    kk = min(k, n)
    for s in range(0, nq, bq):
        qb = q[s:s + bq]
        scores = _block_scores(qb, base, metric, base_norms, base_sq)
        if exclude_one is not None:
            eo = exclude_one[s:s + bq]
            hit = np.flatnonzero(eo >= 0)
            scores[hit, eo[hit]] = np.inf
        if groups is not None:
            scores[groups[0][s:s + bq, None] == groups[1][None, :]] = np.inf
        if exclude is not None:
            for i in range(len(qb)):
                ex = exclude[s + i]
                if ex is not None and len(ex):
                    scores[i, ex] = np.inf
        if kk < n:
            part = np.argpartition(scores, kk - 1, axis=1)[:, :kk]
        else:
            part = np.broadcast_to(np.arange(n), (len(qb), n)).copy()
        psc = np.take_along_axis(scores, part, axis=1)
        # order rows by (score, row) for deterministic tie-breaking
        order = np.argsort(part, axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        psc = np.take_along_axis(psc, order, axis=1)
        order = np.argsort(psc, axis=1, kind="stable")
        part = np.take_along_axis(part, order, axis=1)
        psc = np.take_along_axis(psc, order, axis=1)
        if metric in ("euclidean", "manhattan"):
            d = pair_distances(queries[s:s + bq, None, :], base[part], metric)
            d[~np.isfinite(psc)] = np.inf
            order = np.argsort(d, axis=1, kind="stable")
            part = np.take_along_axis(part, order, axis=1)
            psc = np.take_along_axis(d, order, axis=1)
        bad = ~np.isfinite(psc)
        part[bad] = -1
        rows[s:s + bq, :kk] = part
        dists[s:s + bq, :kk] = psc
    return rows, dists
