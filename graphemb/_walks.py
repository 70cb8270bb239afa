"""The node2vec walk engine: compiled, parallel, second-order biased random walks.

Walks are drawn on a :class:`graphemb.Graph` (CSR arrays, sorted neighbour
rows). Memory is O(edges): no per-edge transition tables are built.

How a step is drawn
-------------------
At node ``cur``, having come from ``prev``, node2vec gives each out-neighbour
``x`` the unnormalised probability ``w(cur, x) * alpha(prev, x)`` with
``alpha = 1/p`` if ``x == prev`` (return), ``1`` if ``x`` is an out-neighbour of
``prev`` (distance 1), ``1/q`` otherwise (moving outwards).

We sample this exactly by rejection (as KnightKing does), with the return
edge folded out of the envelope so a small ``p`` does not slow every step:

- ``Q = max(1, 1/q)`` bounds ``alpha`` for every non-return neighbour;
- the target mass is split into an envelope part ``W * Q`` (``W`` = the row's
  total weight; the return candidate's ``alpha`` is clipped to ``Q`` there) and
  an "outlier" part ``w(cur, prev) * max(0, 1/p - Q)``;
- draw ``u`` uniform on the total mass; inside the outlier part the step
  returns to ``prev``; otherwise draw a neighbour ``x`` by weight (alias table,
  O(1)) and accept it with probability ``min(alpha, Q) / Q``; on rejection
  start over.

Testing whether ``x`` is an out-neighbour of ``prev`` is a binary search in
``prev``'s sorted row. With ``p = q = 1`` every candidate is accepted, and the
engine takes a first-order fast path (no rejection, no search).

Alias tables (one float32 probability and one int32 alias per arc) are built
only for weighted graphs; unweighted rows are sampled uniformly.

Randomness and reproducibility
------------------------------
Each walk has its own small generator (splitmix64) seeded from the user's seed
and the walk's number, so the walks do not depend on how numba's threads
share the work: the same seed gives the same walks for any thread count.

A walk that reaches a node with no out-neighbours (possible in directed
graphs, or an isolated node) stops there; the rest of its row is ``-1``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

__all__ = ["build_alias", "random_walks"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53


@njit(cache=True, inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _uniform(state):
    """One splitmix64 step: returns (new_state, float in [0, 1))."""
    state = state + _GOLDEN
    return state, float(_mix(state) >> _S11) * _INV53


@njit(cache=True)
def _seed_state(seed, k):
    """A generator state for stream ``k`` of ``seed`` (two mixes decorrelate nearby k)."""
    return _mix(_mix(np.uint64(seed) + np.uint64(k) * _GOLDEN) + np.uint64(k))


@njit(cache=True, inline="always")
def _randbelow(state, n):
    state, u = _uniform(state)
    r = int(u * n)
    if r >= n:
        r = n - 1
    return state, r


@njit(cache=True, parallel=True)
def _build_alias(indptr, weights, prob, alias):
    n = indptr.shape[0] - 1
    for v in prange(n):
        lo = indptr[v]
        hi = indptr[v + 1]
        d = hi - lo
        if d == 0:
            continue
        total = 0.0
        for j in range(lo, hi):
            total += weights[j]
        scaled = np.empty(d, np.float64)
        small = np.empty(d, np.int64)
        large = np.empty(d, np.int64)
        ns = 0
        nl = 0
        for k in range(d):
            scaled[k] = weights[lo + k] * d / total
            if scaled[k] < 1.0:
                small[ns] = k
                ns += 1
            else:
                large[nl] = k
                nl += 1
        while ns > 0 and nl > 0:
            ns -= 1
            s = small[ns]
            g = large[nl - 1]
            prob[lo + s] = scaled[s]
            alias[lo + s] = g
            scaled[g] = (scaled[g] + scaled[s]) - 1.0
            if scaled[g] < 1.0:
                nl -= 1
                small[ns] = g
                ns += 1
        for k in range(nl):
            prob[lo + large[k]] = 1.0
            alias[lo + large[k]] = large[k]
        for k in range(ns):  # numerical leftovers
            prob[lo + small[k]] = 1.0
            alias[lo + small[k]] = small[k]


def build_alias(indptr: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker alias tables for every row, O(arcs) memory.

    Returns
    -------
    prob : ndarray of shape (n_arcs,), float32
    alias : ndarray of shape (n_arcs,), int32
        Offsets within the row.
    """
    prob = np.ones(len(weights), np.float32)
    alias = np.zeros(len(weights), np.int32)
    if len(weights):
        _build_alias(indptr, weights.astype(np.float32), prob, alias)
    return prob, alias


@njit(cache=True, inline="always")
def _sample_neighbour(state, indptr, prob, alias, weighted, v):
    """Offset (within row v) of a neighbour drawn by weight; row must be non-empty."""
    lo = indptr[v]
    d = indptr[v + 1] - lo
    state, u = _uniform(state)
    x = u * d
    k = int(x)
    if k >= d:
        k = d - 1
    if weighted and (x - k) >= prob[lo + k]:
        k = alias[lo + k]
    return state, k


