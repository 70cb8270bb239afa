"""Skip-gram with negative sampling over integer walk arrays.

Two trainers share one recipe (word2vec's, Mikolov et al. 2013):

- :func:`train_skipgram_numba`: the CPU trainer, a compiled lock-free parallel
  (Hogwild) loop that reads the int32 walk array directly (no strings, no
  vocabulary building). Each numba thread owns a strided share of the walks
  and its own random stream; threads update the shared float32 matrices
  without locks, as word2vec and gensim do.
- :func:`train_skipgram_torch`: the same objective as batched torch SGD, for
  ``device="cuda"`` (it also runs on CPU, slowly, which is what the tests use).

The recipe: for every kept node at position ``i`` of a walk, a window
``b`` drawn uniformly from ``1..window`` (word2vec's random window shrink),
every context node ``c`` within ``b`` positions is trained against the centre
node (positive) and ``negative`` nodes drawn from the unigram^0.75 table.
Frequent nodes are subsampled first (keep probability
``(sqrt(f / (s * T)) + 1) * s * T / f`` for a node seen ``f`` times among ``T``
tokens, ``s = subsample``; ``subsample=0`` keeps all). The learning rate decays
linearly from ``learning_rate`` to ``min_learning_rate`` over all epochs.
Positions holding ``-1`` (padding of walks that stopped early) are skipped.

Determinism: with one thread the result is a pure function of the seed. With
several threads Hogwild's unsynchronised updates make results vary slightly
from run to run (as in gensim with several workers).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from ._walks import _randbelow, _seed_state, _uniform, build_alias

__all__ = ["init_vectors", "keep_probabilities", "negative_table", "train_skipgram_numba",
           "train_skipgram_torch"]

_MAX_EXP = 6.0
_EXP_TABLE_SIZE = 1000


def _exp_table() -> np.ndarray:
    """sigmoid on ``_EXP_TABLE_SIZE + 1`` points of ``[-_MAX_EXP, _MAX_EXP]`` (both ends included:
    a dot product equal to ``_MAX_EXP``, or one that rounds up to it, reads the last entry)."""
    x = (np.arange(_EXP_TABLE_SIZE + 1, dtype=np.float64) / _EXP_TABLE_SIZE * 2 - 1) * _MAX_EXP
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)


def node_counts(walks: np.ndarray, n_nodes: int) -> np.ndarray:
    """How often each node occurs in the walks (padding ignored), int64.

    One compiled pass that makes no copy of the walks (a filtered copy and
    its int64 cast would take several times the walks' own memory).

    Parameters
    ----------
    walks : ndarray of int32, any shape
        Node rows, ``-1`` for padding.
    n_nodes : int

    Returns
    -------
    ndarray of shape (n_nodes,), int64
    """
    counts = np.zeros(n_nodes, np.int64)
    _count_nodes(walks.reshape(-1) if walks.flags.c_contiguous else np.ravel(walks), counts)
    return counts


@njit(cache=True)
def _count_nodes(flat, counts):
    for v in flat:
        if v >= 0:
            counts[v] += 1


def keep_probabilities(counts: np.ndarray, subsample: float) -> np.ndarray:
    """word2vec's probability of keeping each occurrence of a node.

    Parameters
    ----------
    counts : ndarray of shape (n_nodes,)
        Occurrences of each node in the walks.
    subsample : float
        The threshold ``s`` (a fraction of all tokens); 0 keeps everything.

    Returns
    -------
    ndarray of shape (n_nodes,), float32
        ``min(1, (sqrt(f / (s * T)) + 1) * s * T / f)`` for a node seen ``f``
        times among ``T`` tokens (1 for unseen nodes).
    """
    counts = np.asarray(counts, dtype=np.float64)
    if subsample <= 0:
        return np.ones(len(counts), np.float32)
    thr = subsample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / thr) + 1.0) * thr / counts
    keep[counts == 0] = 1.0
    return np.minimum(keep, 1.0).astype(np.float32)


def negative_table(counts: np.ndarray, *, power: float = 0.75) -> tuple[np.ndarray, np.ndarray]:
    """Alias table of the unigram^power distribution negatives are drawn from.

    An exact O(1) sampler in 8 bytes per node (word2vec's 10^8-cell table is
    both larger and, for big tables, slower: every draw misses the cache).

    Returns
    -------
    prob : ndarray of shape (n_nodes,), float32
    alias : ndarray of shape (n_nodes,), int32
    """
    counts = np.asarray(counts, dtype=np.float64)
    w = counts**power
    if w.sum() <= 0:
        w = np.ones(len(counts))
    return build_alias(np.array([0, len(w)], np.int64), w.astype(np.float32))


def init_vectors(n_nodes: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """word2vec's initialisation: input vectors uniform(-0.5/dim, 0.5/dim), output vectors zero."""
    syn0 = ((rng.random((n_nodes, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    syn1 = np.zeros((n_nodes, dim), np.float32)
    return syn0, syn1


@njit(cache=True, parallel=True, fastmath=True)
def _train_epoch(walks, syn0, syn1, keep, neg_prob, neg_alias, exp_table, window, negative,
                 lr_start, lr_end, progress0, progress_span, n_threads, seed, epoch):
    n_walks, length = walks.shape
    dim = syn0.shape[1]
    n_nodes = neg_prob.shape[0]
    max_exp = np.float32(_MAX_EXP)
    scale = np.float32(_EXP_TABLE_SIZE / _MAX_EXP / 2.0)
    pairs = np.zeros(n_threads, np.int64)
    for t in prange(n_threads):
        state = _seed_state(seed, epoch * n_threads + t + 1)
        sent = np.empty(length, np.int32)
        neu1e = np.empty(dim, np.float32)
        tg = np.empty(negative + 1, np.int64)
        fs = np.empty(negative + 1, np.float32)
        n_mine = (n_walks - t + n_threads - 1) // n_threads
        count = 0
        for k in range(n_mine):
            w = t + k * n_threads
            frac = progress0 + progress_span * (k / max(n_mine, 1))
            alpha = np.float32(lr_start - (lr_start - lr_end) * frac)
            # subsample the walk into `sent`
            m = 0
            for i in range(length):
                v = walks[w, i]
                if v < 0:
                    continue
                kp = keep[v]
                if kp < 1.0:
                    state, u = _uniform(state)
                    if u > kp:
                        continue
                sent[m] = v
                m += 1
            for i in range(m):
                center = sent[i]
                state, b = _randbelow(state, window)
                reach = window - b
                lo = max(0, i - reach)
                hi = min(m, i + reach + 1)
                for j in range(lo, hi):
                    if j == i:
                        continue
                    ctx = sent[j]
                    v0 = syn0[ctx]
                    # two phases: draw the pair's targets, then take every dot before any
                    # update. v0 does not change until the end of the pair and the targets'
                    # rows are distinct (a repeated negative sees the row before this pair's
                    # update instead of after it), so this is word2vec's update; but the
                    # targets' row loads no longer wait on each other (see
                    # benchmarks/results/node2vec.md for what it changes on large graphs).
                    nt = 1
                    tg[0] = center
                    for _ in range(negative):
                        state, u = _uniform(state)
                        x = u * n_nodes
                        target = int(x)
                        if target >= n_nodes:
                            target = n_nodes - 1
                        if x - target >= neg_prob[target]:
                            target = neg_alias[target]
                        if target == center:
                            continue
                        tg[nt] = target
                        nt += 1
                    for s in range(nt):
                        v1 = syn1[tg[s]]
                        f = np.float32(0.0)
                        for d in range(dim):
                            f += v0[d] * v1[d]
                        fs[s] = f
                    for d in range(dim):
                        neu1e[d] = 0.0
                    for s in range(nt):
                        label = np.float32(1.0) if s == 0 else np.float32(0.0)
                        f = fs[s]
                        if f >= max_exp:
                            g = (label - np.float32(1.0)) * alpha
                        elif f <= -max_exp:
                            g = label * alpha
                        else:  # the index is in [0, _EXP_TABLE_SIZE] (the table has one more entry)
                            g = (label - exp_table[min(int((f + max_exp) * scale), _EXP_TABLE_SIZE)]) \
                                * alpha
                        v1 = syn1[tg[s]]
                        for d in range(dim):
                            neu1e[d] += g * v1[d]
                            v1[d] += g * v0[d]
                    for d in range(dim):
                        v0[d] += neu1e[d]
                    count += 1
        pairs[t] = count
    return pairs.sum()


def train_skipgram_numba(walks: np.ndarray, n_nodes: int, *, dim: int = 128, window: int = 10,
                         negative: int = 5, epochs: int = 1, learning_rate: float = 0.025,
                         min_learning_rate: float = 0.0001, subsample: float = 1e-3,
                         seed: int = 0, n_jobs: int | None = None,
                         callback=None) -> np.ndarray:
    """Train skip-gram with negative sampling on a walk array (compiled CPU trainer).

    Parameters
    ----------
    walks : ndarray of shape (n_walks, walk_length), int32
        Node rows, ``-1`` for padding.
    n_nodes : int
    dim, window, negative, epochs, learning_rate, min_learning_rate, subsample
        See :class:`graphemb.Node2Vec`.
    seed : int
        Seeds the initial vectors and each thread's random stream.
    n_jobs : int, optional
        numba threads (default: numba's current setting).
    callback : callable, optional
        Called as ``callback(epoch)`` after each epoch (progress bars).

    Returns
    -------
    vectors : ndarray of shape (n_nodes, dim), float32
        The input ("syn0") vectors, the node embeddings.
    """
    walks = np.ascontiguousarray(walks, dtype=np.int32)
    rng = np.random.default_rng(seed)
    counts = node_counts(walks, n_nodes)
    keep = keep_probabilities(counts, subsample)
    neg_prob, neg_alias = negative_table(counts)
    syn0, syn1 = init_vectors(n_nodes, dim, rng)
    exp_table = _exp_table()
    old = numba.get_num_threads()
    n_threads = old if n_jobs is None else max(1, min(int(n_jobs), numba.config.NUMBA_NUM_THREADS))
    thread_seed = int(rng.integers(0, 2**62))
    numba.set_num_threads(n_threads)
    try:
        for epoch in range(epochs):
            _train_epoch(walks, syn0, syn1, keep, neg_prob, neg_alias, exp_table, int(window), int(negative),
                         float(learning_rate), float(min_learning_rate), epoch / epochs, 1.0 / epochs,
                         n_threads, thread_seed, epoch)
            if callback is not None:
                callback(epoch)
    finally:
        numba.set_num_threads(old)
    return syn0


def _pairs_for_epoch(walks: np.ndarray, keep: np.ndarray, window: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """All (context, centre) pairs of one epoch, vectorised (subsampling and window shrink applied)."""
    w = walks.copy()
    valid = w >= 0
    drop = valid & (rng.random(w.shape, dtype=np.float32) > keep[np.where(valid, w, 0)])
    w[drop] = -1
    # compact kept tokens to the left of each row
    order = np.argsort(w < 0, axis=1, kind="stable")
    w = np.take_along_axis(w, order, axis=1)
    shrink = rng.integers(0, window, size=w.shape)
    reach = window - shrink
    ctx_all, cen_all = [], []
    for off in range(1, window + 1):
        a, b = w[:, :-off], w[:, off:]
        ok = (a >= 0) & (b >= 0)
        # centre a with context b (to the right), centre b with context a (to the left)
        m1 = ok & (reach[:, :-off] >= off)
        m2 = ok & (reach[:, off:] >= off)
        cen_all += [a[m1], b[m2]]
        ctx_all += [b[m1], a[m2]]
    return np.concatenate(ctx_all), np.concatenate(cen_all)


def train_skipgram_torch(walks: np.ndarray, n_nodes: int, *, dim: int = 128, window: int = 10,
                         negative: int = 5, epochs: int = 1, learning_rate: float = 0.025,
                         min_learning_rate: float = 0.0001, subsample: float = 1e-3,
                         seed: int = 0, device: str = "cuda", batch_size: int | None = None,
                         callback=None) -> np.ndarray:
    """Skip-gram with negative sampling as batched torch SGD (for ``device="cuda"``).

    Same objective, subsampling, window shrink and negative table as
    :func:`train_skipgram_numba`; updates are plain SGD on mini-batches of
    pairs (a row drawn several times in a batch gets the mean of its
    gradients) with the same linear
    learning-rate decay. Meant for GPUs; on CPU it is
    correct but much slower than the numba trainer.

    Returns
    -------
    vectors : ndarray of shape (n_nodes, dim), float32
    """
    import torch

    if batch_size is None:  # small graphs need more, smaller steps
        batch_size = int(min(4096, max(64, n_nodes // 2)))
    walks = np.ascontiguousarray(walks, dtype=np.int32)
    rng = np.random.default_rng(seed)
    counts = node_counts(walks, n_nodes)
    keep = keep_probabilities(counts, subsample)
    neg_prob_np, neg_alias_np = negative_table(counts)
    neg_prob = torch.as_tensor(neg_prob_np, device=device)
    neg_alias = torch.as_tensor(neg_alias_np, device=device, dtype=torch.int64)
    syn0_np, syn1_np = init_vectors(n_nodes, dim, rng)
    syn0 = torch.as_tensor(syn0_np, device=device)
    syn1 = torch.as_tensor(syn1_np, device=device)
    gen = torch.Generator(device=device)
    gen.manual_seed(int(rng.integers(0, 2**62)))
    pair_sets = []
    total = 0
    for _ in range(epochs):
        ctx, cen = _pairs_for_epoch(walks, keep, int(window), rng)
        perm = rng.permutation(len(ctx))
        pair_sets.append((ctx[perm], cen[perm]))
        total += len(ctx)
    done = 0
    with torch.no_grad():
        for epoch, (ctx_np, cen_np) in enumerate(pair_sets):
            ctx_all = torch.as_tensor(ctx_np, device=device, dtype=torch.int64)
            cen_all = torch.as_tensor(cen_np, device=device, dtype=torch.int64)
            for s in range(0, len(ctx_all), batch_size):
                lr = learning_rate - (learning_rate - min_learning_rate) * (done / max(total, 1))
                ctx = ctx_all[s:s + batch_size]
                cen = cen_all[s:s + batch_size]
                bsz = len(ctx)
                x = torch.rand((bsz, negative), device=device, generator=gen) * n_nodes
                cell = x.long().clamp_(max=n_nodes - 1)
                neg = torch.where(x - cell < neg_prob[cell], cell, neg_alias[cell])
                targets = torch.cat([cen[:, None], neg], dim=1)  # (B, 1 + negative)
                labels = torch.zeros((bsz, 1 + negative), device=device)
                labels[:, 0] = 1.0
                mask = torch.ones_like(labels)
                mask[:, 1:] = (neg != cen[:, None]).float()
                v = syn0[ctx]  # (B, D)
                u = syn1[targets]  # (B, K, D)
                f = torch.einsum("bd,bkd->bk", v, u)
                g = (labels - torch.sigmoid(f)) * mask * lr  # (B, K)
                grad_v = torch.einsum("bk,bkd->bd", g, u)
                grad_u = g[:, :, None] * v[:, None, :]
                # a row drawn several times in one batch gets the mean of its
                # gradients (a plain sum overshoots and diverges on hub nodes)
                tflat = targets.reshape(-1)
                c1 = torch.bincount(tflat, minlength=n_nodes).clamp_(min=1).to(grad_u.dtype)
                c0 = torch.bincount(ctx, minlength=n_nodes).clamp_(min=1).to(grad_v.dtype)
                # index_put_(accumulate=True): CPU index_add_ is very slow with repeated rows
                syn1.index_put_((tflat,), grad_u.reshape(-1, dim) / c1[tflat, None], accumulate=True)
                syn0.index_put_((ctx,), grad_v / c0[ctx, None], accumulate=True)
                done += bsz
            if callback is not None:
                callback(epoch)
    return syn0.detach().cpu().numpy().astype(np.float32)

