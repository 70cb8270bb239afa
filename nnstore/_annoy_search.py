"""Annoy's tree search, compiled, over the index's own memory-mapped file.

Why: a single query through Annoy's Python binding costs, besides the tree
walk, a conversion of the query into a C++ vector item by item and of the
answer into two Python lists, which the store then turns into arrays. At 200k
x 128 those conversions and the store's own steps around them made single
queries 8-13% slower than raw Annoy (issue 3). Here the walk itself runs in a
numba kernel (no GIL held) that reads the same index file Annoy wrote and
writes straight into the caller's output arrays.

The file format (annoy 1.17, ``S`` = int32, ``T`` = float32): ``n_nodes``
fixed-size nodes. Nodes ``0..n_items-1`` are the items; then the split and
leaf nodes of every tree; last, a copy of every tree's root (Annoy's loader
finds them as the trailing run of nodes with the same ``n_descendants``).
A node, in 4-byte words:

* angular: ``n_descendants``, ``children[2]`` (an item keeps its squared norm
  in the first child word), ``v[f]``;
* euclidean and manhattan: ``n_descendants``, ``a`` (the split plane's
  offset), ``children[2]``, ``v[f]``.

A node with ``n_descendants == 1`` below ``n_items`` is an item; one with at
most ``K`` descendants (``K`` = the words from ``children`` to the end of the
node) is a leaf listing its items' ids from ``children`` on; any other node is
a split with normal ``v``, margin ``dot(v, q)`` (plus ``a``).

The search is Annoy's: a max-priority queue of (bound, node), seeded with every
root at +inf; pop the best, collect a leaf's items, or push both children of a
split with bounds ``min(bound, margin)`` (child 1) and ``min(bound, -margin)``
(child 0), until ``search_k`` candidates are collected; then the exact
distance to each distinct candidate (Annoy finds them by sorting the ids; a
hash set here, cheaper in numba), and the ``n`` nearest. Ties in the queue
go to the larger node id and ties in distance to the smaller item id, as in
Annoy's ``std::priority_queue`` of pairs and ``std::partial_sort``. Float
sums are taken in a different order from Annoy's, so a margin within
rounding of zero may send the walk the other way; on random data the answers
are identical (tested), not bit for bit guaranteed.

Nothing reaches the kernel unchecked: the kernel does no bounds checks, so
:class:`AnnoyFile` validates the whole file once when it maps it
(vectorised, a few array passes per tree level): the size is a whole number
of nodes; every item node has ``n_descendants == 1``; walking down from the
roots, every split node's children have smaller ids than the node (Annoy
writes a parent after its children, so the walk cannot cycle), no node is
reached twice from distinct roots (no shared subtree, so the walk is linear
in the file), every node's ``n_descendants`` is the sum of its children's
(so a tree lists exactly ``n_items`` items, which sizes the kernel's buffers),
every leaf lists between 1 and ``K`` item ids below ``n_items``, and the
floats the search reads (item vectors, split planes) are finite. A file that
fails raises ``ValueError`` naming the node and what is wrong.
"""

from __future__ import annotations

import math
import os

import numpy as np
from numba import njit

__all__ = ["AnnoyFile", "search_many", "search_one"]

KIND_ANGULAR, KIND_EUCLIDEAN, KIND_MANHATTAN = 0, 1, 2
_KINDS = {"angular": KIND_ANGULAR, "euclidean": KIND_EUCLIDEAN, "manhattan": KIND_MANHATTAN}


