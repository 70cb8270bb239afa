"""Graph input: every supported container becomes one :class:`Graph`.

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
- a square ``scipy.sparse`` matrix or dense array (entry ``(i, j)`` is the arc
  ``i -> j`` with that weight);
- a ``torch_geometric.data.Data`` (``edge_index``, ``num_nodes``, optional
  1-D ``edge_weight``).

One graph, whatever the container
---------------------------------
The same edges mean the same graph in every container:

- **Direction is never inferred.** A graph is undirected unless
  ``directed=True`` is given or the input is a networkx ``DiGraph`` /
  ``MultiDiGraph``. An undirected input (a ``networkx.Graph``) read with
  ``directed=True`` keeps each edge in both directions; a ``DiGraph`` read with
  ``directed=False`` becomes undirected by the rule below.
- **The two directions of an undirected edge are one edge.** Reading an
  undirected graph, the arcs ``u -> v`` (weight ``a``) and ``v -> u`` (weight
  ``b``) give the edge ``{u, v}`` with weight ``max(a, b)``: a symmetric
  matrix, an edge list that lists every edge both ways and one that lists it
  once all give the same graph, and the weight is never doubled.
- **Repeated arcs are summed.** The same arc given more than once (a repeated
  row ``u, v`` of an edge list, a repeated column of a PyG ``edge_index``,
  duplicate entries of a COO matrix, parallel edges of a multigraph) is one
  arc whose weight is the sum of their weights, as scipy sums duplicate
  entries. An unweighted multigraph therefore becomes weighted by edge
  multiplicity. (In an undirected networkx ``MultiGraph`` an edge has no
  orientation, so all its parallel edges are summed.)
- **Looks directed?** When ``directed`` is not given and an input other than
  networkx lists some pairs in both directions and others in one (or the two
  directions with different weights), or a matrix / PyG edge index is
  asymmetric without being triangular, the graph is still read as
  undirected, and a ``UserWarning`` names ``directed=True``. Listing every
  edge once (any orientation) is the usual way to write an undirected edge
  list and gives no warning; so does a triangular matrix.
- A **self-loop** is kept, stored once (a walker at ``i`` may stay at ``i``).
- **Weights** must be finite and > 0; anything else is a ``ValueError`` that
  quotes the first offending edge. A graph whose weights are all equal is
  stored as unweighted (``weights is None``) so walkers take the fast path.
- Neighbour lists are sorted by row, so membership tests are binary searches.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["Graph", "as_graph"]

_INT32_MAX = np.iinfo(np.int32).max


def _to_index(nodes: Any) -> pd.Index:
    return nodes if isinstance(nodes, pd.Index) else pd.Index(list(nodes), tupleize_cols=False)


def _int_array(value: Any, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"Graph {name} must be 1-D, got an array of shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"Graph {name} must hold integers, got dtype {arr.dtype}")
    return arr if arr.size else np.empty(0, np.int64)


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph as CSR arrays plus a node-id index.

    Most users never build one by hand: :func:`as_graph` makes one from
    networkx, scipy, an edge list or PyG. The constructor checks every array
    (compiled walkers read them without bounds checks), so a malformed graph is
    a ``ValueError``/``TypeError`` naming the array, never a crash.

    Parameters
    ----------
    indptr : array-like of int, shape (n_nodes + 1,)
        Row pointers: starts at 0, never decreases, ends at ``len(indices)``.
        Stored as int64.
    indices : array-like of int, shape (n_arcs,)
        Neighbour rows, each in ``[0, n_nodes)``; stored as int32, sorted
        within each row (the constructor sorts rows that are not).
    weights : array-like of float, shape (n_arcs,), or None
        Arc weights, finite and > 0; ``None`` means every arc has weight 1.
        Stored as float32.
    nodes : pandas.Index or iterable
        Node id of each row, unique.
    directed : bool
        For an undirected graph the arcs must be symmetric (every edge stored
        in both directions with the same weight, a self-loop once).

    Attributes
    ----------
    n_nodes, n_arcs, n_edges : int
    degree : ndarray of shape (n_nodes,), int64
    is_weighted : bool

    Raises
    ------
    ValueError
        For arrays of the wrong shape or length, an ``indptr`` that does not
        start at 0, decreases or does not end at ``len(indices)``, indices out
        of range, weights that are not finite and > 0, repeated node ids, or an
        undirected graph whose arcs are not symmetric.
    TypeError
        For ``indptr``/``indices`` that do not hold integers, weights that are
        not real numbers, or a ``directed`` that is not a bool.

    Examples
    --------
    >>> from graphemb import Graph
    >>> g = Graph(indptr=[0, 1, 2], indices=[1, 0], weights=None, nodes=["a", "b"], directed=False)
    >>> g
    Graph(2 nodes, 1 edges, undirected)
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray | None
    nodes: pd.Index
    directed: bool

    def __post_init__(self) -> None:
        self._check(trusted=False)

    def _check(self, *, trusted: bool) -> None:
        if not isinstance(self.directed, (bool, np.bool_)):
            raise TypeError(f"Graph directed must be a bool, got {self.directed!r}")
        nodes = _to_index(self.nodes)
        if not nodes.is_unique:
            dup = nodes[nodes.duplicated()][:5].tolist()
            raise ValueError(f"Graph nodes must be unique; repeated ids, e.g. {dup}")
        n = len(nodes)
        if n > _INT32_MAX:
            raise ValueError(f"Graph has {n} nodes; at most {_INT32_MAX} are supported")
        indptr = _int_array(self.indptr, "indptr").astype(np.int64, copy=False)
        indices = _int_array(self.indices, "indices")
        if len(indptr) != n + 1:
            raise ValueError(f"Graph indptr must have n_nodes + 1 = {n + 1} entries (one more than "
                             f"nodes), got {len(indptr)}")
        if indptr[0] != 0:
            raise ValueError(f"Graph indptr must start at 0, got {int(indptr[0])}")
        steps = np.diff(indptr)
        if (steps < 0).any():
            i = int(np.flatnonzero(steps < 0)[0])
            raise ValueError(f"Graph indptr must never decrease; indptr[{i}] = {int(indptr[i])} > "
                             f"indptr[{i + 1}] = {int(indptr[i + 1])}")
        if indptr[-1] != len(indices):
            raise ValueError(f"Graph indptr must end at len(indices) = {len(indices)}, "
                             f"got {int(indptr[-1])}")
        if len(indices) and (indices.min() < 0 or indices.max() >= n):
            bad = (indices < 0) | (indices >= n)
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"Graph indices must be node rows in [0, {n}); {int(bad.sum())} are not, "
                             f"first indices[{i}] = {int(indices[i])}")
        # a Graph built by hand owns copies: later edits to the caller's arrays cannot undo the checks
        indices32 = indices.astype(np.int32, copy=not trusted)
        if not trusted:
            indptr = indptr.copy()
        weights = None
        if self.weights is not None:
            w = np.asarray(self.weights)
            if w.ndim != 1 or len(w) != len(indices):
                raise ValueError(f"Graph weights must have one entry per arc ({len(indices)}), "
                                 f"got shape {w.shape}")
            if w.size and w.dtype.kind not in "iuf":
                raise TypeError(f"Graph weights must be real numbers, got dtype {w.dtype}")
            with np.errstate(over="ignore"):
                w32 = w.astype(np.float32, copy=not trusted)
            badw = ~np.isfinite(w32) | (w32 <= 0)
            if badw.any():
                i = int(np.flatnonzero(badw)[0])
                raise ValueError(f"Graph weights must be finite (in float32) and > 0; "
                                 f"{int(badw.sum())} are not, first weights[{i}] = {w[i]!r}")
            weights = w32
        if not trusted and len(indices32) > 1:
            # rows sorted (walkers binary-search them); sort the ones that are not
            rows = np.repeat(np.arange(n, dtype=np.int64), steps)
            if ((np.diff(indices32) < 0) & (rows[1:] == rows[:-1])).any():
                order = np.lexsort((indices32, rows))
                indices32 = indices32[order]
                weights = weights[order] if weights is not None else None
        if not trusted and not self.directed and len(indices32):
            data = weights if weights is not None else np.ones(len(indices32), np.float32)
            A = sp.csr_matrix((data, indices32, indptr), shape=(n, n))
            diff = A - A.T
            if diff.count_nonzero():
                r, c = diff.nonzero()
                raise ValueError(
                    "Graph directed=False needs symmetric arcs (each edge in both directions with "
                    f"the same weight); {len(r)} arcs are not, e.g. row {int(r[0])} -> row {int(c[0])}; "
                    "pass directed=True, or build the graph with graphemb.as_graph")
        object.__setattr__(self, "indptr", indptr)
        object.__setattr__(self, "indices", indices32)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "nodes", nodes)
        object.__setattr__(self, "directed", bool(self.directed))

    @classmethod
    def _trusted(cls, indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray | None,
                 nodes: pd.Index, directed: bool) -> Graph:
        """A graph from arrays built here (rows sorted, symmetric when undirected): checked
        without the sort and symmetry tests, which cost a pass and a transpose."""
        g = object.__new__(cls)
        for k, v in (("indptr", indptr), ("indices", indices), ("weights", weights), ("nodes", nodes),
                     ("directed", directed)):
            object.__setattr__(g, k, v)
        g._check(trusted=True)
        return g

    # -- sizes -----------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        """Number of nodes (rows)."""
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
        """Whether the arcs carry weights (``False``: all weights are 1)."""
        return self.weights is not None

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = ", weighted" if self.is_weighted else ""
        return f"Graph({self.n_nodes} nodes, {self.n_edges} edges, {kind}{w})"

    # -- conversions -------------------------------------------------------------
    def rows(self, nodes: Iterable[Hashable], *, name: str = "nodes") -> np.ndarray:
        """Rows of the given node ids.

        Raises
        ------
        KeyError
            Naming (up to five of) the ids that are not in the graph.
        """
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
        index = _to_index(nodes)
        rows = self.rows(index)
        A = self.to_scipy()[rows][:, rows].tocsr()
        return _from_csr(A, index, self.directed, weighted=self.is_weighted)

    # -- constructors --------------------------------------------------------------
    @classmethod
    def from_networkx(cls, G: Any, *, weight: str | None = "weight",
                      directed: bool | None = None) -> Graph:
        """From a networkx graph.

        Parameters
        ----------
        G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        weight : str or None, default "weight"
            Edge attribute holding weights (edges without it weigh 1);
            ``None``: unweighted.
        directed : bool, optional
            Default: ``G.is_directed()``. ``False`` reads a DiGraph as
            undirected (see the module notes for the weight rule).
        """
        nodes = pd.Index(list(G.nodes), tupleize_cols=False)
        native = bool(G.is_directed())
        directed = native if directed is None else bool(directed)
        if weight is None:
            edges = list(G.edges())
            w = None
        else:
            edges = list(G.edges(data=weight, default=1.0))
            w = np.array([e[2] for e in edges], dtype=np.float64)
        u = nodes.get_indexer([e[0] for e in edges]).astype(np.int64)
        v = nodes.get_indexer([e[1] for e in edges]).astype(np.int64)
        if w is not None:
            _check_weights(w, lambda i: f"({edges[i][0]!r}, {edges[i][1]!r})", weight)
        if not native:  # an undirected edge has no orientation: one canonical one
            u, v = np.minimum(u, v), np.maximum(u, v)
        W = _summed(u, v, w, len(nodes))
        if not native:
            W = (W + sp.triu(W, k=1).T).tocsr()
            if directed:
                return _from_csr(W, nodes, True, weighted=_weighted(W))
        return _finish(W, nodes, directed, check=None)

    @classmethod
    def from_edgelist(cls, df: pd.DataFrame, *, src: str = "src", dst: str = "dst",
                      weight: str | None = None, directed: bool | None = None,
                      nodes: Iterable[Hashable] | None = None) -> Graph:
        """From an edge-list DataFrame (one row per edge or arc).

        Parameters
        ----------
        df : DataFrame
        src, dst : str, default "src", "dst"
            Columns holding the two node ids of each row.
        weight : str, optional
            Column holding edge weights (finite, > 0); default unweighted.
        directed : bool, optional
            Default: undirected, warning when the rows look directed (see the
            module notes).
        nodes : iterable, optional
            Node ids to include (isolated ones too) in that order; ids first
            seen in the edges follow in order of first appearance.

        Raises
        ------
        KeyError
            Naming a column that is missing.
        ValueError
            For a missing node id or a bad weight, quoting the row.
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
            given = _to_index(nodes)
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
        W = _summed(u, v, w, len(index))
        return _finish(W, index, directed, check="edge list")

    @classmethod
    def from_scipy(cls, A: Any, *, nodes: Iterable[Hashable] | None = None,
                   directed: bool | None = None) -> Graph:
        """From a square sparse (or dense) adjacency; entry ``(i, j)`` is the arc ``i -> j``.

        Parameters
        ----------
        A : scipy sparse matrix or array-like of shape (n_nodes, n_nodes)
        nodes : iterable, optional
            Node id of each row (default ``0 .. n_nodes - 1``).
        directed : bool, optional
            Default: undirected, warning when the matrix is asymmetric and not
            triangular (see the module notes).
        """
        A = sp.csr_matrix(A)
        if A.shape[0] != A.shape[1]:
            raise ValueError(f"adjacency matrix must be square, got shape {A.shape}")
        if A.dtype.kind not in "iufb":
            raise TypeError(f"adjacency matrix must hold real numbers, got dtype {A.dtype}")
        index = pd.RangeIndex(A.shape[0]) if nodes is None else _to_index(nodes)
        if len(index) != A.shape[0]:
            raise ValueError(f"nodes has {len(index)} ids but the matrix has {A.shape[0]} rows")
        A = A.astype(np.float64)
        A.sum_duplicates()
        A.eliminate_zeros()
        coo = A.tocoo()
        _check_weights(coo.data, lambda i: f"({coo.row[i]}, {coo.col[i]})", "matrix entries")
        return _finish(A, index, directed, check="matrix")

    @classmethod
    def from_pyg(cls, data: Any, *, directed: bool | None = None,
                 nodes: Iterable[Hashable] | None = None) -> Graph:
        """From a ``torch_geometric.data.Data`` (uses ``edge_weight`` when 1-D).

        Column ``k`` of ``edge_index`` is the arc ``edge_index[0, k] ->
        edge_index[1, k]``; PyG stores an undirected graph with both
        directions, which this reads as one edge each.
        """
        ei = data.edge_index.detach().cpu().numpy()
        n = int(data.num_nodes)
        if ei.ndim != 2 or ei.shape[0] != 2:
            raise ValueError(f"PyG edge_index must have shape (2, n_edges), got {ei.shape}")
        if ei.size and (ei.min() < 0 or ei.max() >= n):
            raise ValueError(f"PyG edge_index must hold node rows in [0, num_nodes={n}), "
                             f"got values in [{int(ei.min())}, {int(ei.max())}]")
        w = getattr(data, "edge_weight", None)
        data_w = (w.detach().cpu().numpy().astype(np.float64) if w is not None
                  else np.ones(ei.shape[1]))
        if data_w.shape != (ei.shape[1],):
            raise ValueError(f"PyG edge_weight must be 1-D with one entry per edge ({ei.shape[1]}), "
                             f"got shape {data_w.shape}")
        _check_weights(data_w, lambda i: f"column {i} ({ei[0, i]} -> {ei[1, i]})", "edge_weight")
        A = sp.coo_matrix((data_w, (ei[0], ei[1])), shape=(n, n)).tocsr()
        index = pd.RangeIndex(n) if nodes is None else _to_index(nodes)
        if len(index) != n:
            raise ValueError(f"nodes has {len(index)} ids but the PyG graph has num_nodes={n}")
        A.sum_duplicates()
        return _finish(A, index, directed, check="matrix")


