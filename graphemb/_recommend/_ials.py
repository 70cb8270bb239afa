"""Implicit alternating least squares (iALS) with frequency-scaled regularisation.

The objective is the one of Rendle et al., "Revisiting the Performance of
iALS on Item Recommendation Benchmarks" (RecSys 2022)::

    L(W, H) = sum_{(u,i) observed} c_ui (1 - <w_u, h_i>)^2
            + alpha0 * sum_{u, i} <w_u, h_i>^2
            + l2 * ( sum_u (n_u + alpha0 * n_items)^nu |w_u|^2
                   + sum_i (n_i + alpha0 * n_users)^nu |h_i|^2 )

``c_ui`` is the interaction weight divided by the mean weight (1 without
weights), ``alpha0`` the weight of the unobserved (all) pairs, ``n_u`` and
``n_i`` the numbers of interactions of user u and item i, and ``nu`` scales
the penalty with those frequencies (0: the classic constant penalty; 1:
proportional to the number of terms in the row's loss).

Each half step fixes one side and minimises over the other. The row problem
is the ridge system ``(alpha0 * H^T H + H_u^T C_u H_u + l2_u I) w_u =
H_u^T c_u``; it is solved approximately by ``cg_steps`` conjugate-gradient
steps started from the current ``w_u`` (as implicit does), which costs
``O(d^2 + n_u d)`` per step instead of the ``O(n_u d^2 + d^3)`` of a direct
solve. The Gramian ``H^T H`` is computed once per half step with BLAS.

Shapes
------
``indptr`` ``(n_rows + 1,)``, ``indices`` / ``conf`` ``(nnz,)`` (CSR of the
fixed side's rows per solved row); ``X`` ``(n_rows, dim)``, ``Y``
``(n_cols, dim)``; float32 factors, float64 accumulation.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
import scipy.sparse as sp

from nnstore import seed_from

from ._data import Interactions

__all__ = ["numba_threads", "solve_users", "train_ials"]


@contextlib.contextmanager
def numba_threads(n: int):
    """Run the block with ``n`` numba threads (capped at numba's pool size), then restore."""
    before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


@numba.njit(parallel=True, cache=True, nogil=True, fastmath=True)
def _cg_half_step(indptr: np.ndarray, indices: np.ndarray, conf: np.ndarray, X: np.ndarray,
                  Y: np.ndarray, gram: np.ndarray, reg: np.ndarray, cg_steps: int) -> None:
    """Update every row of ``X`` in place with ``cg_steps`` conjugate-gradient steps."""
    n, d = X.shape
    for u in numba.prange(n):
        x = X[u].astype(np.float64)
        lam = reg[u]
        # r = b - A x, with b = sum_j c_j y_j and A = gram + sum_j c_j y_j y_j^T + lam I
        r = np.empty(d)
        for a in range(d):
            acc = lam * x[a]
            for b in range(d):
                acc += gram[a, b] * x[b]
            r[a] = -acc
        for p in range(indptr[u], indptr[u + 1]):
            j = indices[p]
            s = 0.0
            for t in range(d):
                s += Y[j, t] * x[t]
            coef = conf[p] * (1.0 - s)
            for t in range(d):
                r[t] += coef * Y[j, t]
        pdir = r.copy()
        ap = np.empty(d)
        rs_old = 0.0
        for t in range(d):
            rs_old += r[t] * r[t]
        if rs_old < 1e-20:
            continue
        for _ in range(cg_steps):
            for a in range(d):
                acc = lam * pdir[a]
                for b in range(d):
                    acc += gram[a, b] * pdir[b]
                ap[a] = acc
            for q in range(indptr[u], indptr[u + 1]):
                j = indices[q]
                s = 0.0
                for t in range(d):
                    s += Y[j, t] * pdir[t]
                s *= conf[q]
                for t in range(d):
                    ap[t] += s * Y[j, t]
            pap = 0.0
            for t in range(d):
                pap += pdir[t] * ap[t]
            if pap <= 0.0:
                break
            step = rs_old / pap
            rs_new = 0.0
            for t in range(d):
                x[t] += step * pdir[t]
                r[t] -= step * ap[t]
                rs_new += r[t] * r[t]
            if rs_new < 1e-20:
                break
            beta = rs_new / rs_old
            for t in range(d):
                pdir[t] = r[t] + beta * pdir[t]
            rs_old = rs_new
        for t in range(d):
            X[u, t] = x[t]


def _row_reg(counts: np.ndarray, n_other: int, l2: float, alpha0: float, nu: float) -> np.ndarray:
    return (l2 * (counts + alpha0 * n_other) ** nu).astype(np.float64)


def train_ials(data: Interactions, *, dim: int, epochs: int, l2: float, alpha0: float, nu: float,
               init_std: float, cg_steps: int, rng: np.random.Generator,
               verbose: bool = False) -> tuple[np.ndarray, np.ndarray, list]:
    """Fit iALS on ``data``; returns (user vectors, item vectors, training loss per epoch).

    Parameters
    ----------
    data : Interactions
    dim : int
        Embedding dimension.
    epochs : int
        Alternations (users then items).
    l2, alpha0, nu : float
        Regularisation, unobserved weight and frequency exponent of the objective
        in the module docstring.
    init_std : float
        The initial factors are normal with standard deviation ``init_std / sqrt(dim)``.
    cg_steps : int
        Conjugate-gradient steps per row and half step.
    rng : numpy Generator
    verbose : bool
        A tqdm bar over epochs.

    Returns
    -------
    users : ndarray of shape (n_users, dim), float32
    items : ndarray of shape (n_items, dim), float32
    history : list of dict
        ``{"epoch": e, "loss": L / nnz}`` (the objective above, per interaction) for
        every epoch when ``verbose``, else for the last one only (the loss costs
        about as much as a half step).
    """
    from tqdm.auto import tqdm

    nu_, ni = data.n_users, data.n_items
    conf = data.weights.astype(np.float64)
    conf = conf / conf.mean()
    R = sp.csr_matrix((conf, (data.user_rows, data.item_rows)), shape=(nu_, ni))
    R.sort_indices()
    RT = R.T.tocsr()
    RT.sort_indices()
    u_ptr, u_idx, u_conf = R.indptr.astype(np.int64), R.indices.astype(np.int64), R.data
    i_ptr, i_idx, i_conf = RT.indptr.astype(np.int64), RT.indices.astype(np.int64), RT.data
    u_reg = _row_reg(np.diff(u_ptr), ni, l2, alpha0, nu)
    i_reg = _row_reg(np.diff(i_ptr), nu_, l2, alpha0, nu)
    gen = np.random.default_rng(seed_from(rng))
    scale = init_std / np.sqrt(dim)
    W = (gen.standard_normal((nu_, dim)) * scale).astype(np.float32)
    H = (gen.standard_normal((ni, dim)) * scale).astype(np.float32)
    history = []
    bar = tqdm(range(epochs), desc="iALS", disable=not verbose)
    for epoch in bar:
        g = alpha0 * (H.astype(np.float64).T @ H.astype(np.float64))
        _cg_half_step(u_ptr, u_idx, u_conf, W, H.astype(np.float64), g, u_reg, cg_steps)
        g = alpha0 * (W.astype(np.float64).T @ W.astype(np.float64))
        _cg_half_step(i_ptr, i_idx, i_conf, H, W.astype(np.float64), g, i_reg, cg_steps)
        if verbose or epoch == epochs - 1:
            loss = _loss(u_ptr, u_idx, u_conf, W, H, alpha0, u_reg, i_reg) / max(len(u_idx), 1)
            history.append({"epoch": epoch, "loss": float(loss)})
            bar.set_postfix(loss=f"{loss:.4f}")
    return W, H, history


@numba.njit(cache=True, nogil=True)
def _observed_loss(indptr: np.ndarray, indices: np.ndarray, conf: np.ndarray, W: np.ndarray,
                   H: np.ndarray) -> float:
    """``sum c_ui (1 - <w_u, h_i>)^2`` over the observed pairs, without materialising them."""
    total = 0.0
    d = W.shape[1]
    for u in range(len(indptr) - 1):
        for p in range(indptr[u], indptr[u + 1]):
            j = indices[p]
            s = 0.0
            for t in range(d):
                s += W[u, t] * H[j, t]
            total += conf[p] * (1.0 - s) ** 2
    return total


def _loss(indptr, indices, conf, W, H, alpha0, u_reg, i_reg) -> float:
    W64, H64 = W.astype(np.float64), H.astype(np.float64)
    obs = float(_observed_loss(indptr, indices, conf, W64, H64))
    allpairs = float(alpha0 * np.sum((W64.T @ W64) * (H64.T @ H64)))
    reg = float((u_reg * (W64 ** 2).sum(1)).sum() + (i_reg * (H64 ** 2).sum(1)).sum())
    return obs + allpairs + reg


def solve_users(data: Interactions, items: np.ndarray, *, l2: float, alpha0: float, nu: float,
                cg_steps: int | None = None) -> np.ndarray:
    """User vectors that best explain each user's interactions given fixed item vectors.

    One iALS user half step with the item side held at ``items``, started from
    zero and run to (near) convergence: each user's vector is the ridge
    solution of the module's objective over that user's row. This scores a user
    by the items they interacted with, in the items' own space (used to turn
    any item embedding, such as Node2Vec's, into a recommender).

    Parameters
    ----------
    data : Interactions
    items : ndarray of shape (n_items, dim)
    l2, alpha0, nu : float
        As in :func:`train_ials`.
    cg_steps : int, optional
        Conjugate-gradient steps; default ``dim`` (exact in exact arithmetic).

    Returns
    -------
    ndarray of shape (n_users, dim), float32
    """
    H = np.ascontiguousarray(items, dtype=np.float64)
    dim = H.shape[1]
    conf = data.weights.astype(np.float64)
    conf = conf / conf.mean()
    R = sp.csr_matrix((conf, (data.user_rows, data.item_rows)), shape=(data.n_users, data.n_items))
    R.sort_indices()
    reg = _row_reg(np.diff(R.indptr), data.n_items, l2, alpha0, nu)
    W = np.zeros((data.n_users, dim), dtype=np.float32)
    _cg_half_step(R.indptr.astype(np.int64), R.indices.astype(np.int64), R.data, W, H,
                  alpha0 * (H.T @ H), reg, int(cg_steps or dim))
    return W
