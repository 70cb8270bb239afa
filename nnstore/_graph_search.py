"""Graph search: a pruned k-nearest-neighbour graph over the indexed vectors, searched greedily.

The store's Annoy forest answers quickly at moderate recall but needs many
node visits for high recall; a proximity graph (HNSW's family) reaches high
recall with few distance evaluations but costs a long build. This module takes
the forest's strengths (a cheap build, good local neighbourhoods in its leaves,
and a fast descent to a query's neighbourhood) and adds a graph:

Build (:func:`build_graph`), all in numba kernels without the GIL, split over
threads by node ranges (every kernel writes only the rows of its own nodes,
so no locks):

1. *Candidate lists.* Small inputs (``n^2 dim`` up to ``exact_budget``) get
   every item's ``n_candidates`` nearest exactly, from matrix products of the
   blocks of the upper triangle (up to ``GRAM_MAX_ITEMS`` items, the whole
   distance matrix is kept and also serves step 2).
   Larger ones start from the items sharing its leaf in the first
   ``init_trees`` Annoy trees (the forest's own answers: items in one leaf are
   close; from a leaf wider than twice the list, only the mates around the item
   in the leaf's order, so wide vectors, whose trees are a few huge leaves, stay
   linear), then *NN-descent*: rounds of "a neighbour of my neighbour is likely
   my neighbour", each item comparing itself with the candidates of its
   candidates (forward and reverse edges, at least one hop new since the last
   round) and keeping the ``n_candidates`` nearest, until few lists change.
2. *Diversification* (the neighbour-selection rule of HNSW, relaxed by
   ``alpha`` as in Vamana/DiskANN): a candidate ``c`` of ``a`` is kept only if no
   kept neighbour ``r`` has ``alpha * d(c, r) < d(a, c)``, up to ``degree``
   neighbours; then reverse edges are added and every list is pruned again the
   same way. ``alpha > 1`` keeps some of the short edges the strict rule drops,
   so the beam needs fewer steps (measured in benchmarks/results/nnstore_search.md).

The graph is one ``(n, degree)`` int32 matrix (-1 padding), saved in the
store's artifact as ``graph.npy`` and memory-mapped on load.

Search (:func:`search_one`, :func:`search_many`): descend ``entry_trees`` Annoy
trees to a leaf (one margin per level, no queue), take up to ``max(ef,
per_leaf)`` items of the first tree's leaf and ``per_leaf`` of each other leaf
as entry points, then a best-first beam search of width ``ef`` over the graph
(HNSW's search on one layer): expand the closest unexpanded candidate, stop when
it is farther than the ``ef``-th best found. A node's unvisited neighbours are
gathered first and their vectors requested from memory together (prefetch),
then scored. Visited marks live in a per-thread buffer with a generation
counter (no clearing per query). Distances are computed from the store's
float32 vectors directly: cosine from the dot product and a precomputed inverse
norm, euclidean squared then rooted, dot as ``-q.x`` (the build uses the store's
dot augmentation, so the graph is a euclidean graph in the augmented space
where the nearest is the largest inner product), manhattan L1.

Nothing reaches a kernel unchecked: :func:`check_graph` verifies dtype, shape
and that every entry is -1 or a valid item id before the kernel sees the
matrix (a bad ``graph.npy`` is an error, never a crash).
"""

from __future__ import annotations

import itertools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from llvmlite import ir
from numba import carray, njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from threadpoolctl import threadpool_limits

__all__ = ["GraphIndex", "OneQuery", "build_graph", "check_graph", "search_many", "search_one",
           "search_one_table"]

KIND_COSINE, KIND_EUCLIDEAN, KIND_DOT, KIND_MANHATTAN = 0, 1, 2, 3
GRAM_MAX_ITEMS = 4096  # up to this many items, the build keeps every pair's distance (64 MiB)
KINDS = {"cosine": KIND_COSINE, "euclidean": KIND_EUCLIDEAN, "dot": KIND_DOT,
         "manhattan": KIND_MANHATTAN}

_FM = {"reassoc", "contract", "nsz", "arcp"}


def _make_prefetch(name: str):
    """An intrinsic ``prefetch(A, i, z)``: ask the CPU to load the cache line holding ``A[i, z]``
    (2-D ``A``) for reading, ahead of its use (LLVM's ``prefetch`` intrinsic: a hint, no effect on
    results; ``name`` is its mangled name, which depends on LLVM's pointer model)."""
    @intrinsic
    def prefetch(typingctx, arr, i, z):
        if not isinstance(arr, types.Array) or arr.ndim != 2:
            return None

        def codegen(context, builder, signature, args):
            aryty = signature.args[0]
            ary = context.make_array(aryty)(context, builder, args[0])
            inds = [context.cast(builder, a, t, types.intp)
                    for a, t in zip(args[1:], signature.args[1:], strict=True)]
            ptr = cgutils.get_item_pointer2(context, builder, data=ary.data,
                                            shape=cgutils.unpack_tuple(builder, ary.shape),
                                            strides=cgutils.unpack_tuple(builder, ary.strides),
                                            layout=aryty.layout, inds=inds)
            i8p = ir.PointerType(ir.IntType(8))
            i32 = ir.IntType(32)
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), name)
            builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
            return context.get_dummy_value()

        return types.void(arr, i, z), codegen

    return prefetch


@njit(inline="always")
def _no_prefetch(arr, i, z):
    return None


def _pick_prefetch():
    """The prefetch intrinsic this LLVM compiles (opaque or typed pointers), else a no-op."""
    for name in ("llvm.prefetch.p0", "llvm.prefetch.p0i8"):
        pf = _make_prefetch(name)

        @njit
        def probe(a, pf=pf):
            pf(a, 1, 0)
            return a[1, 0]

        try:
            if probe(np.ones((2, 1), np.float32)) == 1.0:
                return pf
        except Exception:  # any compile failure: try the next name, else no hint
            continue
    return _no_prefetch


_prefetch = _pick_prefetch()


