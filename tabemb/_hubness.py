"""Hubness-corrected embeddings for linking two tables (CSLS).

In a nearest-neighbour search between two tables, some records are *hubs*: a
generic record (``adobe premiere elements 3.0``) sits close to many records of
the other table (every edition and platform variant of the product) and is the
nearest neighbour of several of them, only one of which, if any, is its match.
Cross-domain similarity local scaling (CSLS; Conneau et al. 2018, "Word
translation without parallel data") scores a pair by its cosine minus how close
each side is to its own neighbourhood in the other table::

    csls(a, b) = 2 cos(a, b) - r_B(a) - r_A(b)

with ``r_B(a)`` the mean cosine of ``a`` to its ``k`` most similar rows of B
and ``r_A(b)`` likewise. :func:`hub_corrected` folds this into the embeddings
so that any dot-product search (a :class:`nnstore.NeighborStore` with
``metric="dot"``, or a matrix product) ranks by CSLS: every row gets two more
coordinates,

    a' = [a, -r_B(a) / 2, 1]        b' = [b, 1, -r_A(b) / 2]

and ``a' . b' = cos(a, b) - (r_B(a) + r_A(b)) / 2 = csls(a, b) / 2``, in both
directions (A -> B and B -> A). The corrected rows are no longer unit length:
search them by dot product, not by cosine.

The penalties depend on both tables (they are transductive, like the context
features of record matching): the embedding of a row of A changes when B
changes. What it gains and costs on the DeepMatcher sets is in
benchmarks/results/tabemb.md (it helps where generic records attract many
queries, and can cost where one table holds many variants of a product).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nnstore import check_vectors, cross_kneighbors, embeddings_frame, kneighbors

from ._text import unit_rows

__all__ = ["hub_corrected", "hub_penalties"]

# above this many (row of A) x (row of B) similarities the neighbourhoods come from inverted
# lists (nnstore.kneighbors(method="ivf"), n_probe 64); the limit and n_probe come from the
# timing and error table of benchmarks/results/tabemb.md ("Cost of the hubness penalties").
EXACT_LIMIT = 2_500_000_000


def _unit(x: np.ndarray) -> np.ndarray:
    """A unit-length copy of the float32 rows (zero rows stay zero)."""
    out = np.array(x, dtype=np.float32, order="C", copy=True)
    unit_rows(out)
    return out


def _mean_sim(x: np.ndarray, y: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Mean dot product of each row of ``x`` with its neighbours ``y[nn[i]]`` (-1 = none)."""
    out = np.zeros(len(x), dtype=np.float32)
    for s in range(0, len(x), 4096):
        idx = nn[s:s + 4096]
        ok = idx >= 0
        sims = np.einsum("id,ikd->ik", x[s:s + 4096], y[np.where(ok, idx, 0)])
        cnt = ok.sum(axis=1)
        out[s:s + 4096] = np.where(cnt > 0, (sims * ok).sum(axis=1) / np.maximum(cnt, 1), 0.0)
    return out


def hub_penalties(emb_a: Any, emb_b: Any, k: int = 3, *, n_probe: int = 64,
                  random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(r_B(a) for every row of A, r_A(b) for every row of B)``: each row's mean cosine to
    its ``k`` most similar rows of the other table.

    Exact (one pass over blocks of ``A @ B.T``) up to ``n_a * n_b = 2.5e9``, above that from
    inverted lists over spherical k-means cells (``n_probe`` cells searched per row; see
    :func:`nnstore.kneighbors` with ``method="ivf"``). Rows are normalised to unit length first (an
    all-zero row stays zero and gets penalty 0). ``k`` is cut to the other table's size.
    """
    (a, _), (b, _) = _checked(emb_a, emb_b, k)
    return _penalties(a, b, k, n_probe, random_state)


def _checked(emb_a: Any, emb_b: Any, k: Any) -> tuple[tuple, tuple]:
    """Validated unit-length float32 copies of both tables with their keys; checks ``k``."""
    a, keys_a = check_vectors(emb_a, name="emb_a")
    b, keys_b = check_vectors(emb_b, name="emb_b", dim=a.shape[1])
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    return (_unit(a), keys_a), (_unit(b), keys_b)


def _penalties(a: np.ndarray, b: np.ndarray, k: int, n_probe: int = 64,
               random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    k_a, k_b = min(int(k), len(b)), min(int(k), len(a))
    if len(a) * len(b) <= EXACT_LIMIT:
        nn_a, _, nn_b, _ = cross_kneighbors(a, b, k=k_a, k_b=k_b, method="exact")
    else:
        nn_a = kneighbors(b, a, k=k_a, method="ivf", n_probe=n_probe, random_state=random_state)[0]
        nn_b = kneighbors(a, b, k=k_b, method="ivf", n_probe=n_probe, random_state=random_state)[0]
    return _mean_sim(a, b, nn_a), _mean_sim(b, a, nn_b)


def hub_corrected(emb_a: Any, emb_b: Any, k: int = 3, **kwargs) -> tuple[Any, Any]:
    """Embeddings of two tables whose dot products rank pairs by CSLS (hubness-corrected).

    Parameters
    ----------
    emb_a, emb_b : DataFrame or array of shape (n, d)
        Embeddings of the two tables (e.g. ``TableEncoder.transform``), same width. Rows are
        used at unit length (cosine).
    k : int, default 3
        Neighbourhood size of the penalties (how it was chosen: benchmarks/results/tabemb.md).
    **kwargs
        ``n_probe``, ``random_state`` of :func:`hub_penalties` (large tables).

    Returns
    -------
    (emb_a', emb_b') : of shape (n_a, d + 2) and (n_b, d + 2)
        ``[a, -r_B(a) / 2, 1]`` and ``[b, 1, -r_A(b) / 2]`` (``a``, ``b`` at unit length),
        DataFrames with the inputs' indexes and columns ``emb_0 .. emb_{d+1}`` when the
        inputs are DataFrames, else float32 arrays. ``a' . b'`` is half the CSLS score; search
        them by dot product.

    Raises
    ------
    ValueError
        Empty tables, different widths, NaN or infinite values, ``k < 1``.
    """
    (a, keys_a), (b, keys_b) = _checked(emb_a, emb_b, k)
    r_a, r_b = _penalties(a, b, k, **kwargs)
    ones_a, ones_b = np.ones((len(a), 1), np.float32), np.ones((len(b), 1), np.float32)
    out_a = np.hstack([a, -0.5 * r_a[:, None], ones_a])
    out_b = np.hstack([b, ones_b, -0.5 * r_b[:, None]])
    if isinstance(emb_a, pd.DataFrame) and isinstance(emb_b, pd.DataFrame):
        return embeddings_frame(out_a, keys_a), embeddings_frame(out_b, keys_b)
    return out_a, out_b
