"""Retrieval metrics: score ranked lists against the relevant items.

Per query, every function takes ``ranked`` (the returned keys, best first: a
list, array or Series) and ``relevant`` (a collection of the keys that count
as hits) and returns a float. Duplicates in ``ranked`` count once (the first
occurrence). ``None`` entries (the padding of ``NeighborStore.query_arrays``)
are ignored.

=======================  ====================================================================
precision_at_k           hits in the top k / k
recall_at_k              hits in the top k / number of relevant items (nan if none)
top_k_accuracy           1.0 if the one true item is in the top k else 0.0
hit_rate                 1.0 if any relevant item is in the top k else 0.0
mrr                      1 / rank of the first relevant item (rank from 1), 0.0 if none
ndcg_at_k                DCG@k / ideal DCG@k, gain ``g / log2(rank + 1)``; binary gains, or a
                         mapping key -> graded gain
average_precision        mean of precision@i over the ranks i of hits, divided by
                         ``min(len(relevant), k)`` (``len(relevant)`` when k is None)
catalogue_coverage       distinct keys recommended in any top-k list / catalogue size
=======================  ====================================================================

Batch forms: :func:`evaluate` scores a results DataFrame shaped like
``NeighborStore.query`` output (columns ``query``, ``rank``, ``key``) against
the relevant items per query (a mapping ``query -> collection``, or a
DataFrame with columns ``query`` and ``key``), and returns the per-query
scores or their means. Queries absent from the results score as empty lists;
``recall_at_k`` skips (nan) queries with no relevant items when averaging.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "average_precision",
    "catalogue_coverage",
    "evaluate",
    "hit_rate",
    "mrr",
    "ndcg_at_k",
    "precision_at_k",
    "recall_at_k",
    "top_k_accuracy",
]


def _check_k(k: Any, name: str = "k") -> int:
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"{name} must be a positive int, got {k!r}")
    return int(k)


def _top(ranked: Iterable[Hashable], k: int | None) -> list:
    """The first k distinct non-None keys of ``ranked``."""
    if isinstance(ranked, (str, bytes)):
        raise TypeError("ranked must be a sequence of keys, not a string")
    out, seen = [], set()
    items = ranked.tolist() if isinstance(ranked, (np.ndarray, pd.Series, pd.Index)) else ranked
    for x in items:
        if x is None or x in seen:
            continue
        seen.add(x)
        out.append(x)
        if k is not None and len(out) == k:
            break
    return out


def _relset(relevant: Any) -> set:
    if relevant is None:
        return set()
    if isinstance(relevant, (str, bytes)) or not isinstance(relevant, Iterable):
        return {relevant}
    items = relevant.tolist() if isinstance(relevant, (np.ndarray, pd.Series, pd.Index)) else relevant
    return set(items)


def precision_at_k(ranked: Iterable, relevant: Collection, k: int) -> float:
    """Hits among the top ``k`` divided by ``k``."""
    k = _check_k(k)
    rel = _relset(relevant)
    return sum(x in rel for x in _top(ranked, k)) / k


def recall_at_k(ranked: Iterable, relevant: Collection, k: int) -> float:
    """Hits among the top ``k`` divided by ``len(relevant)``; nan when nothing is relevant."""
    k = _check_k(k)
    rel = _relset(relevant)
    if not rel:
        return float("nan")
    return sum(x in rel for x in _top(ranked, k)) / len(rel)


def top_k_accuracy(ranked: Iterable, true_key: Hashable, k: int) -> float:
    """1.0 when the single true key is among the top ``k``, else 0.0."""
    k = _check_k(k)
    return float(true_key in _top(ranked, k))


def hit_rate(ranked: Iterable, relevant: Collection, k: int) -> float:
    """1.0 when any relevant key is among the top ``k``, else 0.0 (mean it over queries)."""
    k = _check_k(k)
    rel = _relset(relevant)
    return float(any(x in rel for x in _top(ranked, k)))


def mrr(ranked: Iterable, relevant: Collection, k: int | None = None) -> float:
    """Reciprocal rank (from 1) of the first relevant key within the top ``k``; 0.0 if none.

    The mean over queries (what :func:`evaluate` reports) is the mean reciprocal rank.
    """
    if k is not None:
        k = _check_k(k)
    rel = _relset(relevant)
    for i, x in enumerate(_top(ranked, k), start=1):
        if x in rel:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Iterable, relevant: Collection | Mapping, k: int) -> float:
    """Normalised discounted cumulative gain at ``k``.

    ``DCG = sum_i gain(key_i) / log2(i + 1)`` over ranks i = 1..k, divided by
    the DCG of the ideal ordering. ``relevant`` is a collection (gain 1 each)
    or a mapping key -> gain >= 0. Returns nan when no key has a positive gain.
    """
    k = _check_k(k)
    if isinstance(relevant, Mapping):
        gains = {key: float(g) for key, g in relevant.items()}
        if any(g < 0 for g in gains.values()):
            raise ValueError("ndcg_at_k: gains must be >= 0")
    else:
        gains = dict.fromkeys(_relset(relevant), 1.0)
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    if not ideal:
        return float("nan")
    dcg = sum(gains.get(x, 0.0) / math.log2(i + 1) for i, x in enumerate(_top(ranked, k), start=1))
    idcg = sum(g / math.log2(i + 1) for i, g in enumerate(ideal, start=1))
    return dcg / idcg


def average_precision(ranked: Iterable, relevant: Collection, k: int | None = None) -> float:
    """Average precision (at ``k``): sum of precision@i at each hit rank i, divided by
    ``min(len(relevant), k)`` (``len(relevant)`` when k is None); nan if nothing is relevant."""
    if k is not None:
        k = _check_k(k)
    rel = _relset(relevant)
    if not rel:
        return float("nan")
    hits, total = 0, 0.0
    for i, x in enumerate(_top(ranked, k), start=1):
        if x in rel:
            hits += 1
            total += hits / i
    denom = len(rel) if k is None else min(len(rel), k)
    return total / denom


def catalogue_coverage(ranked_lists: Iterable[Iterable] | pd.DataFrame, catalogue: int | Collection,
                       k: int | None = None) -> float:
    """Distinct keys appearing in any top-``k`` list divided by the catalogue size.

    ``ranked_lists`` is an iterable of ranked lists, or a results DataFrame
    (columns ``query``, ``rank``, ``key``); ``catalogue`` the number of items
    or the collection of all items (keys outside it are not counted).
    """
    if k is not None:
        k = _check_k(k)
    if isinstance(ranked_lists, pd.DataFrame):
        df = ranked_lists if k is None else ranked_lists[ranked_lists["rank"] < k]
        shown = set(df["key"].dropna().tolist())
    else:
        shown = set()
        for r in ranked_lists:
            shown.update(_top(r, k))
    if isinstance(catalogue, (int, np.integer)):
        if catalogue <= 0:
            raise ValueError(f"catalogue size must be positive, got {catalogue}")
        return len(shown) / int(catalogue)
    cat = _relset(catalogue)
    if not cat:
        raise ValueError("catalogue is empty")
    return len(shown & cat) / len(cat)


_PER_QUERY = {
    "precision": precision_at_k,
    "recall": recall_at_k,
    "hit_rate": hit_rate,
    "mrr": mrr,
    "ndcg": ndcg_at_k,
    "average_precision": average_precision,
}


def evaluate(results: pd.DataFrame, relevant: Mapping | pd.DataFrame, *, k: int,
             metrics: Iterable[str] = ("precision", "recall", "hit_rate", "mrr", "ndcg",
                                       "average_precision"),
             per_query: bool = False) -> pd.Series | pd.DataFrame:
    """Score a results DataFrame (``query``, ``rank``, ``key``) query by query.

    Parameters
    ----------
    results : DataFrame like ``NeighborStore.query`` output
    relevant : mapping query -> collection of keys, or DataFrame with ``query``, ``key``
        The queries evaluated are the ones in ``relevant``.
    k : int
    metrics : names among precision, recall, hit_rate, mrr, ndcg, average_precision
    per_query : bool
        Return the DataFrame of per-query scores (index = query) instead of the means.

    Returns
    -------
    Series of mean scores (nan-skipping) named ``<metric>@k``, or the per-query DataFrame.
    """
    k = _check_k(k)
    metrics = list(metrics)
    unknown = [m for m in metrics if m not in _PER_QUERY]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {sorted(_PER_QUERY)}")
    missing = {"query", "rank", "key"} - set(results.columns)
    if missing:
        raise KeyError(f"results must have columns query, rank, key; missing {sorted(missing)}")
    if isinstance(relevant, pd.DataFrame):
        if not {"query", "key"} <= set(relevant.columns):
            raise KeyError("relevant DataFrame must have columns query and key")
        relevant = relevant.groupby("query", sort=False)["key"].agg(list).to_dict()
    ranked = (results.sort_values(["query", "rank"], kind="stable")
              .groupby("query", sort=False)["key"].agg(list).to_dict())
    rows = {}
    for q, rel in relevant.items():
        r = ranked.get(q, [])
        rows[q] = {m: _PER_QUERY[m](r, rel, k) for m in metrics}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=metrics)
    out.columns = [f"{m}@{k}" for m in metrics]
    out.index.name = "query"
    return out if per_query else out.mean(skipna=True)