class AnnoyFile:
    """A read-only, validated view of an Annoy index file, searched by :func:`search_one`.

    Parameters
    ----------
    path : str or Path
        The index file Annoy saved (or loaded from).
    f : int
        Its dimension.
    metric : {"angular", "euclidean", "manhattan"}

    Raises
    ------
    ValueError
        When the file is not an Annoy index of this dimension and metric that
        the kernel can walk safely (see the module docstring), naming what is
        wrong.
    """

    def __init__(self, path, f: int, metric: str) -> None:
        if metric not in _KINDS:
            raise ValueError(f"metric must be one of {sorted(_KINDS)}, got {metric!r}")
        if not isinstance(f, (int, np.integer)) or isinstance(f, bool) or f < 1:
            raise ValueError(f"f must be a positive int, got {f!r}")
        self.kind = _KINDS[metric]
        self.f = int(f)
        words = self.f + (3 if self.kind == KIND_ANGULAR else 4)
        raw = np.memmap(path, dtype=np.int32, mode="r") if os.path.getsize(path) else np.zeros(0, np.int32)
        if raw.size == 0 or raw.size % words:
            raise ValueError(f"{path}: {raw.size * 4} bytes is not a whole number of "
                             f"{words * 4}-byte nodes (dimension {f}, metric {metric})")
        # a plain ndarray view of the mapping (kept alive through .base): numba types an exact
        # ndarray on its fast path, a memmap subclass on a slow one (microseconds per call)
        self.nodes = np.asarray(raw).reshape(-1, words)
        child_off = 1 if self.kind == KIND_ANGULAR else 2
        self.roots, self.n_items = _find_roots(self.nodes, child_off)
        self.K = words - child_off
        _validate(self.nodes, self.roots, self.n_items, self.kind, str(path))

    def search(self, q: np.ndarray, n: int, search_k: int, ids: np.ndarray, dist: np.ndarray,
               post: int = 0, post_c: float = 0.0, max_qq: float = math.inf) -> int:
        """Write the ``n`` nearest items' ids and distances into ``ids``/``dist``.

        Returns how many were found (fewer than ``n`` only when fewer are
        reachable), or -1 if ``q`` holds NaN or inf or ``|q|^2 > max_qq``. See
        :func:`search_one`. The arguments are checked here (the kernel does not).
        """
        if not isinstance(q, np.ndarray) or q.dtype != np.float32 or q.ndim != 1 or \
                q.shape[0] not in (self.f, self.f - 1):
            raise ValueError(f"q must be a 1-D float32 array of length {self.f} (or {self.f - 1}), "
                             f"got {getattr(q, 'dtype', type(q))} of shape {np.shape(q)}")
        if n < 1 or search_k < 1:
            raise ValueError(f"n and search_k must be >= 1, got n={n}, search_k={search_k}")
        if ids.shape[0] < n or dist.shape[0] < n or ids.dtype != np.int64 or dist.dtype != np.float32:
            raise ValueError(f"ids (int64) and dist (float32) must hold at least n={n} entries")
        return search_one(self.nodes, self.roots, self.kind, self.n_items, q, n, search_k, ids, dist,
                          post, post_c, max_qq)


def _find_roots(nodes: np.ndarray, child_off: int) -> tuple[np.ndarray, int]:
    """Annoy's loader: the trailing run of nodes sharing one ``n_descendants``.

    Returned in decreasing node id, Annoy's order; :func:`search_one` relies on it
    (equal bounds pop the larger id first, so the array is already a heap).
    """
    nd = nodes[:, 0]
    m = int(nd[-1])
    i = len(nd) - 1
    while i >= 0 and int(nd[i]) == m:
        i -= 1
    roots = np.arange(len(nd) - 1, i, -1, dtype=np.int32)
    # the copies of the roots are preceded by the last tree's own root, whose
    # children are the same as the first copy's: Annoy drops it the same way
    if len(roots) > 1 and nodes[roots[0], child_off] == nodes[roots[-1], child_off]:
        roots = roots[:-1]
    return roots, m


#: nodes checked per block of the sequential pass (bounds its temporary arrays)
_ROW_BLOCK = 1 << 15


