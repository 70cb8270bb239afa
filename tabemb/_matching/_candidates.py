"""Candidate pairs (blocking): nearest neighbours of the embeddings plus exact blocking keys.

Each record's ``n_neighbors`` nearest records of the other table by cosine
similarity (both directions for linkage; the table itself for
deduplication, never a record with itself): exact while the two tables'
sizes multiply to at most :data:`EXACT_MAX`, else approximate (inverted lists
over k-means cells, or Annoy trees).
Records that agree exactly on a blocking-key column are added (blocks
larger than ``max_block_size`` records per table are skipped). Pairs come
back unique, as sorted row positions; for deduplication ``ia < ib``. The
search itself is :func:`nnstore.kneighbors`'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nnstore import cross_kneighbors, kneighbors

__all__ = ["EXACT_MAX", "blocking_key_pairs", "candidate_pairs", "neighbour_pairs"]

EXACT_MAX = 100_000_000  # query x base sizes up to which blocking uses exact search


def _pairs_of(nn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query row, neighbour row) of every found neighbour of a (n_queries, k) table (-1 = none)."""
    q = np.repeat(np.arange(len(nn), dtype=np.int64), nn.shape[1])
    r = nn.ravel()
    ok = r >= 0
    return q[ok], r[ok]


def neighbour_pairs(ea: np.ndarray, eb: np.ndarray | None, k: int, *, approximate: str, n_probe: int,
                    n_trees: int, search_k: int | None, n_jobs, seed: int) -> list:
    """The nearest-neighbour candidate pairs as a list of ``(ia, ib)`` parts (duplicates possible).

    All search goes through :func:`nnstore.kneighbors` (cosine): ``"exact"`` while
    ``n_queries * n_rows <= EXACT_MAX`` (for linkage both directions from one pass,
    :func:`nnstore.cross_kneighbors`), else ``approximate`` (``"ivf"`` with ``n_probe``
    cells per query, or ``"annoy"`` with ``n_trees`` trees and ``search_k`` nodes,
    default ``8 * n_trees * k``). ``eb=None``: deduplication of ``ea`` (each record's
    ``k`` nearest others).
    """
    opts = {"metric": "cosine", "n_jobs": n_jobs, "random_state": seed}
    if approximate == "ivf":
        opts.update(method="ivf", n_probe=n_probe)
    else:
        opts.update(method="annoy", n_trees=n_trees)
    parts = []
    if eb is None:
        if len(ea) > 1:
            kk = min(k, len(ea) - 1)
            if len(ea) * len(ea) <= EXACT_MAX:
                nn = kneighbors(ea, k=kk, metric="cosine", method="exact")[0]
            else:
                if approximate == "annoy":
                    opts["search_k"] = search_k or n_trees * (kk + 1) * 8
                nn = kneighbors(ea, k=kk, **opts)[0]
            parts.append(_pairs_of(nn))
        return parts
    ka, kb = min(k, len(eb)), min(k, len(ea))
    if len(ea) * len(eb) <= EXACT_MAX:
        nn_a, _, nn_b, _ = cross_kneighbors(ea, eb, k=ka, k_b=kb, metric="cosine", method="exact")
    else:
        if approximate == "annoy":
            opts["search_k"] = search_k or n_trees * ka * 8
        nn_a = kneighbors(eb, ea, k=ka, **opts)[0]
        if approximate == "annoy":
            opts["search_k"] = search_k or n_trees * kb * 8
        nn_b = kneighbors(ea, eb, k=kb, **opts)[0]
    parts.append(_pairs_of(nn_a))
    qb, ra = _pairs_of(nn_b)
    parts.append((ra, qb))
    return parts


def blocking_key_pairs(va: pd.Series, vb: pd.Series | None, max_block_size: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the record pairs that agree on a key (stripped, lower-cased), in blocks of
    at most ``max_block_size`` records per table. ``vb=None``: pairs within ``va``."""
    sa = va.astype("string").str.strip().str.lower().reset_index(drop=True)
    fa = pd.DataFrame({"key": sa, "i": np.arange(len(sa))}).dropna()
    if vb is None:
        fb = fa
    else:
        sb = vb.astype("string").str.strip().str.lower().reset_index(drop=True)
        fb = pd.DataFrame({"key": sb, "i": np.arange(len(sb))}).dropna()
    ca, cb = fa["key"].value_counts(), fb["key"].value_counts()
    ok = set(ca.index[ca <= max_block_size]) & set(cb.index[cb <= max_block_size])
    fa, fb = fa[fa["key"].isin(ok)], fb[fb["key"].isin(ok)]
    m = fa.merge(fb, on="key", suffixes=("_a", "_b"))
    return m["i_a"].to_numpy(np.int64), m["i_b"].to_numpy(np.int64)


def candidate_pairs(a: pd.DataFrame, b: pd.DataFrame | None, ea: np.ndarray, eb: np.ndarray | None, *,
                    n_neighbors: int, blocking_keys, max_block_size: int, approximate: str, n_probe: int,
                    n_trees: int, search_k: int | None, n_jobs, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Unique candidate pairs ``(ia, ib)`` (int64 row positions, sorted by ``ia`` then ``ib``).

    Parameters
    ----------
    a, b : DataFrame
        The compared columns of the two tables (``b=None``: deduplicate ``a``).
    ea, eb : ndarray of shape (n_a, dim), (n_b, dim)
        Unit embeddings of the two tables (``eb`` ignored when ``b`` is None).
    n_neighbors : int
        Neighbours per record (each direction for linkage).
    blocking_keys : str, list of str or None
        Compared columns whose exact agreement adds pairs.
    max_block_size, approximate, n_probe, n_trees, search_k, n_jobs
        As :class:`~tabemb.RecordMatcher`.
    seed : int
        Seed of the approximate search.

    Raises
    ------
    KeyError
        A blocking key that is not a compared column.
    """
    dedup = b is None
    parts = neighbour_pairs(ea, None if dedup else eb, int(n_neighbors), approximate=approximate,
                            n_probe=n_probe, n_trees=n_trees, search_k=search_k, n_jobs=n_jobs, seed=seed)
    for key in ([blocking_keys] if isinstance(blocking_keys, str) else list(blocking_keys or [])):
        if key not in a.columns:
            raise KeyError(f"blocking key {key!r} is not a compared column ({list(a.columns)})")
        parts.append(blocking_key_pairs(a[key], None if dedup else b[key], max_block_size))
    ia = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    ib = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    if dedup:
        keep = ia != ib
        ia, ib = np.minimum(ia[keep], ib[keep]), np.maximum(ia[keep], ib[keep])
    nb = len(a) if dedup else len(b)
    code = np.unique(ia.astype(np.int64) * nb + ib)
    return code // nb, code % nb
