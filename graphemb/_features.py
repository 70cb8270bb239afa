"""Node features for the GNN encoders: alignment to a graph, and structural fallbacks.

Two sources of node features, both ending as a float32 matrix with one row per
graph row (the :class:`~graphemb.Graph` node order):

**A DataFrame indexed by node id** (raw attributes, tabemb record embeddings,
Node2Vec's embedding frame, anything numeric). :func:`align_features` checks it
and aligns it to the graph's nodes:

- every column must be numeric and finite (NaN is an error, not a silent zero:
  impute before, so that the choice is yours);
- the index must be unique and every id must be a node of the graph (a row for
  an unknown node is an error: it usually means the ids do not match);
- **nodes without a feature row get zeros plus an indicator**: the matrix gets
  one extra last column, ``MISSING_COLUMN``, that is 1 for those nodes and 0
  for the others. The column is always there (all zeros when every node has a
  row), so the input width does not depend on which nodes happen to lack a row,
  and the encoder can learn what "no attributes" means, while message passing
  fills such a node in from its neighbours;
- at transform time the columns must be the training columns (the same names;
  they are reordered by name if needed); another width is an error.

**No features at all**: :func:`structural_features` computes per-node
statistics from the graph alone, each of which is defined for a node of any
graph (so they work inductively on new graphs):

``log_degree``
    ``log(1 + degree)`` (weighted degree for weighted graphs);
``mean_neighbor_log_degree``, ``max_neighbor_log_degree``
    of the neighbours' ``log_degree`` (0 for an isolated node);
``clustering``
    local clustering coefficient (triangles / possible triangles), on the
    undirected, unweighted reading of the graph;
``return_prob_2``
    probability that a 2-step random walk returns to its start, ``(P^2)_{ii}``;
``log_pagerank``
    ``log(n * pagerank)`` (damping 0.85, 30 power iterations): 0 is "average".

They are standardised with the mean and standard deviation measured on the
training graph (stored with the model and reused at transform time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._graph import Graph

__all__ = ["MISSING_COLUMN", "STRUCTURAL_COLUMNS", "align_features", "structural_features"]

MISSING_COLUMN = "__missing_features__"
STRUCTURAL_COLUMNS = [
    "log_degree",
    "mean_neighbor_log_degree",
    "max_neighbor_log_degree",
    "clustering",
    "return_prob_2",
    "log_pagerank",
]


def align_features(graph: Graph, features: pd.DataFrame, *, columns: list[str] | None = None,
                   name: str = "features") -> tuple[np.ndarray, list[str], np.ndarray]:
    """Align a node-feature DataFrame to the graph's rows.

    Parameters
    ----------
    graph : Graph
    features : DataFrame of shape (n_rows, n_features)
        Index = node ids (a subset of the graph's nodes), numeric finite columns.
    columns : list of str, optional
        The expected columns (the training schema). ``None`` at fit time: the
        frame's own columns, in its order.
    name : str
        Argument name used in error messages.

    Returns
    -------
    X : ndarray of shape (n_nodes, n_features + 1), float32
        Feature rows in graph order; the last column is ``MISSING_COLUMN``.
    columns : list of str
        The feature columns (without the indicator).
    missing : ndarray of shape (n_nodes,), bool
        Nodes that had no feature row.

    Raises
    ------
    TypeError
        ``features`` is not a DataFrame.
    ValueError
        Non-numeric or non-finite values, a repeated node id, a row for a node
        that is not in the graph, or columns that differ from ``columns``.
    """
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame indexed by node id, "
                        f"got {type(features).__name__}")
    got = [str(c) for c in features.columns]
    if columns is None:
        columns = got
        if MISSING_COLUMN in columns:
            raise ValueError(f"{name} has a column named {MISSING_COLUMN!r}, which is reserved")
    else:
        if len(got) != len(columns):
            raise ValueError(f"{name} has {len(got)} columns but the model was trained on "
                             f"{len(columns)} feature columns (first: {columns[:5]})")
        if got != columns:
            unknown = sorted(set(got) - set(columns))
            if unknown:
                raise ValueError(f"{name} columns differ from the training columns: "
                                 f"unexpected {unknown[:5]}, missing {sorted(set(columns) - set(got))[:5]}")
    frame = features.copy(deep=False)
    frame.columns = got
    frame = frame[columns]
    non_numeric = [c for c in columns if not (pd.api.types.is_numeric_dtype(frame[c])
                                              or pd.api.types.is_bool_dtype(frame[c]))]
    if non_numeric:
        raise ValueError(f"{name} must have numeric columns only; non-numeric: {non_numeric[:5]}")
    if not frame.index.is_unique:
        dup = frame.index[frame.index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} index must be unique node ids; repeated: {dup}")
    values = frame.to_numpy(dtype=np.float32)
    if values.size and not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
        raise ValueError(f"{name} contains NaN or infinite values in {len(bad)} row(s), first node ids: "
                         f"{frame.index[bad[:5]].tolist()}; impute them before fitting")
    rows = graph.nodes.get_indexer(frame.index)
    if (rows < 0).any():
        unknown = frame.index[rows < 0]
        raise ValueError(f"{name} has rows for {len(unknown)} node id(s) that are not in the graph, "
                         f"e.g. {unknown[:5].tolist()}")
    X = np.zeros((graph.n_nodes, len(columns) + 1), dtype=np.float32)
    X[rows, :-1] = values
    missing = np.ones(graph.n_nodes, dtype=bool)
    missing[rows] = False
    X[missing, -1] = 1.0
    return X, list(columns), missing


def structural_features(graph: Graph) -> np.ndarray:
    """Structural node statistics, one row per graph row (see the module docstring).

    Returns
    -------
    ndarray of shape (n_nodes, len(STRUCTURAL_COLUMNS)), float32 (not standardised)
    """
    n = graph.n_nodes
    A = graph.to_scipy().astype(np.float64)
    if graph.directed:
        A = A.maximum(A.T).tocsr()
    deg = np.asarray(A.sum(axis=1)).ravel()
    logdeg = np.log1p(deg)
    B = A.copy()
    B.data[:] = 1.0
    B.setdiag(0)
    B.eliminate_zeros()
    B = B.tocsr()
    nbr = np.diff(B.indptr)
    sums = B @ logdeg
    mean_nb = np.divide(sums, nbr, out=np.zeros(n), where=nbr > 0)
    max_nb = np.zeros(n)
    if B.nnz:
        rows = np.repeat(np.arange(n), nbr)
        np.maximum.at(max_nb, rows, logdeg[B.indices])
    tri = np.asarray((B @ B).multiply(B).sum(axis=1)).ravel() / 2.0
    possible = nbr * (nbr - 1) / 2.0
    clustering = np.divide(tri, possible, out=np.zeros(n), where=possible > 0)
    inv = np.divide(1.0, deg, out=np.zeros(n), where=deg > 0)
    P = sp.diags(inv) @ A
    ret2 = np.asarray(P.multiply(P.T).sum(axis=1)).ravel()
    pr = np.full(n, 1.0 / n)
    PT = P.T.tocsr()
    dangling = deg == 0
    for _ in range(30):
        pr = 0.85 * (PT @ pr + pr[dangling].sum() / n) + 0.15 / n
    log_pr = np.log(np.maximum(pr * n, 1e-12))
    out = np.column_stack([logdeg, mean_nb, max_nb, clustering, ret2, log_pr])
    return out.astype(np.float32)
