"""Clustering of scored pairs that resists chaining.

Connected components of the pairs above the threshold chain: one wrong
edge joins two entities, and A~B, B~C makes A~C without any evidence for it.
So components are only the first step:

1. **Components** of the graph of pairs with ``score >= threshold``.
2. A component whose every pair of records was scored ``>= threshold`` (a
   clique) is kept: every pair inside has direct evidence.
3. Any other component is re-clustered by **average linkage** over its
   records, with the pair's score as similarity (a pair that was never
   scored counts 0, unless ``score_missing`` scores it: the matcher scores the
   missing pairs of components up to ``complete_max`` records): two groups
   merge only while the *average* score between them is ``>= threshold``.
   A single strong edge between two groups no longer joins them.
4. Components larger than ``max_component`` records are first thinned to
   each record's single best edge, then treated as above.

Linkage (two tables) with ``one_to_one=True`` keeps pairs that are mutual
best matches among the remaining records, in rounds, so that every record
takes part in at most one pair (a greedy, vectorised assignment).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import connected_components

__all__ = ["average_linkage_clusters", "components", "mutual_best"]


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label (0..) of each of ``n`` nodes given edges ``(i, j)``."""
    g = sp.coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n)).tocsr()
    _, lab = connected_components(g, directed=False)
    return lab.astype(np.int64)


def mutual_best(i: np.ndarray, j: np.ndarray, score: np.ndarray, n_i: int, n_j: int,
                max_rounds: int = 20) -> np.ndarray:
    """Boolean mask of pairs kept by rounds of mutual-best matching (each node used once)."""
    keep = np.zeros(len(i), dtype=bool)
    free_i = np.ones(n_i, dtype=bool)
    free_j = np.ones(n_j, dtype=bool)
    alive = np.ones(len(i), dtype=bool)
    order = np.lexsort((j, i, -score))  # best first, ties by keys' positions
    for _ in range(max_rounds):
        alive &= free_i[i] & free_j[j]
        idx = order[alive[order]]
        if len(idx) == 0:
            break
        _, first_i = np.unique(i[idx], return_index=True)
        _, first_j = np.unique(j[idx], return_index=True)
        best_i = np.zeros(len(i), dtype=bool)
        best_i[idx[first_i]] = True
        best_j = np.zeros(len(i), dtype=bool)
        best_j[idx[first_j]] = True
        new = best_i & best_j
        if not new.any():
            break
        keep |= new
        free_i[i[new]] = False
        free_j[j[new]] = False
    return keep


def average_linkage_clusters(n: int, i: np.ndarray, j: np.ndarray, score: np.ndarray,
                             threshold: float, *,
                             score_missing: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
                             complete_max: int = 50, max_component: int = 2000) -> np.ndarray:
    """Cluster label per node (see the module docstring). ``(i, j)`` unordered pairs, ``i != j``."""
    strong = score >= threshold
    lab = components(n, i[strong], j[strong])
    size = np.bincount(lab)
    # thin giant components to each node's best edge
    big = size[lab] > max_component
    if big.any():
        in_big = strong & big[i] & big[j]
        ii, jj, ss = i[in_big], j[in_big], score[in_big]
        both = np.concatenate([ii, jj])
        sc = np.concatenate([ss, ss])
        e = np.concatenate([np.arange(len(ii)), np.arange(len(ii))])
        order = np.lexsort((-sc, both))
        first = np.r_[True, both[order][1:] != both[order][:-1]]
        keep_e = np.unique(e[order][first])
        mask = strong.copy()
        mask[np.flatnonzero(in_big)] = False
        mask[np.flatnonzero(in_big)[keep_e]] = True
        strong = mask
        lab = components(n, i[strong], j[strong])
        size = np.bincount(lab)
    same = lab[i] == lab[j]
    n_strong_in = np.bincount(lab[i[strong]], minlength=len(size))
    clique = n_strong_in == size * (size - 1) // 2
    todo = np.flatnonzero((size >= 3) & ~clique)
    if len(todo) == 0:
        return lab
    out = lab.copy()
    next_label = int(lab.max()) + 1
    sel = same & np.isin(lab[i], todo)
    ei, ej, es = i[sel], j[sel], score[sel]
    ecomp = lab[ei]
    order = np.argsort(ecomp, kind="stable")
    ei, ej, es, ecomp = ei[order], ej[order], es[order], ecomp[order]
    bounds = np.searchsorted(ecomp, np.r_[todo, todo[-1] + 1][:, None].ravel(), side="left")
    node_order = np.argsort(lab, kind="stable")
    node_bounds = np.searchsorted(lab[node_order], np.r_[todo, todo[-1] + 1], side="left")
    node_ends = np.searchsorted(lab[node_order], todo, side="right")
    for t, c in enumerate(todo):
        nodes = node_order[node_bounds[t]:node_ends[t]]
        s = len(nodes)
        lo, hi = bounds[t], np.searchsorted(ecomp, c, side="right")
        pos = {int(v): k for k, v in enumerate(nodes)}
        mat = np.zeros((s, s))
        a = np.fromiter((pos[int(v)] for v in ei[lo:hi]), dtype=np.int64, count=hi - lo)
        b = np.fromiter((pos[int(v)] for v in ej[lo:hi]), dtype=np.int64, count=hi - lo)
        known = np.zeros((s, s), dtype=bool)
        mat[a, b] = es[lo:hi]
        mat[b, a] = es[lo:hi]
        known[a, b] = known[b, a] = True
        if score_missing is not None and s <= complete_max:
            r, q = np.triu_indices(s, 1)
            miss = ~known[r, q]
            if miss.any():
                val = score_missing(nodes[r[miss]], nodes[q[miss]])
                mat[r[miss], q[miss]] = val
                mat[q[miss], r[miss]] = val
        dist = 1.0 - mat[np.triu_indices(s, 1)]
        z = linkage(np.clip(dist, 0.0, 1.0), method="average")
        sub = fcluster(z, t=1.0 - threshold, criterion="distance")
        out[nodes] = next_label + sub - 1
        next_label += int(sub.max())
    _, out = np.unique(out, return_inverse=True)
    return out.astype(np.int64)