@njit(cache=True, inline="always")
def _find(indices, lo, hi, x):
    """Position of x in the sorted slice indices[lo:hi], or -1."""
    while lo < hi:
        mid = (lo + hi) >> 1
        y = indices[mid]
        if y < x:
            lo = mid + 1
        elif y > x:
            hi = mid
        else:
            return mid
    return -1


@njit(cache=True, parallel=True, fastmath=False)
def _walks(indptr, indices, weights, totals, prob, alias, weighted, starts, walk_length,
           inv_p, inv_q, first_order, seed, out):
    n_walks = starts.shape[0]
    envelope = max(1.0, inv_q)
    for w in prange(n_walks):
        state = _seed_state(seed, w)
        cur = starts[w]
        out[w, 0] = cur
        prev = -1
        for step in range(1, walk_length):
            lo = indptr[cur]
            hi = indptr[cur + 1]
            if hi == lo:
                for r in range(step, walk_length):
                    out[w, r] = -1
                break
            if first_order or prev < 0:
                state, k = _sample_neighbour(state, indptr, prob, alias, weighted, cur)
                nxt = indices[lo + k]
            else:
                # weight of the return arc cur -> prev, for the folded outlier mass
                wr = 0.0
                pos = _find(indices, lo, hi, prev)
                if pos >= 0:
                    wr = weights[pos] if weighted else 1.0
                total = totals[cur] if weighted else float(hi - lo)
                extra = wr * max(0.0, inv_p - envelope)
                env_mass = total * envelope
                plo = indptr[prev]
                phi = indptr[prev + 1]
                while True:
                    state, u = _uniform(state)
                    if u * (env_mass + extra) < extra:
                        nxt = prev
                        break
                    state, k = _sample_neighbour(state, indptr, prob, alias, weighted, cur)
                    x = indices[lo + k]
                    if x == prev:
                        a = min(inv_p, envelope)
                    elif _find(indices, plo, phi, x) >= 0:
                        a = 1.0
                    else:
                        a = inv_q
                    if a >= envelope:
                        nxt = x
                        break
                    state, u = _uniform(state)
                    if u * envelope < a:
                        nxt = x
                        break
            out[w, step] = nxt
            prev = cur
            cur = nxt
    return out


@njit(cache=True, parallel=True)
def _weighted_totals(indptr, weights, out):
    for v in prange(indptr.shape[0] - 1):
        s = 0.0
        for j in range(indptr[v], indptr[v + 1]):
            s += weights[j]
        out[v] = s


def random_walks(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray | None,
                 starts: np.ndarray, *, walk_length: int, p: float = 1.0, q: float = 1.0,
                 seed: int = 0, alias_tables: tuple[np.ndarray, np.ndarray] | None = None,
                 n_jobs: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Draw one node2vec walk from each start row.

    Parameters
    ----------
    indptr : ndarray of shape (n_nodes + 1,), int64
    indices : ndarray of shape (n_arcs,), int32, rows sorted
    weights : ndarray of shape (n_arcs,), float32, or None (unweighted)
    starts : ndarray of shape (n_walks,), int
        Start row of each walk.
    walk_length : int
        Nodes per walk (>= 1).
    p, q : float
        Return and in-out parameters (> 0).
    seed : int
        Walk ``i`` uses the random stream ``(seed, i)``.
    alias_tables : (prob, alias), optional
        From :func:`build_alias`, to reuse across calls.
    n_jobs : int, optional
        numba threads to use (default: numba's current setting).
    out : ndarray of shape (n_walks, walk_length), int32, C-contiguous, optional
        Written in place and returned (a slice of a bigger walk array: no copy).

    Returns
    -------
    walks : ndarray of shape (n_walks, walk_length), int32
        Rows of the visited nodes; ``-1`` pads a walk that stopped at a node
        without out-neighbours.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    starts = np.ascontiguousarray(starts, dtype=np.int32)
    weighted = weights is not None
    if weighted:
        w = np.ascontiguousarray(weights, dtype=np.float32)
        prob, alias = alias_tables if alias_tables is not None else build_alias(indptr, w)
        totals = np.zeros(len(indptr) - 1, np.float64)
        _weighted_totals(indptr, w, totals)
    else:
        w = np.ones(1, np.float32)
        totals = np.zeros(1, np.float64)
        prob = np.ones(1, np.float32)
        alias = np.zeros(1, np.int32)
    shape = (len(starts), int(walk_length))
    if out is None:
        out = np.empty(shape, np.int32)
    elif out.shape != shape or out.dtype != np.int32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous int32 array of shape {shape}, got "
                         f"{out.dtype} {out.shape}")
    n_rows = len(indptr) - 1
    if len(starts) and (int(np.min(starts)) < 0 or int(np.max(starts)) >= n_rows):
        raise ValueError(f"starts must be rows in [0, {n_rows}), got values in "
                         f"[{int(np.min(starts))}, {int(np.max(starts))}]")
    first_order = p == 1.0 and q == 1.0
    seed = int(seed) % (2**63)
    old = numba.get_num_threads()
    if n_jobs is not None:
        numba.set_num_threads(max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS)))
    try:
        _walks(indptr, indices, w, totals, prob, alias, weighted, starts, int(walk_length),
               1.0 / float(p), 1.0 / float(q), first_order, seed, out)
    finally:
        numba.set_num_threads(old)
    return out
