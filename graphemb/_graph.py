"""Graph input: every supported graph type becomes one :class:`Graph`.

A :class:`Graph` is a CSR adjacency (``indptr``, ``indices``, optional
``weights``) plus ``nodes``, a ``pandas.Index`` of node ids in row order. Node
ids (any hashable: str, int, tuple) are mapped to rows once, here, at the edge
of the system; everything downstream works on integer rows.

Supported inputs (:func:`as_graph` dispatches):

- ``networkx.Graph`` / ``DiGraph`` / ``MultiGraph`` / ``MultiDiGraph``: nodes in
  ``G.nodes`` order (isolated nodes included), weights from an edge attribute;
- an edge-list ``pandas.DataFrame`` with ``src``, ``dst`` and optionally a
  weight column (column names configurable), plus optional ``nodes`` to add
  isolated nodes or fix the order;
- a square ``scipy.sparse`` matrix (entry (i, j) = edge i -> j with that weight);
- a ``torch_geometric.data.Data`` (``edge_index``, ``num_nodes``, optional
  1-D ``edge_weight``).

Deliberate choices, the same for every input:

- **Undirected** graphs store both directions of each edge. A **self-loop**
  is kept, stored once (a walker at i may stay at i).
- **Parallel edges** (multigraphs, repeated rows of an edge list) are merged
  into one edge whose weight is the sum of their weights; an unweighted
  multigraph therefore becomes weighted by edge multiplicity.
- For an undirected reading of a non-symmetric sparse matrix (or PyG edge
  index), the edge weight is ``max(A[i, j], A[j, i])``.
- **Weights** must be finite and > 0; anything else is a ``ValueError`` that
  quotes the first offending edge. A graph whose weights are all equal is
  stored as unweighted (``weights is None``) so walkers take the fast path.
- Neighbour lists are sorted by row, so membership tests are binary searches.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Graph", "as_graph"]


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph as CSR arrays plus a node-id index.

    Attributes
    ----------
    indptr : ndarray of shape (n_nodes + 1,), int64
    indices : ndarray of shape (n_arcs,), int32
        Neighbour rows, sorted within each row.
    weights : ndarray of shape (n_arcs,), float32, or None
        ``None`` means every edge has weight 1.
    nodes : pandas.Index
        Node id of each row.
    directed : bool
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None
    nodes: pd.Index
    directed: bool

    # -- sizes -----------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_arcs(self) -> int:
        """Stored (directed) arcs: an undirected edge counts twice, a self-loop once."""
        return len(self.indices)

    @property
    def n_edges(self) -> int:
        """Edges as the user counts them (undirected edges once)."""
        if self.directed:
            return self.n_arcs
        loops = int(np.sum(self.indices == np.repeat(np.arange(self.n_nodes), self.degree)))
        return (self.n_arcs - loops) // 2 + loops

    @property
    def degree(self) -> np.ndarray:
        """Out-degree of each row (arcs), int64."""
        return np.diff(self.indptr)

    @property
    def is_weighted(self) -> bool:
        return self.weights is not None

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = ", weighted" if self.is_weighted else ""
        return f"Graph({self.n_nodes} nodes, {self.n_edges} edges, {kind}{w})"

    # -- conversions -------------------------------------------------------------
    def rows(self, nodes: Iterable[Hashable], *, name: str = "nodes") -> np.ndarray:
        """Rows of the given node ids; ``KeyError`` naming the unknown ones."""
        nodes = list(nodes) if not isinstance(nodes, pd.Index) else nodes
        rows = self.nodes.get_indexer(nodes)
        if (rows < 0).any():
            missing = [n for n, r in zip(nodes, rows, strict=True) if r < 0][:5]
            raise KeyError(f"{name}: {int((rows < 0).sum())} node(s) not in the graph, e.g. {missing}")
        return rows

    def to_scipy(self) -> sp.csr_matrix:
        """The adjacency as a float32 CSR matrix (weights, or ones)."""
        data = self.weights if self.weights is not None else np.ones(self.n_arcs, np.float32)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_nodes,) * 2)

    def edge_index(self) -> np.ndarray:
        """Arcs as a (2, n_arcs) int64 array (PyG's ``edge_index`` layout)."""
        src = np.repeat(np.arange(self.n_nodes, dtype=np.int64), self.degree)
        return np.vstack([src, self.indices.astype(np.int64)])

    def subgraph(self, nodes: Iterable[Hashable]) -> Graph:
        """The subgraph induced by ``nodes`` (in the given order)."""
        index = pd.Index(list(nodes)) if not isinstance(nodes, pd.Index) else nodes
        rows = self.rows(index)
        A = self.to_scipy()[rows][:, rows].tocsr()
        return _from_csr(A, index, self.directed, weighted=self.is_weighted)

    # -- constructors --------------------------------------------------------------
    @classmethod
    def from_networkx(cls, G: Any, *, weight: str | None = "weight") -> Graph:
        """From a networkx graph; ``weight`` names the edge attribute (None: unweighted).

        Edges without the attribute get weight 1.
        """
        nodes = pd.Index(list(G.nodes), tupleize_cols=False)
        if G.number_of_edges() == 0:
            return _from_edges(np.empty(0, np.int64), np.empty(0, np.int64), None, nodes,
                               G.is_directed())
        if weight is None:
            edges = list(G.edges())
            w = None
        else:
            edges = list(G.edges(data=weight, default=1.0))
            w = np.array([e[2] for e in edges], dtype=np.float64)
        u = nodes.get_indexer([e[0] for e in edges])
        v = nodes.get_indexer([e[1] for e in edges])
        if w is not None:
            _check_weights(w, lambda i: f"({edges[i][0]!r}, {edges[i][1]!r})", weight)
        return _from_edges(u, v, w, nodes, G.is_directed())

    @classmethod
    def from_edgelist(cls, df: pd.DataFrame, *, src: str = "src", dst: str = "dst",
                      weight: str | None = None, directed: bool = False,
                      nodes: Iterable[Hashable] | None = None) -> Graph:
        """From an edge-list DataFrame (one row per edge).

        ``weight`` names an optional weight column; ``nodes`` lists node ids to
        include (isolated ones too) in that order, others following in order of
        first appearance.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"edge list must be a pandas DataFrame, got {type(df).__name__}")
        for role, col in (("src", src), ("dst", dst), ("weight", weight)):
            if col is not None and col not in df.columns:
                raise KeyError(f"edge list has no {role} column {col!r}; columns: {list(df.columns)}")
        s, d = df[src].to_numpy(), df[dst].to_numpy()
        for col, vals in ((src, s), (dst, d)):
            if pd.isna(vals).any():
                i = int(np.flatnonzero(pd.isna(vals))[0])
                raise ValueError(f"edge list column {col!r} has a missing node id in row {df.index[i]!r}")
        seen = pd.unique(np.concatenate([s, d])) if len(df) else np.empty(0, object)
        if nodes is not None:
            given = pd.Index(list(nodes), tupleize_cols=False)
            if not given.is_unique:
                raise ValueError("nodes must be unique")
            extra = pd.Index(seen).difference(given, sort=False) if len(seen) else []
            index = given.append(pd.Index(extra)) if len(extra) else given
        else:
            index = pd.Index(seen, tupleize_cols=False)
        u, v = index.get_indexer(s), index.get_indexer(d)
        w = None
        if weight is not None:
            w = pd.to_numeric(df[weight], errors="coerce").to_numpy(dtype=np.float64)
            _check_weights(w, lambda i: f"row {df.index[i]!r} ({s[i]!r} -> {d[i]!r})", weight)
        return _from_edges(u, v, w, index, directed)

    @classmethod
    def from_scipy(cls, A: Any, *, nodes: Iterable[Hashable] | None = None,
                   directed: bool | None = None) -> Graph:
        """From a square sparse (or dense) adjacency; ``directed=None`` infers it from symmetry."""
        A = sp.csr_matrix(A)
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"adjacency matrix must be square, got shape {A.shape}")
        index = pd.RangeIndex(A.shape[0]) if nodes is None else pd.Index(list(nodes))
        if len(index) != A.shape[0]:
            raise ValueError(f"nodes has {len(index)} ids but the matrix has {A.shape[0]} rows")
        A.sum_duplicates()
        A.eliminate_zeros()
        coo = A.tocoo()
        _check_weights(coo.data.astype(np.float64), lambda i: f"({coo.row[i]}, {coo.col[i]})",
                       "matrix entries")
        symmetric = (abs(A - A.T) > 1e-12 * max(1.0, abs(A).max() if A.nnz else 1.0)).nnz == 0
        if directed is None:
            directed = not symmetric
        if not directed and not symmetric:
            A = A.maximum(A.T).tocsr()
        weighted = A.nnz > 0 and not np.all(A.data == A.data[0])
        return _from_csr(A, index, directed, weighted=weighted)

    @classmethod
    def from_pyg(cls, data: Any, *, directed: bool | None = None,
                 nodes: Iterable[Hashable] | None = None) -> Graph:
        """From a ``torch_geometric.data.Data`` (uses ``edge_weight`` when 1-D)."""
        ei = data.edge_index.detach().cpu().numpy()
        n = int(data.num_nodes)
        w = getattr(data, "edge_weight", None)
        data_w = (w.detach().cpu().numpy().astype(np.float64) if w is not None
                  else np.ones(ei.shape[1]))
        A = sp.coo_matrix((data_w, (ei[0], ei[1])), shape=(n, n)).tocsr()
        return cls.from_scipy(A, nodes=nodes, directed=directed)


def _check_weights(w: np.ndarray, where, name: str | None) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"edge weights ({name!r}) must be finite and > 0; {int(bad.sum())} are not, "
            f"first at edge {where(i)} with weight {w[i]!r}"
        )


def _from_edges(u: np.ndarray, v: np.ndarray, w: np.ndarray | None, nodes: pd.Index,
                directed: bool) -> Graph:
    n = len(nodes)
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    w = np.ones(len(u)) if w is None else np.asarray(w, dtype=np.float64)
    if not directed:
        off = u != v
        u, v, w = (np.concatenate([u, v[off]]), np.concatenate([v, u[off]]),
                   np.concatenate([w, w[off]]))
    A = sp.coo_matrix((w, (u, v)), shape=(n, n)).tocsr()  # sums parallel edges
    A.sum_duplicates()
    weighted = A.nnz > 0 and not np.all(A.data == A.data[0])
    return _from_csr(A, nodes, directed, weighted=weighted)


def _from_csr(A: sp.csr_matrix, nodes: pd.Index, directed: bool, *, weighted: bool) -> Graph:
    A = A.tocsr()
    A.sort_indices()
    return Graph(
        indptr=A.indptr.astype(np.int64),
        indices=A.indices.astype(np.int32),
        weights=A.data.astype(np.float32) if weighted else None,
        nodes=nodes,
        directed=bool(directed),
    )


def as_graph(graph: Any, *, directed: bool | None = None, weight: str | None = "weight",
             src: str = "src", dst: str = "dst",
             nodes: Iterable[Hashable] | None = None) -> Graph:
    """Turn any supported graph input into a :class:`Graph`.

    Parameters
    ----------
    graph : Graph, networkx graph, DataFrame, scipy sparse matrix or PyG Data
    directed : bool, optional
        For edge lists (default False) and matrices/PyG (default: inferred
        from symmetry). Ignored for networkx, which knows.
    weight : str or None
        networkx edge attribute, or edge-list column (used only if present
        for edge lists whose ``weight`` argument is the default).
    src, dst : str
        Edge-list column names.
    nodes : iterable, optional
        Node ids for edge lists (to include isolated nodes), matrices and PyG.

    Raises
    ------
    TypeError
        For an unsupported input type; ``ValueError`` for an empty graph.
    """
    if isinstance(graph, Graph):
        g = graph
    elif hasattr(graph, "is_directed") and hasattr(graph, "nodes") and hasattr(graph, "edges"):
        g = Graph.from_networkx(graph, weight=weight)
    elif isinstance(graph, pd.DataFrame):
        wcol = weight if (weight is not None and weight in graph.columns) else None
        g = Graph.from_edgelist(graph, src=src, dst=dst, weight=wcol,
                                directed=bool(directed), nodes=nodes)
    elif sp.issparse(graph) or isinstance(graph, np.ndarray):
        g = Graph.from_scipy(graph, nodes=nodes, directed=directed)
    elif hasattr(graph, "edge_index") and hasattr(graph, "num_nodes"):
        g = Graph.from_pyg(graph, directed=directed, nodes=nodes)
    else:
        raise TypeError(
            "graph must be a networkx graph, an edge-list DataFrame, a scipy sparse matrix "
            f"or a torch_geometric Data, got {type(graph).__name__}"
        )
    if g.n_nodes == 0:
        raise ValueError("graph is empty: it has no nodes")
    return g
