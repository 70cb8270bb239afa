"""The last stages of matching: threshold, clusters, and the result frames.

Deduplication clusters resist chaining (:func:`~._clusters.average_linkage_clusters`:
a pair counts as a match only when both records end in one cluster).
Linkage clusters are the connected components of the kept pairs over the
records of both tables; ``one_to_one`` first keeps only mutual best pairs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ._clusters import average_linkage_clusters, components, mutual_best
from ._result import MatchResult

__all__ = ["assemble"]


def _link_clusters(ia: np.ndarray, ib: np.ndarray, match: np.ndarray, score: np.ndarray, n_a: int,
                   n_b: int, keys_a: pd.Index, keys_b: pd.Index, one_to_one: bool) -> pd.DataFrame:
    """Linkage: components of the kept pairs (``match`` is narrowed in place by ``one_to_one``)."""
    if one_to_one:
        sel = np.flatnonzero(match)
        keep = mutual_best(ia[sel], ib[sel], score[sel], n_a, n_b)
        match[:] = False
        match[sel[keep]] = True
    lab = components(n_a + n_b, ia[match], n_a + ib[match])
    _, lab = np.unique(lab, return_inverse=True)
    idx = pd.MultiIndex.from_arrays(
        [np.r_[np.full(n_a, "a", dtype=object), np.full(n_b, "b", dtype=object)],
         pd.Index(keys_a.tolist() + keys_b.tolist(), tupleize_cols=False)], names=["table", "key"])
    return pd.DataFrame({"cluster": lab.astype(np.int64)}, index=idx)


def assemble(keys_a: pd.Index, keys_b: pd.Index | None, ia: np.ndarray, ib: np.ndarray, X: np.ndarray,
             score: np.ndarray, threshold: float, feature_names: list[str], *, one_to_one: bool,
             score_missing: Callable[[np.ndarray, np.ndarray], np.ndarray] | None,
             diagnostics: dict | None = None) -> MatchResult:
    """Threshold the scored candidates, cluster, and build the :class:`MatchResult`.

    Parameters
    ----------
    keys_a, keys_b : Index
        The tables' keys (``keys_b=None``: deduplication of A).
    ia, ib : ndarray of shape (n_candidates,)
        Candidate pairs as row positions.
    X : ndarray of shape (n_candidates, n_features)
    score : ndarray of shape (n_candidates,)
        Match probabilities.
    threshold : float
    feature_names : list of str
    one_to_one : bool
        Linkage only: keep mutual best pairs.
    score_missing : callable, optional
        Deduplication: scores pairs never proposed as candidates inside a
        small cluster (average linkage reads them).
    diagnostics : dict, optional
        Stored on the result.
    """
    match = score >= threshold
    dedup = keys_b is None
    if dedup:
        keys_b = keys_a
        lab = average_linkage_clusters(len(keys_a), ia, ib, score, threshold, score_missing=score_missing)
        match &= lab[ia] == lab[ib]
        clusters = pd.DataFrame({"cluster": lab}, index=keys_a)
    else:
        clusters = _link_clusters(ia, ib, match, score, len(keys_a), len(keys_b), keys_a, keys_b, one_to_one)
    cand = pd.DataFrame({"index_a": keys_a.take(ia), "index_b": keys_b.take(ib),
                         "score": score.astype(np.float64)})
    feats = pd.DataFrame(X, columns=feature_names)
    cand = pd.concat([cand, feats], axis=1)
    cand["match"] = match
    pairs = cand[match].drop(columns="match").sort_values("score", ascending=False, kind="stable")
    return MatchResult(pairs=pairs.reset_index(drop=True), clusters=clusters, candidates=cand,
                       diagnostics=dict(diagnostics or {}))