@intrinsic
def _voidptr(typingctx, addr):
    """The address ``addr`` (an int64 from :class:`OneQuery`'s table) as a ``void *``."""
    if not isinstance(addr, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(addr), codegen


# -- build ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, fastmath=_FM, inline="always")
def _bdist(X, aux, l1, i, j):
    """Build distance between items ``i`` and ``j``: squared L2 (plus the augmentation
    coordinate ``aux``) or L1."""
    d = np.float32(0.0)
    a = X[i]
    b = X[j]
    if l1:
        for z in range(a.shape[0]):
            d += abs(a[z] - b[z])
    else:
        for z in range(a.shape[0]):
            t = a[z] - b[z]
            d += t * t
        t = aux[i] - aux[j]
        d += t * t
    return d


@njit(cache=True, nogil=True, fastmath=_FM)
def _offer(X, aux, l1, hi, hd, hf, a, ids, m):
    """Offer ``a``'s sorted candidate list (ascending, ``L`` long) the items ``ids[:m]``: each
    goes in if it is nearer than the last and not there yet, marked new in ``hf``; returns how
    many went in. The distance (:func:`_bdist`'s) is written out here: this is the build's
    hottest loop, and passing arrays to a helper costs an atomic reference-count update per
    call."""
    L = hi.shape[1]
    dim = X.shape[1]
    ins = 0
    for t in range(m):
        j = ids[t]
        d = np.float32(0.0)
        if l1:
            for z in range(dim):
                d += abs(X[a, z] - X[j, z])
        else:
            for z in range(dim):
                u = X[a, z] - X[j, z]
                d += u * u
            u = aux[a] - aux[j]
            d += u * u
        if d >= hd[a, L - 1]:
            continue
        dup = False
        for r in range(L):
            if hi[a, r] == j:
                dup = True
                break
        if dup:
            continue
        p = L - 1
        while p > 0 and hd[a, p - 1] > d:
            hd[a, p] = hd[a, p - 1]
            hi[a, p] = hi[a, p - 1]
            hf[a, p] = hf[a, p - 1]
            p -= 1
        hd[a, p] = d
        hi[a, p] = j
        hf[a, p] = 1
        ins += 1
    return ins


@njit(cache=True, nogil=True)
def _leaves(nodes, root, child_off, K, n_items, leaf_of, stack):
    """Write into ``leaf_of[item]`` the leaf node holding each item in the tree at ``root``."""
    sp = 0
    stack[0] = root
    sp = 1
    while sp > 0:
        sp -= 1
        i = stack[sp]
        nd = nodes[i, 0]
        if nd == 1 and i < n_items:
            leaf_of[i] = -1 - i  # a tree that is one item: its own leaf
        elif nd <= K:
            for c in range(nd):
                leaf_of[nodes[i, child_off + c]] = i
        else:
            stack[sp] = nodes[i, child_off]
            stack[sp + 1] = nodes[i, child_off + 1]
            sp += 2


@njit(cache=True, nogil=True)
def _leaf_order(nodes, root, child_off, K, n_items, out, stack):
    """The items of the tree at ``root`` in depth-first leaf order (close items get close
    positions: the graph's storage order). Returns how many were written."""
    sp = 1
    stack[0] = root
    m = 0
    while sp > 0:
        sp -= 1
        i = stack[sp]
        nd = nodes[i, 0]
        if nd == 1 and i < n_items:
            out[m] = i
            m += 1
        elif nd <= K:
            for c in range(nd):
                out[m] = nodes[i, child_off + c]
                m += 1
        else:
            stack[sp] = nodes[i, child_off + 1]
            stack[sp + 1] = nodes[i, child_off]
            sp += 2
    return m


@njit(cache=True, nogil=True, fastmath=_FM)
def _leaf_init(nodes, child_off, leaf_of, perm, inv, X, aux, l1, hi, hd, hf, lo, hi_end):
    """Candidates of items ``lo..hi_end-1`` (graph order) from their leaf mates in every tree of
    ``leaf_of`` (indexed by slot; ``perm``: graph id -> slot, ``inv``: slot -> graph id). From a
    leaf of more than twice the list length (wide vectors: Annoy's leaves hold up to about ``dim``
    items, so a tree over fewer items than dimensions is one leaf) only the ``2 L`` mates around
    the item in the leaf's order, so the cost stays linear; NN-descent refines from there."""
    w = 2 * hi.shape[1]
    ids = np.empty(w + 2, dtype=np.int32)
    for a in range(lo, hi_end):
        sa = perm[a]
        for t in range(leaf_of.shape[0]):
            leaf = leaf_of[t, sa]
            if leaf < 0:
                continue
            nd = nodes[leaf, 0]
            m = 0
            if nd <= w + 1:
                for c in range(nd):
                    b = inv[nodes[leaf, child_off + c]]
                    if b != a:
                        ids[m] = b
                        m += 1
            else:
                pos = 0
                for c in range(nd):
                    if nodes[leaf, child_off + c] == sa:
                        pos = c
                        break
                for o in range(1, w + 1):  # pos +- 1, +- 2, ... (cyclic)
                    c = (pos + (o + 1) // 2 if o % 2 else pos - o // 2) % nd
                    b = inv[nodes[leaf, child_off + c]]
                    if b != a:
                        ids[m] = b
                        m += 1
            _offer(X, aux, l1, hi, hd, hf, a, ids, m)


@njit(cache=True, nogil=True)
def _candidates(hi, hf, order, S, new_c, new_n, old_c, old_n):
    """Forward and reverse candidate lists (at most ``S`` each) for one NN-descent round; the
    forward new ones are marked old. ``order``: a random order of the items for the reverse
    lists (which of a popular item's reverse edges fit)."""
    n, L = hi.shape
    new_n[:] = 0
    old_n[:] = 0
    for a in range(n):
        for t in range(L):
            j = hi[a, t]
            if j < 0:
                break
            if hf[a, t] == 1:
                if new_n[a] < S:
                    new_c[a, new_n[a]] = j
                    new_n[a] += 1
                    hf[a, t] = 2  # sampled this round: old from the next on
            elif old_n[a] < S:
                old_c[a, old_n[a]] = j
                old_n[a] += 1
    # reverse edges: j gets a if a lists j
    fn = new_n.copy()
    fo = old_n.copy()
    for r in range(n):
        a = order[r]
        for t in range(fn[a]):
            j = new_c[a, t]
            if new_n[j] < 2 * S:
                dup = False
                for u in range(new_n[j]):
                    if new_c[j, u] == a:
                        dup = True
                        break
                if not dup:
                    new_c[j, new_n[j]] = a
                    new_n[j] += 1
        for t in range(fo[a]):
            j = old_c[a, t]
            if old_n[j] < 2 * S:
                dup = False
                for u in range(old_n[j]):
                    if old_c[j, u] == a:
                        dup = True
                        break
                if not dup:
                    old_c[j, old_n[j]] = a
                    old_n[j] += 1
    for a in range(n):
        for t in range(hi.shape[1]):
            if hf[a, t] == 2:
                hf[a, t] = 0


@njit(cache=True, nogil=True, fastmath=_FM)
def _join(X, aux, l1, hi, hd, hf, new_c, new_n, old_c, old_n, lo, hi_end):
    """One NN-descent round for items ``lo..hi_end-1`` (pull form: each item updates only its
    own list): compare ``a`` with the candidates of its candidates, at least one hop new, each
    once per round."""
    updates = 0
    seen = np.full(X.shape[0], -1, dtype=np.int32)  # the item that last evaluated each one
    ids = np.empty(new_c.shape[1] * (new_c.shape[1] + old_c.shape[1]) * 2, dtype=np.int32)
    for a in range(lo, hi_end):
        seen[a] = a
        for t in range(hi.shape[1]):
            if hi[a, t] >= 0:
                seen[hi[a, t]] = a
        m = 0
        for s in range(new_n[a] + old_n[a]):
            a_new = s < new_n[a]
            u = new_c[a, s] if a_new else old_c[a, s - new_n[a]]
            for t in range(new_n[u] + (old_n[u] if a_new else 0)):
                w = new_c[u, t] if t < new_n[u] else old_c[u, t - new_n[u]]
                if seen[w] == a:
                    continue
                seen[w] = a
                ids[m] = w
                m += 1
        updates += _offer(X, aux, l1, hi, hd, hf, a, ids, m)
    return updates


@njit(cache=True, nogil=True, fastmath=_FM)
def _prune(X, aux, l1, D, cand, cand_d, degree, alpha, out, lo, hi_end):
    """HNSW's heuristic over each item's candidates (sorted ascending): keep ``c`` unless a kept
    ``r`` has ``alpha * d(c, r) < d(a, c)``; at most ``degree``; -1 padding. (Strictly: copies
    of ``a`` at distance 0 stay linked to each other, or a duplicated row could be reached by
    no edge at all.) ``D``: every pair's build distance (:func:`_gram_dists`), or a 0 x 0
    matrix (distances computed from ``X``)."""
    full = D.shape[0] > 0
    for a in range(lo, hi_end):
        m = 0
        for t in range(cand.shape[1]):
            c = cand[a, t]
            if c < 0:
                break
            dac = cand_d[a, t]
            good = True
            for r in range(m):
                dcr = D[c, out[a, r]] if full else _bdist(X, aux, l1, c, out[a, r])
                if alpha * dcr < dac:
                    good = False
                    break
            if good:
                out[a, m] = c
                m += 1
                if m == degree:
                    break
        for t in range(m, out.shape[1]):
            out[a, t] = -1


@njit(cache=True, nogil=True)
def _reverse(fwd, rev, rev_n, order):
    """``rev[c]`` lists the items whose pruned list holds ``c`` (at most ``rev.shape[1]``)."""
    R = rev.shape[1]
    rev_n[:] = 0
    for r in range(fwd.shape[0]):
        a = order[r]
        for t in range(fwd.shape[1]):
            c = fwd[a, t]
            if c < 0:
                break
            if rev_n[c] < R:
                rev[c, rev_n[c]] = a
                rev_n[c] += 1


@njit(cache=True, nogil=True, fastmath=_FM)
def _merge_lists(X, aux, l1, D, fwd, rev, rev_n, cand, cand_d, lo, hi_end):
    """Each item's forward and reverse neighbours, distinct, sorted by distance (-1 padding;
    ``D`` as in :func:`_prune`)."""
    w = cand.shape[1]
    full = D.shape[0] > 0
    for a in range(lo, hi_end):
        m = 0
        for src in range(2):
            cnt = fwd.shape[1] if src == 0 else rev_n[a]
            for t in range(cnt):
                c = fwd[a, t] if src == 0 else rev[a, t]
                if c < 0:
                    break
                dup = False
                for u in range(m):
                    if cand[a, u] == c:
                        dup = True
                        break
                if dup or m >= w:
                    continue
                d = D[a, c] if full else _bdist(X, aux, l1, a, c)
                p = m
                while p > 0 and cand_d[a, p - 1] > d:
                    cand_d[a, p] = cand_d[a, p - 1]
                    cand[a, p] = cand[a, p - 1]
                    p -= 1
                cand_d[a, p] = d
                cand[a, p] = c
                m += 1
        for t in range(m, w):
            cand[a, t] = -1
            cand_d[a, t] = np.inf


def _in_ranges(fn, n: int, n_threads: int, dim: int = 64) -> list:
    """``fn(lo, hi)`` over ``range(n)`` in chunks on a thread pool (one call when the work, about
    ``n * dim``, is too small to share); returns the results."""
    if n_threads <= 1 or n * max(dim, 1) < 4096 * 64:
        return [fn(0, n)]
    bounds = np.linspace(0, n, n_threads * 8 + 1).astype(np.int64)
    with ThreadPoolExecutor(n_threads) as ex:
        futs = [ex.submit(fn, int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        return [f.result() for f in futs]


def build_graph(vec: np.ndarray, metric: str, afile, *, degree: int = 32, n_candidates: int = 64,
                init_trees: int = 4, max_rounds: int = 6, delta: float = 0.002, alpha: float = 1.35,
                sample: int = 8, n_threads: int = 1, seed: int = 0,
                exact_budget: float = 2e10) -> tuple[np.ndarray, np.ndarray]:
    """The pruned neighbour graph of ``vec`` (the Annoy index ``afile`` was built over it).

    Returns ``(graph, order)``: ``order`` (n,) int32 is the graph's storage order (graph id ->
    row of ``vec``: the depth-first leaf order of the first tree, so that neighbours lie close
    in memory), ``graph`` (n, degree) int32 lists each graph id's neighbours as graph ids, -1
    padded (see the module docstring).
    """
    n = len(vec)
    kind = KINDS[metric]
    rng = np.random.default_rng(seed)
    l1 = kind == KIND_MANHATTAN
    nodes, roots = afile.nodes, afile.roots
    child_off = 1 if afile.kind == 0 else 2
    stack = np.empty(2 * len(nodes) + 2, dtype=np.int32)
    perm = np.empty(n, dtype=np.int32)
    if _leaf_order(nodes, roots[0], child_off, afile.K, afile.n_items, perm, stack) != n:
        raise ValueError("the Annoy index does not list every item in its first tree")
    inv = np.empty(n, dtype=np.int32)
    inv[perm] = np.arange(n, dtype=np.int32)
    X = np.ascontiguousarray(vec[perm], dtype=np.float32)
    if kind == KIND_COSINE:  # on unit vectors: 1 - cos = |a - b|^2 / 2, so squared L2 ranks
        nrm = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))[:, None]
        X = np.divide(X, nrm, out=np.zeros(X.shape, dtype=np.float64), where=nrm > 0).astype(np.float32)
    aux = np.zeros(n, dtype=np.float32)
    if kind == KIND_DOT:  # the augmentation x -> [x, sqrt(M^2 - |x|^2)]: euclidean ranks = dot ranks
        sq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        aux = np.sqrt(np.maximum(sq.max() - sq, 0.0)).astype(np.float32)
    L = max(int(n_candidates), int(degree))
    D = np.empty((0, 0), dtype=np.float32)
    exact = not l1 and float(n) * n * X.shape[1] <= exact_budget
    if exact and n <= GRAM_MAX_ITEMS:
        D = _gram_dists(X, aux, n_threads)
        hi = np.empty((n, min(L, n - 1)), dtype=np.int32)
        hd = np.empty((n, min(L, n - 1)), dtype=np.float32)
        _in_ranges(lambda a, b: _top_rows(D, hi, hd, a, b), n, n_threads, n)
    elif exact:
        hi, hd = _exact_lists(X, aux, min(L, n - 1), n_threads)
    else:
        hi, hd = _descent_lists(X, aux, l1, afile, perm, inv, L, init_trees, max_rounds, delta,
                                sample, n_threads, rng)
    deg = int(degree)
    fwd = np.empty((n, deg), dtype=np.int32)
    dim = X.shape[1]
    _in_ranges(lambda a, b: _prune(X, aux, l1, D, hi, hd, deg, np.float32(alpha), fwd, a, b), n,
               n_threads, dim)
    hi = hd = None
    rev = np.empty((n, deg), dtype=np.int32)
    rev_n = np.zeros(n, dtype=np.int32)
    _reverse(fwd, rev, rev_n, rng.permutation(n).astype(np.int32))
    cand = np.empty((n, 2 * deg), dtype=np.int32)
    cand_d = np.empty((n, 2 * deg), dtype=np.float32)
    _in_ranges(lambda a, b: _merge_lists(X, aux, l1, D, fwd, rev, rev_n, cand, cand_d, a, b), n,
               n_threads, dim)
    out = np.empty((n, deg), dtype=np.int32)
    _in_ranges(lambda a, b: _prune(X, aux, l1, D, cand, cand_d, deg, np.float32(alpha), out, a, b),
               n, n_threads, dim)
    return out, perm


def _centred(X: np.ndarray, aux: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The build vectors with ``aux`` as one more column, centred (float32; squared L2 is
    unchanged and the matrix products below lose less), and their squared norms."""
    A = np.hstack([X.astype(np.float64), aux.astype(np.float64)[:, None]])
    A -= A.mean(axis=0)
    return A.astype(np.float32), np.einsum("ij,ij->i", A, A).astype(np.float32)


def _block_pairs(n_blocks: int) -> list[list[tuple[int, int]]]:
    """The blocks of the upper triangle of an ``n_blocks`` x ``n_blocks`` grid as rounds in which
    no block appears twice (the diagonal first, then the circle method's pairings), so a round's
    pairs can run on threads at once writing only their own blocks' rows."""
    rounds = [[(b, b) for b in range(n_blocks)]]
    m = n_blocks + n_blocks % 2
    ring = list(range(m))
    for _ in range(m - 1):
        rnd = [(min(ring[i], ring[m - 1 - i]), max(ring[i], ring[m - 1 - i])) for i in range(m // 2)]
        rounds.append([p for p in rnd if p[1] < n_blocks])
        ring = [ring[0], ring[-1], *ring[1:-1]]
    return [r for r in rounds if r]


def _run_rounds(rounds: list, task, n_threads: int) -> None:
    """``task(i, j)`` for every pair, round after round (a round's pairs on ``n_threads``
    threads): the same calls in the same order per block whatever the thread count."""
    with threadpool_limits(1, user_api="blas"):
        if n_threads <= 1:
            for rnd in rounds:
                for i, j in rnd:
                    task(i, j)
        else:
            with ThreadPoolExecutor(n_threads) as ex:
                for rnd in rounds:
                    list(ex.map(lambda p: task(*p), rnd))


def _gram_dists(X: np.ndarray, aux: np.ndarray, n_threads: int = 1) -> np.ndarray:
    """Every pair's build distance (squared L2 with ``aux``) as an ``(n, n)`` float32 matrix, from
    matrix products of blocks of the upper triangle (each product written to both halves, so
    the matrix is exactly symmetric; see :func:`_gram_block` for the rounding rule)."""
    n = len(X)
    A, sq = _centred(X, aux)
    D = np.empty((n, n), dtype=np.float32)
    step = max(1, -(-n // 8))
    nb = -(-n // step)

    def task(i: int, j: int) -> None:
        r0, c0 = i * step, j * step
        _gram_block(A[r0:r0 + step] @ A[c0:c0 + step].T, sq, r0, c0, D)

    _run_rounds(_block_pairs(nb), task, n_threads)
    return D


@njit(cache=True, nogil=True)
def _gram_block(G, sq, r0, c0, D):
    """``D[a, j] = D[j, a]`` for ``a = r0 + r``, ``j = c0 + c`` from the products ``G[r, c]``
    (:func:`_gdist`); the diagonal is 0."""
    for r in range(G.shape[0]):
        a = r0 + r
        for c in range(G.shape[1]):
            j = c0 + c
            d = _gdist(sq[a], sq[j], G[r, c]) if a != j else np.float32(0.0)
            D[a, j] = d
            D[j, a] = d


@njit(cache=True, nogil=True, inline="always")
def _gdist(sa, sj, g):
    """Squared distance from two squared norms and their product, 0 when within float32
    rounding of the norms (identical rows must tie at 0, as the direct difference gives)."""
    d = sa + sj - np.float32(2.0) * g
    if d <= np.float32(1e-5) * (sa + sj):
        return np.float32(0.0)
    return d


@njit(cache=True, nogil=True)
def _insert(hi, hd, a, m, d, j):
    """Put ``j`` at distance ``d`` into row ``a`` of the ascending lists ``hi``/``hd`` (``m``
    entries used; when full the last one drops out); returns the new count. Called only for an
    entry that goes in, so the reference count numba pays per call stays off the scan."""
    L = hi.shape[1]
    p = m if m < L else L - 1
    while p > 0 and hd[a, p - 1] > d:
        hd[a, p] = hd[a, p - 1]
        hi[a, p] = hi[a, p - 1]
        p -= 1
    hd[a, p] = d
    hi[a, p] = j
    return m + 1 if m < L else m


@njit(cache=True, nogil=True)
def _top_rows(D, hi, hd, lo, hi_end):
    """Rows ``lo..hi_end-1`` of ``hi``/``hd``: each item's ``L`` nearest others by ``D``,
    ascending (ties: the lower id first)."""
    L = hi.shape[1]
    for a in range(lo, hi_end):
        m = 0
        thr = np.float32(np.inf)
        for j in range(D.shape[1]):
            d = D[a, j]
            if j == a or (m == L and d >= thr):
                continue
            m = _insert(hi, hd, a, m, d, j)
            if m == L:
                thr = hd[a, L - 1]


def _exact_lists(X: np.ndarray, aux: np.ndarray, L: int, n_threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every item's ``L`` nearest other items exactly (squared L2 in the build space), for inputs
    small enough that this is cheaper than NN-descent: one matrix product per block pair of
    the upper triangle (half the products of the full matrix), offered to the rows of both
    blocks. Pairs run in rounds of disjoint blocks on ``n_threads`` threads (one-thread
    matrix products), so every row sees the same offers in the same order whatever the
    thread count."""
    n = len(X)
    A, sq = _centred(X, aux)
    hi = np.full((n, L), -1, dtype=np.int32)
    hd = np.full((n, L), np.inf, dtype=np.float32)
    fill = np.zeros(n, dtype=np.int32)
    step = max(1, min(-(-n // 8), (16 << 20) // max(1, 4 * n)))
    nb = -(-n // step)

    def task(i: int, j: int) -> None:
        r0, c0 = i * step, j * step
        G = A[r0:r0 + step] @ A[c0:c0 + step].T
        _top_block(G, sq, r0, c0, hi, hd, fill)
        if i != j:
            _top_block(np.ascontiguousarray(G.T), sq, c0, r0, hi, hd, fill)

    _run_rounds(_block_pairs(nb), task, n_threads)
    return hi, hd


@njit(cache=True, nogil=True)
def _top_block(G, sq, r0, c0, hi, hd, fill):
    """Offer each row ``a = r0 + r`` of ``hi``/``hd`` (ascending, ``fill[a]`` used) the items
    ``j = c0 + c`` at :func:`_gdist`; a row keeps its ``L`` smallest, never itself."""
    L = hi.shape[1]
    nc = G.shape[1]
    for r in range(G.shape[0]):
        a = r0 + r
        m = fill[a]
        sa = sq[a]
        thr = hd[a, L - 1] if m == L else np.float32(np.inf)
        for c in range(nc):
            j = c0 + c
            d = _gdist(sa, sq[j], G[r, c])
            if j == a or d >= thr:
                continue
            m = _insert(hi, hd, a, m, d, j)
            if m == L:
                thr = hd[a, L - 1]
        fill[a] = m


def _descent_lists(X, aux, l1, afile, perm, inv, L, init_trees, max_rounds, delta, sample, n_threads,
                   rng) -> tuple[np.ndarray, np.ndarray]:
    """Every item's approximate ``L`` nearest: leaf mates in the first ``init_trees`` trees, then
    NN-descent rounds (see the module docstring)."""
    n = len(X)
    nodes, roots = afile.nodes, afile.roots
    child_off = 1 if afile.kind == 0 else 2
    stack = np.empty(2 * len(nodes) + 2, dtype=np.int32)
    hi = np.full((n, L), -1, dtype=np.int32)
    hd = np.full((n, L), np.inf, dtype=np.float32)
    hf = np.zeros((n, L), dtype=np.uint8)
    n_init = max(1, min(int(init_trees), len(roots)))
    leaf_of = np.empty((n_init, n), dtype=np.int32)
    for t in range(n_init):
        _leaves(nodes, roots[t], child_off, afile.K, afile.n_items, leaf_of[t], stack)
    stack = None
    _in_ranges(lambda a, b: _leaf_init(nodes, child_off, leaf_of, perm, inv, X, aux, l1, hi, hd, hf,
                                       a, b), n, n_threads, X.shape[1])
    leaf_of = None
    # items in no leaf with others (tiny trees) get random candidates, so every list fills
    short = np.flatnonzero(hi[:, min(L, n - 1) - 1] < 0)
    for a in short:
        ids = rng.choice(n, size=min(n, L + 1), replace=False).astype(np.int32)
        ids = ids[ids != a]
        _offer(X, aux, l1, hi, hd, hf, a, ids, len(ids))
    S = int(sample)
    new_c = np.empty((n, 2 * S), dtype=np.int32)
    old_c = np.empty((n, 2 * S), dtype=np.int32)
    new_n = np.zeros(n, dtype=np.int32)
    old_n = np.zeros(n, dtype=np.int32)
    for _ in range(int(max_rounds)):
        _candidates(hi, hf, rng.permutation(n).astype(np.int32), S, new_c, new_n, old_c, old_n)
        ups = sum(_in_ranges(lambda a, b: _join(X, aux, l1, hi, hd, hf, new_c, new_n, old_c, old_n,
                                                a, b), n, n_threads, X.shape[1]))
        if ups <= delta * n * L:
            break
    return hi, hd


def check_graph(graph, n_items: int, name: str = "graph") -> np.ndarray:
    """The graph matrix if the search kernel can walk it safely, else ``ValueError`` naming why."""
    if not isinstance(graph, np.ndarray) or graph.dtype != np.int32 or graph.ndim != 2:
        raise ValueError(f"{name} must be a 2-D int32 array, got "
                         f"{getattr(graph, 'dtype', type(graph).__name__)} of shape {np.shape(graph)}")
    if graph.shape[0] != n_items or graph.shape[1] < 1:
        raise ValueError(f"{name} must have shape ({n_items}, degree >= 1) for {n_items} indexed items, "
                         f"got {graph.shape}")
    raw = np.asarray(graph)
    step = max(1, (8 << 20) // max(1, raw.shape[1]))
    for s in range(0, len(raw), step):
        blk = raw[s:s + step]
        if blk.size and (blk.min() < -1 or blk.max() >= n_items):
            bad = np.argwhere((blk < -1) | (blk >= n_items))[0]
            raise ValueError(f"{name}: row {s + int(bad[0])} holds {int(blk[bad[0], bad[1]])}, not an item "
                             f"id in [0, {n_items}) or -1")
    return graph


def _addr(a: np.ndarray) -> int:
    return a.__array_interface__["data"][0]


class OneQuery:
    """The single-query call of one graph and its Annoy forest: the arrays' addresses and shapes
    in one int64 table per thread (each with that thread's visited buffer), so a query passes
    :func:`search_one_table` 8 arguments instead of :func:`search_one`'s 18 (numba's dispatch
    costs about 0.2 us per argument, and a one-query call holds the GIL for it). The arrays are
    referenced here for as long as the tables can be used.

    Parameters
    ----------
    gr : GraphIndex
    nodes, roots : the Annoy index's node matrix and roots (int32, C-contiguous)
    per_leaf : int
        Entry points taken from each leaf after the first.
    """

    def __init__(self, gr: GraphIndex, nodes: np.ndarray, roots: np.ndarray, per_leaf: int) -> None:
        arrays = {"graph": (gr.graph, np.int32, 2), "X": (gr.X, np.float32, 2),
                  "aux": (gr.aux, np.float32, 1), "perm": (gr.perm, np.int32, 1),
                  "inv": (gr.inv, np.int32, 1), "nodes": (nodes, np.int32, 2), "roots": (roots, np.int32, 1)}
        for name, (a, dt, nd) in arrays.items():
            if a.dtype != dt or a.ndim != nd or not a.flags.c_contiguous:
                raise ValueError(f"{name}: expected a C-contiguous {np.dtype(dt)} array of {nd} "
                                 f"dimension(s), got {a.dtype}, shape {a.shape}")
        n = len(gr.graph)
        if gr.X.shape[0] != n or len(gr.aux) != n or len(gr.perm) != n or len(gr.inv) != n:
            raise ValueError(f"graph arrays disagree on the number of items ({n})")
        self._keep = [a for a, _, _ in arrays.values()]
        self._n = n
        self._base = np.array([_addr(gr.graph), n, gr.graph.shape[1], _addr(gr.X), gr.X.shape[1],
                               _addr(gr.aux), _addr(gr.perm), _addr(gr.inv), gr.kind, _addr(nodes),
                               nodes.shape[0], nodes.shape[1], _addr(roots), len(roots), 0, 0, int(per_leaf)],
                              dtype=np.int64)
        self._pool: list = []

    def take(self) -> np.ndarray:
        """A table with a visited buffer no other thread is using (give it back with :meth:`give`)."""
        try:
            return self._pool.pop()
        except IndexError:
            visited = np.zeros(self._n, dtype=np.uint32)
            gen = np.zeros(1, dtype=np.uint32)
            self._keep += [visited, gen]
            tab = self._base.copy()
            tab[14], tab[15] = _addr(visited), _addr(gen)
            return tab

    def give(self, tab: np.ndarray) -> None:
        self._pool.append(tab)

    def __reduce__(self):
        # a copy would carry this process's addresses of arrays it does not hold
        raise TypeError("OneQuery holds raw addresses of its arrays and cannot be pickled or copied; "
                        "build a new one from the copied arrays")


class GraphIndex:
    """A checked graph plus what its search needs: the vectors in the graph's order and, for
    cosine, their inverse norms.

    Parameters
    ----------
    graph : (n, degree) int32, -1 padded, graph ids
    order : (n,) int32, graph id -> row of ``vec`` (a permutation)
    vec : (>= n, dim) float32, the store's vectors (rows ``0..n-1`` are the indexed ones)
    metric : str

    Raises
    ------
    ValueError
        For arrays the kernel could not walk safely (see :func:`check_graph`).
    """

    def __init__(self, graph: np.ndarray, order: np.ndarray, vec: np.ndarray, metric: str) -> None:
        n = len(graph)
        # plain ndarray views of any memory-mapped arrays (see AnnoyFile.nodes: numba dispatches
        # a memmap subclass slowly)
        self.graph = np.asarray(check_graph(graph, n))
        if (not isinstance(order, np.ndarray) or order.dtype != np.int32 or order.shape != (n,)):
            raise ValueError(f"graph order must be an int32 array of shape ({n},), got "
                             f"{getattr(order, 'dtype', type(order).__name__)} of shape {np.shape(order)}")
        if n and (order.min() < 0 or order.max() >= n
                  or np.bincount(order, minlength=n).max() != 1):
            raise ValueError(f"graph order must be a permutation of 0..{n - 1}")
        if len(vec) < n:
            raise ValueError(f"graph has {n} rows but only {len(vec)} vectors")
        self.perm = np.asarray(np.ascontiguousarray(order))
        self.inv = np.empty(n, dtype=np.int32)
        self.inv[self.perm] = np.arange(n, dtype=np.int32)
        self.X = np.ascontiguousarray(vec[self.perm], dtype=np.float32)
        self.kind = KINDS[metric]
        if self.kind == KIND_COSINE:
            nrm = np.sqrt(np.einsum("ij,ij->i", self.X, self.X, dtype=np.float64))
            self.aux = np.divide(1.0, nrm, out=np.zeros(n), where=nrm > 0).astype(np.float32)
        else:
            self.aux = np.zeros(n, dtype=np.float32)
        self._pool: list = []

    @property
    def n_items(self) -> int:
        return len(self.graph)

    def buffers(self):
        """A visited buffer and its generation counter (from a pool: one per thread at a time)."""
        try:
            return self._pool.pop()
        except IndexError:
            return (np.zeros(len(self.graph), dtype=np.uint32), np.zeros(1, dtype=np.uint32))

    def release(self, buf) -> None:
        self._pool.append(buf)

    def search(self, afile, Q: np.ndarray, k: int, ef: int, n_entry: int, per_leaf: int,
               out_ids: np.ndarray, out_dist: np.ndarray, max_qq: float) -> int:
        """:func:`search_many` over ``Q`` (float32, C-contiguous) with a pooled buffer."""
        buf = self.buffers()
        try:
            return search_many(self.graph, self.X, self.aux, self.perm, self.inv, self.kind,
                               afile.nodes, afile.roots, n_entry, per_leaf, Q, k, ef, buf[0], buf[1],
                               out_ids, out_dist, max_qq)
        finally:
            self.release(buf)


# -- search --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, fastmath=_FM)
def search_one(graph, X, aux, perm, inv, kind, nodes, roots, n_entry, per_leaf, q, k, ef, visited,
               gen, out_ids, out_dist, max_qq):
    """Beam search for one query; returns the number found, or -1 for a refused query (NaN,
    inf, or ``|q|^2 > max_qq``: every slot -1 / inf).

    ``X``, ``aux``, ``graph``: in the graph's order (``perm``: graph id -> store slot, ``inv``
    the reverse). ``nodes``/``roots``: the Annoy index (validated) whose first ``n_entry``
    trees give the entry points (the first tree's whole leaf, at most ``per_leaf`` items of each
    other leaf reached; an entry point farther than the ``ef``-th found is neither kept nor
    queued); ``visited`` (uint32, one per item) and ``gen`` (uint32[1]) are the caller's scratch
    (one pair per thread). Writes the ``k`` nearest ids and their store distances.
    """
    n = graph.shape[0]
    qq = 0.0
    for z in range(q.shape[0]):
        qq += np.float64(q[z]) * np.float64(q[z])
    if not math.isfinite(qq) or qq > max_qq or n == 0:
        for t in range(k):
            out_ids[t] = -1
            out_dist[t] = np.float32(np.inf)
        return -1 if n > 0 else 0
    g = gen[0] + np.uint32(1)
    if g == 0:  # wrapped: clear the marks
        visited[:] = 0
        g = np.uint32(1)
    gen[0] = g
    ef = max(ef, k)
    # results: a max-heap of size <= ef; candidates: a min-heap. The scoring loop below is
    # written out in this one function on purpose: handing the arrays to helper functions
    # costs an atomic reference-count update per call, which measured as half the search time.
    rd = np.empty(ef + 1, np.float32)
    ri = np.empty(ef + 1, np.int32)
    rn = 0
    cd = np.empty(ef * 4 + 64, np.float32)
    ci = np.empty(ef * 4 + 64, np.int32)
    cn = 0
    wide = max(ef, per_leaf)
    fresh = np.empty(max(graph.shape[1], wide + max(0, n_entry - 1) * per_leaf), np.int32)
    lines = min(16, X.shape[1] - 1)  # the second cache line of a row (16 float32 per line)
    words = nodes.shape[1]
    fl = nodes.view(np.float32)
    child_off = 1 if kind == 0 else 2
    v_off = child_off + 2
    K = words - child_off
    dim = q.shape[0]
    # entry points: descend the first n_entry trees; the first tree's leaf gives up to
    # max(ef, per_leaf) items, every other leaf up to per_leaf
    m = 0
    for t in range(min(n_entry, roots.shape[0])):
        i = roots[t]
        while True:
            nd = nodes[i, 0]
            if nd == 1 and i < n:
                lo, cnt, single = i, 1, True
                break
            if nd <= K:
                lo, cnt, single = i, nd, False
                break
            mg = np.float32(0.0)
            for z in range(dim):
                mg += fl[i, v_off + z] * q[z]
            if kind != 0:
                mg += fl[i, 1]
            i = nodes[i, child_off + 1] if mg > 0 else nodes[i, child_off]
        for c in range(min(cnt, wide) if t == 0 else min(cnt, per_leaf)):
            j = inv[lo] if single else inv[nodes[lo, child_off + c]]
            if visited[j] == g:
                continue
            visited[j] = g
            _prefetch(X, j, 0)
            fresh[m] = j
            m += 1
    while True:
        # score fresh[:m]: queue those closer than the ef-th found (the others are never
        # expanded, as the beam only tightens, nor kept)
        if cn + m > cd.shape[0]:
            cd, ci = _room(cd, ci, cn, m)
        for t in range(m):
            j = fresh[t]
            if t + 1 < m:
                _prefetch(X, fresh[t + 1], lines)
            d = np.float32(0.0)
            if kind == 1:
                for z in range(dim):
                    u = q[z] - X[j, z]
                    d += u * u
            elif kind == 3:
                for z in range(dim):
                    d += abs(q[z] - X[j, z])
            else:
                for z in range(dim):
                    d += q[z] * X[j, z]
                d = -d * aux[j] if kind == 0 else -d
            if rn >= ef and d >= rd[0]:
                continue
            p = cn  # onto the candidate min-heap
            cn += 1
            while p > 0:
                pp = (p - 1) >> 1
                if cd[pp] > d:
                    cd[p] = cd[pp]
                    ci[p] = ci[pp]
                    p = pp
                else:
                    break
            cd[p] = d
            ci[p] = j
            if rn == ef:  # replace the worst result
                last_d = d
                last_i = j
                p = 0
                while True:
                    c = 2 * p + 1
                    if c >= rn:
                        break
                    if c + 1 < rn and rd[c + 1] > rd[c]:
                        c += 1
                    if rd[c] > last_d:
                        rd[p] = rd[c]
                        ri[p] = ri[c]
                        p = c
                    else:
                        break
                rd[p] = last_d
                ri[p] = last_i
            else:  # onto the result max-heap
                p = rn
                rn += 1
                while p > 0:
                    pp = (p - 1) >> 1
                    if rd[pp] < d:
                        rd[p] = rd[pp]
                        ri[p] = ri[pp]
                        p = pp
                    else:
                        break
                rd[p] = d
                ri[p] = j
        # expand the closest candidate, unless it is farther than the ef-th found
        if cn == 0:
            break
        d0 = cd[0]
        c0 = ci[0]
        if rn >= ef and d0 > rd[0]:
            break
        cn -= 1
        if cn > 0:
            ld = cd[cn]
            li = ci[cn]
            p = 0
            while True:
                c = 2 * p + 1
                if c >= cn:
                    break
                if c + 1 < cn and cd[c + 1] < cd[c]:
                    c += 1
                if cd[c] < ld:
                    cd[p] = cd[c]
                    ci[p] = ci[c]
                    p = c
                else:
                    break
            cd[p] = ld
            ci[p] = li
            _prefetch(graph, ci[0], 0)  # the next candidate's list, while this one's are scored
        # its unvisited neighbours, their vectors' first cache lines requested at once
        m = 0
        for t in range(graph.shape[1]):
            j = graph[c0, t]
            if j < 0:
                break
            if visited[j] == g:
                continue
            visited[j] = g
            _prefetch(X, j, 0)
            fresh[m] = j
            m += 1
    # the k best of the results, ascending by (score, id)
    found = min(k, rn)
    for t in range(k):
        out_ids[t] = -1
        out_dist[t] = np.float32(np.inf)
    filled = 0
    for t in range(rn):
        d = rd[t]
        j = ri[t]
        if filled < found:
            p = filled
            filled += 1
        elif d < out_dist[found - 1] or (d == out_dist[found - 1] and j < out_ids[found - 1]):
            p = found - 1
        else:
            continue
        while p > 0 and (out_dist[p - 1] > d or (out_dist[p - 1] == d and out_ids[p - 1] > j)):
            out_dist[p] = out_dist[p - 1]
            out_ids[p] = out_ids[p - 1]
            p -= 1
        out_dist[p] = d
        out_ids[p] = j
    # scores -> store distances
    qn = math.sqrt(qq)
    for t in range(found):
        out_ids[t] = perm[out_ids[t]]
        d = out_dist[t]
        if kind == 0:
            out_dist[t] = np.float32(1.0 + d / qn) if qn > 0 else np.float32(1.0)
        elif kind == 1:
            out_dist[t] = np.float32(math.sqrt(max(d, np.float32(0.0))))
    return found


@njit(cache=True, nogil=True)
def search_one_table(tab, q, k, ef, n_entry, max_qq, out_ids, out_dist):
    """:func:`search_one` with its fixed arrays given as :class:`OneQuery`'s table of addresses
    and shapes, into row 0 of the ``(1, k)`` outputs."""
    n = tab[1]
    graph = carray(_voidptr(tab[0]), (n, tab[2]), np.int32)
    X = carray(_voidptr(tab[3]), (n, tab[4]), np.float32)
    aux = carray(_voidptr(tab[5]), n, np.float32)
    perm = carray(_voidptr(tab[6]), n, np.int32)
    inv = carray(_voidptr(tab[7]), n, np.int32)
    nodes = carray(_voidptr(tab[9]), (tab[10], tab[11]), np.int32)
    roots = carray(_voidptr(tab[12]), tab[13], np.int32)
    visited = carray(_voidptr(tab[14]), n, np.uint32)
    gen = carray(_voidptr(tab[15]), 1, np.uint32)
    return search_one(graph, X, aux, perm, inv, tab[8], nodes, roots, n_entry, tab[16], q, k, ef,
                      visited, gen, out_ids[0], out_dist[0], max_qq)


@njit(cache=True, nogil=True)
def _room(cd, ci, cn, need):
    """The candidate heap's arrays with room for ``cn + need`` entries (copies, doubled)."""
    cap = max(2 * cd.shape[0], cn + need)
    cd2 = np.empty(cap, np.float32)
    ci2 = np.empty(cap, np.int32)
    cd2[:cn] = cd[:cn]
    ci2[:cn] = ci[:cn]
    return cd2, ci2


@njit(cache=True, nogil=True)
def search_many(graph, X, aux, perm, inv, kind, nodes, roots, n_entry, per_leaf, Q, k, ef, visited,
                gen, out_ids, out_dist, max_qq):
    """:func:`search_one` for every row of ``Q``; returns the number of refused rows."""
    refused = 0
    for r in range(Q.shape[0]):
        if search_one(graph, X, aux, perm, inv, kind, nodes, roots, n_entry, per_leaf, Q[r], k, ef,
                      visited, gen, out_ids[r], out_dist[r], max_qq) < 0:
            refused += 1
    return refused