def _validate(nodes: np.ndarray, roots: np.ndarray, m: int, kind: int, path: str) -> None:
    """Check that the kernel can walk ``nodes`` safely; ``ValueError`` naming the fault.

    Two vectorised stages: one sequential pass over the file in blocks checks
    every node on its own (items, leaves, split planes) and keeps the few words
    of each node the tree structure needs; then a walk down from the roots, one
    numpy step per tree level over that compact copy (all trees at once),
    checks the structure.
    """
    n_nodes, words = nodes.shape
    child_off = 1 if kind == KIND_ANGULAR else 2
    K = words - child_off
    v_off = child_off + 2

    def bad(msg: str) -> ValueError:
        return ValueError(f"{path}: not a valid Annoy index: {msg}")

    if m < 1 or m > n_nodes:
        raise bad(f"the roots hold {m} items, but the file has {n_nodes} nodes")
    raw = np.asarray(nodes)  # a plain view: indexing a memmap subclass costs more
    head = np.empty((n_nodes, 3), dtype=np.int64)  # n_descendants, children[0], children[1]
    cols = np.arange(K)
    for s in range(0, n_nodes, _ROW_BLOCK):
        e = min(n_nodes, s + _ROW_BLOCK)
        block = raw[s:e]
        nd = block[:, 0]
        head[s:e, 0] = nd
        head[s:e, 1:] = block[:, child_off:child_off + 2]
        fl = block.view(np.float32)
        ids = np.arange(s, e)
        item = ids < m
        if (nd[item] != 1).any():
            i = int(ids[item][nd[item] != 1][0])
            raise bad(f"node {i} is an item (id < n_items = {m}) but has n_descendants "
                      f"{int(raw[i, 0])}, expected 1")
        split = ~item & (nd > K)
        finite = np.isfinite(fl[:, v_off:]).all(axis=1)
        if kind == KIND_ANGULAR:
            finite[item] &= np.isfinite(fl[item, 1])  # an item's squared norm
        else:
            finite[split] &= np.isfinite(fl[split, 1])  # a split's offset
        wrong = (item | split) & ~finite
        if wrong.any():
            i = int(ids[wrong][0])
            raise bad(f"item {i} has a NaN or infinite coordinate" if i < m
                      else f"split node {i} has a NaN or infinite plane")
        leaf = ~item & ~split
        if leaf.any():
            lnd = nd[leaf]
            if lnd.min() < 1:
                i = int(ids[leaf][np.argmin(lnd)])
                raise bad(f"leaf node {i} has n_descendants {int(raw[i, 0])}, expected 1..{K}")
            # Annoy leaves an unused slot 0, so testing every slot of every node at once (a
            # negative id wraps to a huge unsigned one) flags only suspects; then the exact test
            flag = leaf & (block[:, child_off:].view(np.uint32) >= m).any(axis=1)
            if flag.any():
                ch = block[flag, child_off:]
                out = (cols[None, :] < nd[flag][:, None]) & ((ch < 0) | (ch >= m))
                if out.any():
                    row, c = np.argwhere(out)[0]
                    raise bad(f"leaf node {int(ids[flag][row])} lists item {int(ch[row, c])}, "
                              f"outside [0, {m})")
    nd = head[:, 0]
    r = roots.astype(np.int64)
    split_roots = r[(r >= m) & (nd[r] > K)]  # leaf roots were checked above; item roots need nothing
    if len(split_roots):
        # Annoy's loader may keep an original root next to its copy (same children): the
        # kernel then walks that tree twice, which is harmless; keep one of each
        _, first = np.unique(head[split_roots, 1:], axis=0, return_index=True)
        split_roots = split_roots[np.sort(first)]
    seen = np.zeros(n_nodes, dtype=bool)
    seen[split_roots] = True
    frontier = split_roots
    while len(frontier):
        ch = head[frontier, 1:]
        wrong = (ch < 0) | (ch >= frontier[:, None])
        if wrong.any():
            row, c = np.argwhere(wrong)[0]
            i = int(frontier[row])
            raise bad(f"split node {i} has child {int(ch[row, c])}, outside [0, {i}) (a child is "
                      "always written before its parent)")
        held = np.where(ch < m, 1, nd[ch]).sum(axis=1)
        wrong = held != nd[frontier]
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise bad(f"split node {int(frontier[row])} has n_descendants {int(nd[frontier[row]])}, "
                      f"but its children hold {int(held[row])}")
        nxt = ch[ch >= m]
        srt = np.sort(nxt)
        twice = srt[1:][srt[1:] == srt[:-1]]
        if len(twice) or seen[nxt].any():
            i = int(twice[0]) if len(twice) else int(nxt[seen[nxt]][0])
            raise bad(f"node {i} is reached twice from the roots (trees must not share nodes)")
        seen[nxt] = True
        frontier = nxt[nd[nxt] > K]


