"""Evaluation of record matching: pairs, blocking and clusters.

Pairs are given as a DataFrame (its first two columns are the two keys), a
two-level MultiIndex, or a sequence of ``(key_a, key_b)`` tuples. For
deduplication (``unordered=True``) ``(x, y)`` and ``(y, x)`` are the same
pair and ``(x, x)`` is not a pair.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["blocking_metrics", "cluster_metrics", "clusters_to_pairs", "pair_metrics"]


def _two_columns(pairs: Any) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(pairs, pd.DataFrame):
        if pairs.shape[1] < 2:
            raise ValueError(f"pairs DataFrame needs two key columns, got {list(pairs.columns)}")
        return pairs.iloc[:, 0].to_numpy(dtype=object), pairs.iloc[:, 1].to_numpy(dtype=object)
    if isinstance(pairs, pd.MultiIndex):
        return (pairs.get_level_values(0).to_numpy(dtype=object),
                pairs.get_level_values(1).to_numpy(dtype=object))
    lst = list(pairs)
    if any(len(p) != 2 for p in lst):
        raise ValueError("pairs must be (key_a, key_b) tuples")
    a = np.empty(len(lst), dtype=object)
    b = np.empty(len(lst), dtype=object)
    for i, (x, y) in enumerate(lst):
        a[i], b[i] = x, y
    return a, b


def _codes(sets: list[tuple[np.ndarray, np.ndarray]], unordered: bool) -> list[np.ndarray]:
    """Encode every pair set as unique int64 codes over one shared key factorisation."""
    if unordered:
        allk = np.concatenate([np.concatenate([a, b]) for a, b in sets]) if sets else np.zeros(0, object)
        _, uniq = pd.factorize(pd.Index(allk, tupleize_cols=False))
        ua = ub = pd.Index(uniq, tupleize_cols=False)
    else:
        _, ua = pd.factorize(pd.Index(np.concatenate([a for a, _ in sets]), tupleize_cols=False))
        _, ub = pd.factorize(pd.Index(np.concatenate([b for _, b in sets]), tupleize_cols=False))
        ua, ub = pd.Index(ua, tupleize_cols=False), pd.Index(ub, tupleize_cols=False)
    nb = max(len(ub), 1)
    out = []
    for a, b in sets:
        ca = ua.get_indexer(pd.Index(a, tupleize_cols=False)).astype(np.int64)
        cb = ub.get_indexer(pd.Index(b, tupleize_cols=False)).astype(np.int64)
        if unordered:
            keep = ca != cb
            ca, cb = ca[keep], cb[keep]
            ca, cb = np.minimum(ca, cb), np.maximum(ca, cb)
        out.append(np.unique(ca * nb + cb))
    return out


def pair_metrics(predicted: Any, true: Any, *, unordered: bool = False) -> dict:
    """Pair precision, recall and F1 of ``predicted`` against ``true`` pairs.

    Parameters
    ----------
    predicted, true : DataFrame, MultiIndex or sequence of (key_a, key_b)
        A DataFrame's first two columns are the keys.
    unordered : bool, default False
        Deduplication: ``(x, y)`` and ``(y, x)`` are one pair, ``(x, x)`` none.

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``tp``, ``fp``, ``fn`` (precision is
        1.0 when nothing is predicted; recall is 1.0 when there is nothing to find).

    Examples
    --------
    >>> pair_metrics([("a1", "b1"), ("a2", "b3")], [("a1", "b1"), ("a2", "b2")])["f1"]
    0.5
    """
    p, t = _codes([_two_columns(predicted), _two_columns(true)], unordered)
    tp = len(np.intersect1d(p, t, assume_unique=True))
    fp, fn = len(p) - tp, len(t) - tp
    prec = tp / len(p) if len(p) else 1.0
    rec = tp / len(t) if len(t) else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
    return {"precision": prec, "recall": rec, "f1": f1, "tp": tp, "fp": int(fp), "fn": int(fn)}


def blocking_metrics(candidates: Any, true: Any, n_a: int, n_b: int | None = None) -> dict:
    """Pair completeness and reduction ratio of a set of candidate pairs.

    Parameters
    ----------
    candidates, true : pairs
    n_a : int
        Records in table A.
    n_b : int or None
        Records in table B (linkage: ``n_a * n_b`` possible pairs); None means
        deduplication of one table (``n_a * (n_a - 1) / 2`` possible unordered pairs).

    Returns
    -------
    dict with ``pair_completeness`` (share of true pairs among the candidates),
    ``reduction_ratio`` (``1 - n_candidates / n_possible``) and ``n_candidates``.

    Examples
    --------
    >>> blocking_metrics([(1, 1), (1, 2)], [(1, 1), (2, 2)], n_a=2, n_b=2)
    {'pair_completeness': 0.5, 'reduction_ratio': 0.5, 'n_candidates': 2}
    """
    unordered = n_b is None
    c, t = _codes([_two_columns(candidates), _two_columns(true)], unordered)
    total = n_a * (n_a - 1) / 2 if unordered else n_a * n_b
    pc = len(np.intersect1d(c, t, assume_unique=True)) / len(t) if len(t) else 1.0
    return {"pair_completeness": float(pc), "reduction_ratio": float(1 - len(c) / total) if total else 0.0,
            "n_candidates": len(c)}


def clusters_to_pairs(clusters: Any) -> pd.DataFrame:
    """Every unordered pair of records that share a cluster.

    Parameters
    ----------
    clusters : Series or one-column DataFrame
        Cluster label per record (index = record key).

    Returns
    -------
    DataFrame with columns ``index_a``, ``index_b`` (one row per pair).
    """
    s = clusters.iloc[:, 0] if isinstance(clusters, pd.DataFrame) else pd.Series(clusters)
    codes, _ = pd.factorize(s)
    order = np.argsort(codes, kind="stable")
    codes_s = codes[order]
    keys = s.index.to_numpy(dtype=object)[order]
    starts = np.flatnonzero(np.r_[True, codes_s[1:] != codes_s[:-1]])
    sizes = np.diff(np.r_[starts, len(codes_s)])
    ia, ib = [], []
    for size in np.unique(sizes[sizes > 1]):
        st = starts[sizes == size]
        r, c = np.triu_indices(size, 1)
        ia.append((st[:, None] + r[None, :]).ravel())
        ib.append((st[:, None] + c[None, :]).ravel())
    ia = np.concatenate(ia) if ia else np.zeros(0, dtype=np.int64)
    ib = np.concatenate(ib) if ib else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"index_a": keys[ia], "index_b": keys[ib]})


def cluster_metrics(predicted: Any, true: Any) -> dict:
    """B-cubed and pairwise precision / recall / F1 of a clustering.

    ``predicted`` and ``true`` are Series of cluster labels indexed by record
    key; records present in only one of them are ignored.

    Returns
    -------
    dict with ``bcubed_precision``, ``bcubed_recall``, ``bcubed_f1`` (Bagga &
    Baldwin 1998: per record, the share of its predicted cluster that is in its
    true cluster, and vice versa, averaged over records) and ``pair_precision``,
    ``pair_recall``, ``pair_f1`` (over all within-cluster pairs).

    Examples
    --------
    >>> import pandas as pd
    >>> m = cluster_metrics(pd.Series([0, 0, 0, 1]), pd.Series([0, 0, 1, 1]))
    >>> round(m["bcubed_precision"], 4), round(m["bcubed_recall"], 4), m["pair_precision"]
    (0.5833, 0.75, 0.3333333333333333)
    """
    p = predicted.iloc[:, 0] if isinstance(predicted, pd.DataFrame) else pd.Series(predicted)
    t = true.iloc[:, 0] if isinstance(true, pd.DataFrame) else pd.Series(true)
    j = pd.concat([p.rename("p"), t.rename("t")], axis=1, join="inner")
    if len(j) == 0:
        raise ValueError("predicted and true share no record keys")
    pc, _ = pd.factorize(j["p"])
    tc, _ = pd.factorize(j["t"])
    n = len(j)
    size_p = np.bincount(pc)
    size_t = np.bincount(tc)
    joint = pd.Series(1, index=pd.MultiIndex.from_arrays([pc, tc])).groupby(level=[0, 1]).sum()
    jp = joint.index.get_level_values(0).to_numpy()
    jt = joint.index.get_level_values(1).to_numpy()
    c = joint.to_numpy().astype(np.float64)
    bp = float((c * c / size_p[jp]).sum() / n)
    br = float((c * c / size_t[jt]).sum() / n)
    tp = float((c * (c - 1) / 2).sum())
    npred = float((size_p * (size_p - 1) / 2).sum())
    ntrue = float((size_t * (size_t - 1) / 2).sum())
    pp = tp / npred if npred else 1.0
    pr = tp / ntrue if ntrue else 1.0
    return {"bcubed_precision": bp, "bcubed_recall": br,
            "bcubed_f1": 2 * bp * br / (bp + br) if bp + br else 0.0,
            "pair_precision": pp, "pair_recall": pr,
            "pair_f1": 2 * pp * pr / (pp + pr) if pp + pr else 0.0}
