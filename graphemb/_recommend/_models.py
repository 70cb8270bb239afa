"""Encoders of the user-item bipartite graph for :class:`graphemb.Recommender`.

- :func:`train_lightgcn`: LightGCN (He et al., SIGIR 2020) trained with BPR in
  plain torch. Nodes are users then items; the symmetric-normalised bipartite
  adjacency ``D^-1/2 A D^-1/2`` (edge weights = interaction weights) is a
  sparse tensor; ``n_layers`` propagations without weights or non-linearities
  and the mean of the layer outputs (layer 0 included) give the final
  embeddings. Every optimisation step propagates the whole graph (full batch;
  cheap at MovieLens scale) and takes a mini-batch of (user, positive,
  negative) triples: positives are the interactions (an epoch is a shuffled
  pass over them; with weights, positives are drawn with probability
  proportional to the weight), negatives are uniform items the user has not
  interacted with (rejection sampling). Loss: BPR ``-log sigmoid(s_up - s_un)``
  plus ``l2 / 2`` times the squared norms of the batch's layer-0 embeddings,
  divided by the batch size; Adam. ``n_layers=0`` is plain BPR matrix
  factorisation.
- :func:`train_node2vec`: :class:`graphemb.Node2Vec` item vectors from the same bipartite graph.

Shapes
------
interactions ``(n_interactions,)`` user and item rows; output users
``(n_users, dim)``, items ``(n_items, dim)``, float32.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from nnstore import seed_from

from ._data import Interactions

__all__ = ["bipartite_matrix", "train_lightgcn", "train_node2vec"]

logger = logging.getLogger(__name__)


def bipartite_matrix(data: Interactions) -> sp.csr_matrix:
    """The symmetric ((n_users + n_items), (n_users + n_items)) weighted adjacency."""
    R = data.matrix()
    return sp.bmat([[None, R], [R.T, None]], format="csr", dtype=np.float32)


def _norm_adj(data: Interactions):
    import torch

    A = bipartite_matrix(data).tocoo()
    deg = np.asarray(A.sum(axis=1)).ravel()
    dinv = np.zeros_like(deg)
    dinv[deg > 0] = deg[deg > 0] ** -0.5
    vals = (dinv[A.row] * A.data * dinv[A.col]).astype(np.float32)
    A = sp.csr_matrix((vals, (A.row, A.col)), shape=A.shape)
    A.sort_indices()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                       torch.from_numpy(A.indices.astype(np.int64)),
                                       torch.from_numpy(A.data), size=A.shape, check_invariants=False)


def _sym_spmm():
    """``A @ X`` for a symmetric sparse ``A``, with the backward ``A @ G`` (no transpose needed)."""
    import torch

    class SymSpMM(torch.autograd.Function):
        @staticmethod
        def forward(ctx, adj, x):
            ctx.adj = adj
            return torch.sparse.mm(adj, x)

        @staticmethod
        def backward(ctx, grad):
            return None, torch.sparse.mm(ctx.adj, grad)

    return SymSpMM.apply


def _sample_negatives(rng: np.random.Generator, users: np.ndarray, n_items: int,
                      pos_keys: np.ndarray, max_tries: int = 20) -> np.ndarray:
    """Uniform items not interacted with by each user (rejection; ``pos_keys`` sorted)."""
    neg = rng.integers(0, n_items, size=len(users))
    for _ in range(max_tries):
        keys = users * n_items + neg
        j = np.minimum(np.searchsorted(pos_keys, keys), len(pos_keys) - 1)
        bad = np.flatnonzero(pos_keys[j] == keys)
        if not len(bad):
            break
        neg[bad] = rng.integers(0, n_items, size=len(bad))
    return neg


def train_lightgcn(data: Interactions, *, dim: int, n_layers: int, epochs: int, batch_size: int,
                   learning_rate: float, l2: float, init_std: float, rng: np.random.Generator,
                   verbose: bool = False) -> tuple[np.ndarray, np.ndarray, dict, list]:
    """Train LightGCN/BPR; returns (user vectors, item vectors, state_dict, loss per epoch)."""
    import torch
    from tqdm.auto import tqdm

    nu, ni = data.n_users, data.n_items
    adj = _norm_adj(data)
    gen = torch.Generator().manual_seed(seed_from(rng))
    emb = torch.nn.Parameter(torch.randn(nu + ni, dim, generator=gen) * init_std)
    opt = torch.optim.Adam([emb], lr=learning_rate)
    ur, ir = data.user_rows, data.item_rows
    pos_keys = np.sort(ur * ni + ir)
    n = len(ur)
    p = data.weights / data.weights.sum() if data.weighted else None

    spmm = _sym_spmm()

    def propagate() -> torch.Tensor:
        h = emb
        acc = emb
        for _ in range(n_layers):
            h = spmm(adj, h)
            acc = acc + h
        return acc / (n_layers + 1)

    history = []
    bar = tqdm(range(epochs), desc="LightGCN" if n_layers else "BPR-MF", disable=not verbose)
    for _ in bar:
        order = rng.permutation(n) if p is None else rng.choice(n, size=n, p=p)
        total = 0.0
        for s in range(0, n, batch_size):
            b = order[s:s + batch_size]
            u, i = ur[b], ir[b]
            j = _sample_negatives(rng, u, ni, pos_keys)
            tu = torch.from_numpy(u)
            ti = torch.from_numpy(i + nu)
            tj = torch.from_numpy(j + nu)
            out = propagate() if n_layers else emb
            eu, ei, ej = out[tu], out[ti], out[tj]
            x = (eu * (ei - ej)).sum(-1)
            loss = torch.nn.functional.softplus(-x).mean()
            if l2 > 0:
                reg = emb[tu].pow(2).sum() + emb[ti].pow(2).sum() + emb[tj].pow(2).sum()
                loss = loss + l2 * 0.5 * reg / len(b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        history.append({"loss": total / n})
        bar.set_postfix(loss=f"{total / n:.4f}")
    with torch.no_grad():
        final = (propagate() if n_layers else emb).numpy().astype(np.float32)
    state = {"embedding": emb.detach().clone()}
    return final[:nu].copy(), final[nu:].copy(), state, history


def train_node2vec(data: Interactions, *, dim: int, params: dict[str, Any], rng: np.random.Generator,
                   verbose: bool = False) -> np.ndarray:
    """Node2Vec on the bipartite graph (users then items as nodes 0..n-1); returns the item
    vectors, of shape (n_items, dim) (users' own node vectors are not comparable with them
    and are not used: the recommender solves users from their items)."""
    from .._graph import Graph
    from .._node2vec import Node2Vec

    A = bipartite_matrix(data)
    g = Graph.from_scipy(A, nodes=range(A.shape[0]), directed=False)
    kw = {"walk_length": 40, "n_walks": 10, "window": 5, "epochs": 1, "n_jobs": None}
    kw.update(params)
    model = Node2Vec(dim=dim, random_state=seed_from(rng), verbose=verbose, **kw)
    emb = model.fit_transform(g)
    vec = emb.loc[list(range(A.shape[0]))].to_numpy(dtype=np.float32)
    return vec[data.n_users:].copy()