@njit(cache=True, nogil=True, inline="always")
def _before(d1, i1, d2, i2):
    """Queue order: (d1, i1) pops before (d2, i2)."""
    return d1 > d2 or (d1 == d2 and i1 > i2)


POST_NONE, POST_SQRT, POST_HALF, POST_DOT = 0, 1, 2, 3


# reassociation lets the dot products vectorise (as Annoy's own -ffast-math build does);
# no 'ninf'/'nnan' flags: the queue's bounds start at +inf and queries are checked for NaN
_FM = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, nogil=True, fastmath=_FM)
def search_one(nodes, roots, kind, n_items, q, n, search_k, out_ids, out_dist, post, post_c,
               max_qq):
    """Annoy's search for one query; returns the number found, or -1 for a refused query.

    A query is refused (every slot -1 / +inf, return -1) when it holds NaN or
    inf, or when ``|q|^2 > max_qq``: the caller's bound beyond which the
    float32 distances would overflow (the caller then raises a named error).

    ``q`` may be one coordinate shorter than the index (the store's ``dot``
    augmentation: the missing coordinate is 0). Distances are written after
    ``post``: ``POST_NONE`` Annoy's internal value clipped at 0 (manhattan),
    ``POST_SQRT`` its square root (euclidean), ``POST_HALF`` half of it (angular:
    ``1 - cos``), ``POST_DOT`` ``(d - |q|^2 - post_c) / 2`` (``-q.x`` for the
    augmented euclidean index, ``post_c = M^2``). Slots past the number found
    get id -1 and distance +inf.
    """
    fq = q.shape[0]
    qq = 0.0  # float64: a huge but finite query must not overflow here
    for z in range(fq):
        qq += np.float64(q[z]) * np.float64(q[z])
    if not math.isfinite(qq) or qq > max_qq:  # NaN/inf, or too large: the caller raises
        for t in range(n):
            out_ids[t] = -1
            out_dist[t] = np.float32(np.inf)
        return -1
    words = nodes.shape[1]
    fl = nodes.view(np.float32)
    child_off = 1 if kind == 0 else 2
    v_off = child_off + 2
    f = words - v_off
    K = words - child_off
    n_roots = roots.shape[0]
    # the collected candidates: fewer than search_k before the last leaf adds up to K
    cap_nns = min(search_k, n_items * n_roots) + K + 1
    nns = np.empty(cap_nns, np.int32)
    cap = n_roots + min(search_k, 1 << 16) + 64  # rarely grown: one pop adds at most one entry net
    hd = np.empty(cap, np.float32)
    hi = np.empty(cap, np.int32)
    hn = 0
    # every root at +inf; ``roots`` is in decreasing node id (see _find_roots), which is
    # the queue's order for equal bounds, so the array is already a valid heap
    for r in range(n_roots):
        hd[hn] = np.float32(np.inf)
        hi[hn] = roots[r]
        hn += 1
    nn = 0
    while nn < search_k and hn > 0:
        d = hd[0]
        i = hi[0]
        hn -= 1  # pop: the last entry goes to the top and sifts down
        if hn > 0:
            ld = hd[hn]
            li = hi[hn]
            j = 0
            while True:
                c = 2 * j + 1
                if c >= hn:
                    break
                if c + 1 < hn and _before(hd[c + 1], hi[c + 1], hd[c], hi[c]):
                    c += 1
                if _before(hd[c], hi[c], ld, li):
                    hd[j] = hd[c]
                    hi[j] = hi[c]
                    j = c
                else:
                    break
            hd[j] = ld
            hi[j] = li
        nd = nodes[i, 0]
        if nd == 1 and i < n_items:
            nns[nn] = i
            nn += 1
        elif nd <= K:
            for c in range(nd):
                nns[nn] = nodes[i, child_off + c]
                nn += 1
        else:
            m = np.float32(0.0)
            v = fl[i, v_off:]  # a 1-D view: plain indices, so the loop vectorises
            for z in range(fq):
                m += v[z] * q[z]
            if kind != 0:
                m += fl[i, 1]
            if hn + 2 > cap:  # grow the queue
                cap *= 2
                hd2 = np.empty(cap, np.float32)
                hi2 = np.empty(cap, np.int32)
                hd2[:hn] = hd[:hn]
                hi2[:hn] = hi[:hn]
                hd = hd2
                hi = hi2
            for side in range(2):
                bound = min(d, m) if side == 1 else min(d, -m)
                child = nodes[i, child_off + side]
                j = hn  # push: sift up
                hn += 1
                while j > 0:
                    p = (j - 1) // 2
                    if _before(bound, child, hd[p], hi[p]):
                        hd[j] = hd[p]
                        hi[j] = hi[p]
                        j = p
                    else:
                        break
                hd[j] = bound
                hi[j] = child
    # exact distances to the distinct candidates, keeping the n nearest (ties: smaller id).
    # Distinct by a small hash set rather than Annoy's sort by id: numba's sort of ~500
    # ids cost several microseconds a query, about the kernel's whole gap to Annoy's C++.
    hsize = 16
    while hsize < 2 * nn:
        hsize *= 2
    seen = np.full(hsize, -1, np.int32)
    mask = hsize - 1
    found = 0
    for t in range(nn):
        j = nns[t]
        h = (j * 2654435761) & mask
        while seen[h] != -1 and seen[h] != j:
            h = (h + 1) & mask
        if seen[h] == j:
            continue
        seen[h] = j
        if nodes[j, 0] != 1:  # Annoy's guard for an obscure case (its issue 284)
            continue
        dd = np.float32(0.0)
        v = fl[j, v_off:]
        if kind == 0:
            pq = np.float32(0.0)
            pp = fl[j, 1]
            if pp == 0.0:
                for z in range(f):
                    pp += v[z] * v[z]
            for z in range(f):
                pq += q[z] * v[z]
            ppqq = np.float64(pp) * qq
            dd = np.float32(2.0 - 2.0 * pq / math.sqrt(ppqq)) if ppqq > 0 else np.float32(2.0)
        elif kind == 1:
            for z in range(fq):
                x = q[z] - v[z]
                dd += x * x
            for z in range(fq, f):
                dd += v[z] * v[z]
        else:
            for z in range(fq):
                dd += abs(q[z] - v[z])
            for z in range(fq, f):
                dd += abs(v[z])
        if found < n:
            pos = found
            found += 1
        elif dd < out_dist[n - 1] or (dd == out_dist[n - 1] and j < out_ids[n - 1]):
            pos = n - 1
        else:
            continue
        # insertion by (distance, id), the order of Annoy's partial_sort of pairs
        while pos > 0 and (out_dist[pos - 1] > dd or (out_dist[pos - 1] == dd and out_ids[pos - 1] > j)):
            out_dist[pos] = out_dist[pos - 1]
            out_ids[pos] = out_ids[pos - 1]
            pos -= 1
        out_dist[pos] = dd
        out_ids[pos] = j
    for t in range(found):
        x = max(out_dist[t], np.float32(0.0))
        if post == POST_SQRT:
            x = math.sqrt(x)
        elif post == POST_HALF:
            x = x * 0.5
        elif post == POST_DOT:
            x = np.float32((np.float64(x) - qq - post_c) * 0.5)
        out_dist[t] = x
    for t in range(found, n):
        out_ids[t] = -1
        out_dist[t] = np.float32(np.inf)
    return found


@njit(cache=True, nogil=True, fastmath=_FM)
def search_many(nodes, roots, kind, n_items, Q, n, search_k, out_ids, out_dist, post, post_c,
                max_qq):
    """:func:`search_one` for every row of ``Q`` (rows of ``out_ids``/``out_dist``).

    Returns the number of refused rows (their slots are -1 / +inf).
    """
    refused = 0
    for r in range(Q.shape[0]):
        if search_one(nodes, roots, kind, n_items, Q[r], n, search_k, out_ids[r], out_dist[r], post,
                      post_c, max_qq) < 0:
            refused += 1
    return refused