def _check_weights(w: np.ndarray, where, name: str | None) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"edge weights ({name!r}) must be finite and > 0; {int(bad.sum())} are not, "
            f"first at edge {where(i)} with weight {w[i]!r}"
        )


def _summed(u: np.ndarray, v: np.ndarray, w: np.ndarray | None, n: int) -> sp.csr_matrix:
    """Oriented arcs as a CSR matrix, repeated arcs summed."""
    w = np.ones(len(u)) if w is None else np.asarray(w, dtype=np.float64)
    A = sp.coo_matrix((w, (np.asarray(u, np.int64), np.asarray(v, np.int64))), shape=(n, n)).tocsr()
    A.sum_duplicates()
    return A


def _weighted(A: sp.csr_matrix) -> bool:
    return A.nnz > 0 and not np.all(A.data == A.data[0])


def _looks_directed(A: sp.csr_matrix, kind: str) -> bool:
    """Whether an input read as undirected looks like a directed graph (see the module notes)."""
    if (A != A.T).nnz == 0:
        return False
    coo = A.tocoo()
    keep = coo.row != coo.col
    row, col = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    pattern = sp.csr_matrix((np.ones(len(row), np.int8), (row, col)), shape=A.shape)
    if pattern.multiply(pattern.T).nnz:  # some pairs both ways, and the matrix is not symmetric
        return True
    if kind == "matrix":  # one-way entries: directed unless all on one side of the diagonal
        return bool((row < col).any() and (row > col).any())
    return False


def _finish(A: sp.csr_matrix, nodes: pd.Index, directed: bool | None, *, check: str | None) -> Graph:
    """The graph of oriented (duplicate-summed) arcs ``A``, undirected unless ``directed``."""
    if directed is None and check is not None and _looks_directed(A, check):
        warnings.warn(
            f"the {check} looks directed (some pairs are linked in one direction only, or with "
            "different weights each way) but is read as an undirected graph, the default; pass "
            "directed=True to keep the directions, or directed=False to silence this warning",
            UserWarning, stacklevel=4)
    if not directed:
        A = A.maximum(A.T).tocsr()
    return _from_csr(A, nodes, bool(directed), weighted=_weighted(A))


def _from_csr(A: sp.csr_matrix, nodes: pd.Index, directed: bool, *, weighted: bool) -> Graph:
    A = A.tocsr()
    A.sort_indices()
    return Graph._trusted(
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

    Every container means the same graph: undirected unless ``directed=True``
    (or a networkx ``DiGraph``), the two directions of an undirected edge are
    one edge (weight ``max`` of the two, never doubled), repeated arcs are
    summed. The module notes of :mod:`graphemb._graph` give the full rule.

    Parameters
    ----------
    graph : Graph, networkx graph, DataFrame, scipy sparse matrix, ndarray or PyG Data
        A :class:`Graph` is returned as it is.
    directed : bool, optional
        ``None`` (default): networkx graphs keep their own direction, every
        other input is undirected, with a ``UserWarning`` when it looks
        directed. ``True``/``False``: read the input that way.
    weight : str or None, default "weight"
        networkx edge attribute, or edge-list column (used only if present
        in the edge list).
    src, dst : str, default "src", "dst"
        Edge-list column names.
    nodes : iterable, optional
        Node ids for edge lists (to include isolated nodes or fix the order),
        matrices and PyG (one per row).

    Returns
    -------
    Graph

    Raises
    ------
    TypeError
        For an unsupported input type.
    ValueError
        For a graph without nodes, bad weights, or ``directed`` given with a
        :class:`Graph` that says otherwise.

    Warns
    -----
    UserWarning
        When ``directed`` is not given and the input looks directed.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphemb import as_graph
    >>> as_graph(pd.DataFrame({"src": ["a", "b"], "dst": ["b", "a"]}))
    Graph(2 nodes, 1 edges, undirected)
    """
    if directed is not None and not isinstance(directed, (bool, np.bool_)):
        raise TypeError(f"directed must be None, True or False, got {directed!r}")
    if isinstance(graph, Graph):
        if directed is not None and bool(directed) != graph.directed:
            raise ValueError(f"directed={directed} was given with a Graph built with "
                             f"directed={graph.directed}; rebuild it from its source")
        g = graph
    elif hasattr(graph, "is_directed") and hasattr(graph, "nodes") and hasattr(graph, "edges"):
        g = Graph.from_networkx(graph, weight=weight, directed=directed)
    elif isinstance(graph, pd.DataFrame):
        wcol = weight if (weight is not None and weight in graph.columns) else None
        g = Graph.from_edgelist(graph, src=src, dst=dst, weight=wcol, directed=directed, nodes=nodes)
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
