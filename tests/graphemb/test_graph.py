import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphemb import Graph, as_graph


def _neighbors(g, node):
    r = g.rows([node])[0]
    return sorted(g.nodes[g.indices[g.indptr[r]:g.indptr[r + 1]]].tolist(), key=str)


def test_networkx_undirected_weighted_with_isolated_node():
    G = nx.Graph()
    G.add_nodes_from(["a", "b", "c", "iso"])
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c", weight=1.0)
    g = as_graph(G)
    assert list(g.nodes) == ["a", "b", "c", "iso"]
    assert (g.n_nodes, g.n_edges, g.n_arcs, g.directed) == (4, 2, 4, False)
    assert _neighbors(g, "b") == ["a", "c"] and _neighbors(g, "iso") == []
    A = g.to_scipy().toarray()
    assert A[0, 1] == A[1, 0] == 2.0 and A[1, 2] == 1.0


def test_networkx_directed_and_unweighted_is_fast_path():
    g = as_graph(nx.DiGraph([(1, 2), (2, 3)]))
    assert g.directed and g.weights is None and g.n_edges == 2
    assert _neighbors(g, 2) == [3] and _neighbors(g, 3) == []


def test_multigraph_edges_are_merged_with_summed_weight_and_self_loop_kept():
    G = nx.MultiGraph()
    G.add_edges_from([(0, 1), (0, 1), (1, 2), (2, 2)])
    g = as_graph(G)
    A = g.to_scipy().toarray()
    assert A[0, 1] == 2.0 and A[1, 2] == 1.0 and A[2, 2] == 1.0
    assert g.n_edges == 3 and g.n_arcs == 5


def test_edgelist_with_weights_node_order_and_mixed_ids():
    df = pd.DataFrame({"src": ["x", "y", 3], "dst": ["y", 3, "x"], "w": [1.0, 2.0, 3.0]})
    g = as_graph(df, weight="w", directed=True, nodes=["z"])
    assert list(g.nodes) == ["z", "x", "y", 3]
    assert g.directed and g.is_weighted and g.n_edges == 3
    assert g.to_scipy()[g.rows(["y"])[0], g.rows([3])[0]] == 2.0


def test_scipy_and_pyg_inputs_are_undirected_unless_told():
    A = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    g = as_graph(A)
    assert not g.directed and g.n_edges == 2 and g.weights is None
    g2 = as_graph(sp.csr_matrix(np.array([[0, 1], [0, 0]])))  # triangular: one edge, no warning
    assert not g2.directed and g2.n_arcs == 2
    g3 = Graph.from_scipy(sp.csr_matrix(np.array([[0, 1], [0, 0]])), directed=True)
    assert g3.directed and g3.n_arcs == 1
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    gp = as_graph(data)
    assert not gp.directed and gp.n_nodes == 4 and gp.n_edges == 2
    np.testing.assert_array_equal(gp.edge_index(), [[0, 1, 1, 2], [1, 0, 2, 1]])


# -- one graph, whatever the container --------------------------------------------------
_EDGES = [(0, 1, 2.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 3.0), (2, 2, 1.0)]


def _containers(weighted):
    """The same undirected graph (4 nodes, a 4-cycle plus a self-loop) in every container."""
    w = (lambda e: e[2]) if weighted else (lambda e: 1.0)
    G = nx.Graph()
    G.add_nodes_from(range(4))
    G.add_weighted_edges_from([(u, v, w(e)) for u, v, *_ in _EDGES for e in [(u, v, _[0])]])
    once = pd.DataFrame([(u, v, w((u, v, x))) for u, v, x in _EDGES], columns=["src", "dst", "weight"])
    both = pd.concat([once, once.rename(columns={"src": "dst", "dst": "src"})[once.columns]
                      .loc[once["src"] != once["dst"]]], ignore_index=True)
    M = np.zeros((4, 4))
    for u, v, x in _EDGES:
        M[u, v] = M[v, u] = w((u, v, x))
    tri = np.triu(M)
    ei = torch.tensor(np.array(np.nonzero(M)))
    pyg = Data(edge_index=ei, edge_weight=torch.tensor(M[np.nonzero(M)]), num_nodes=4)
    return {"networkx": G, "edges once": once, "edges both ways": both, "scipy": sp.csr_matrix(M),
            "scipy triangular": sp.coo_matrix(tri), "dense": M, "pyg": pyg,
            "digraph both ways": nx.DiGraph(G)}


@pytest.mark.parametrize("weighted", [False, True])
def test_same_graph_from_every_container(weighted, recwarn):
    graphs = {name: as_graph(x, nodes=range(4) if isinstance(x, pd.DataFrame) else None)
              for name, x in _containers(weighted).items()}
    ref = graphs.pop("networkx")
    assert ref.n_edges == 5 and ref.n_arcs == 9 and ref.is_weighted == weighted
    for name, g in graphs.items():
        assert g.directed == (name == "digraph both ways"), name
        np.testing.assert_array_equal(g.indptr, ref.indptr, err_msg=name)
        np.testing.assert_array_equal(g.indices, ref.indices, err_msg=name)
        if weighted:
            np.testing.assert_array_equal(g.weights, ref.weights, err_msg=name)
        else:
            assert g.weights is None, name
    assert not [w for w in recwarn if "directed" in str(w.message)]


def test_reciprocal_edges_are_one_edge_not_doubled():
    df = pd.DataFrame({"src": ["a", "b", "b"], "dst": ["b", "a", "c"]})
    with pytest.warns(UserWarning, match="directed=True"):  # a-b both ways, b-c one way
        g = as_graph(df)
    assert g.weights is None and g.n_edges == 2  # weight 1, not 2
    dfw = pd.DataFrame({"src": ["a", "b"], "dst": ["b", "a"], "weight": [2.0, 2.0]})
    gw = as_graph(dfw)
    assert gw.n_edges == 1 and gw.weights is None and gw.n_arcs == 2
    # different weights each way: the larger one, and a warning
    with pytest.warns(UserWarning, match="directed=True"):
        gd = as_graph(pd.DataFrame({"src": ["a", "b", "b"], "dst": ["b", "a", "c"],
                                    "weight": [1.0, 3.0, 1.0]}))
    assert gd.to_scipy()[0, 1] == gd.to_scipy()[1, 0] == 3.0


def test_repeated_arcs_are_summed():
    df = pd.DataFrame({"src": ["a", "a", "b"], "dst": ["b", "b", "c"]})
    g = as_graph(df)
    A = g.to_scipy().toarray()
    assert A[0, 1] == A[1, 0] == 2.0 and A[1, 2] == 1.0 and g.n_edges == 2
    # repeated arcs summed first, then the two directions are one edge: max(2, 1)
    g2 = as_graph(pd.DataFrame({"src": ["a", "a", "b", "b"], "dst": ["b", "b", "a", "c"]}),
                  directed=False)
    assert g2.to_scipy()[0, 1] == 2.0 and g2.to_scipy()[1, 2] == 1.0 and g2.n_edges == 2


def test_directed_true_keeps_direction_in_every_container():
    M = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    for x in (sp.csr_matrix(M), M, pd.DataFrame({"src": [0, 1, 2], "dst": [1, 2, 0]}),
              Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=3), nx.DiGraph(M)):
        g = as_graph(x, directed=True)
        assert g.directed and g.n_arcs == 3 and _neighbors(g, 0) == [1], type(x)
    g = as_graph(nx.DiGraph(M), directed=False)
    assert not g.directed and g.n_edges == 3 and _neighbors(g, 0) == [1, 2]
    g = as_graph(nx.cycle_graph(3), directed=True)  # an undirected networkx edge is both arcs
    assert g.directed and g.n_arcs == 6


def test_looks_directed_warns_once_and_only_when_it_does():
    cora_like = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0]]))  # 0-1 both ways, 0->2 only
    with pytest.warns(UserWarning, match="directed=True") as rec:
        g = as_graph(cora_like)
    assert len([w for w in rec if "directed=True" in str(w.message)]) == 1
    assert not g.directed and g.n_edges == 2
    cycle = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]))  # one-way, not triangular
    with pytest.warns(UserWarning, match="directed=True"):
        as_graph(cycle)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_graph(cycle, directed=False)
        as_graph(cycle, directed=True)
        as_graph(sp.triu(cycle + cycle.T))
        as_graph(pd.DataFrame({"src": [0, 1, 2], "dst": [1, 2, 0]}))  # each edge listed once


# -- the Graph constructor checks its arrays ------------------------------------------------
@pytest.mark.parametrize(("kw", "error", "match"), [
    (dict(indices=[1, 10**9]), ValueError, r"indices must be node rows in \[0, 2\).*1000000000"),
    (dict(indices=[1, -1]), ValueError, "indices must be node rows"),
    (dict(indptr=[0, 1]), ValueError, "indptr must have n_nodes \\+ 1 = 3"),
    (dict(indptr=[1, 1, 2]), ValueError, "indptr must start at 0"),
    (dict(indptr=[0, 2, 1]), ValueError, "indptr must never decrease"),
    (dict(indptr=[0, 1, 3]), ValueError, "indptr must end at len\\(indices\\) = 2"),
    (dict(indptr=[0.0, 1.0, 2.0]), TypeError, "indptr must hold integers"),
    (dict(indices=["1", "0"]), TypeError, "indices must hold integers"),
    (dict(weights=[1.0]), ValueError, "weights must have one entry per arc"),
    (dict(weights=[1.0, -1.0]), ValueError, "weights must be finite.*> 0"),
    (dict(weights=[1.0, np.nan]), ValueError, "weights must be finite"),
    (dict(weights=[1.0, 1e300]), ValueError, "weights must be finite \\(in float32\\)"),
    (dict(nodes=["a", "a"]), ValueError, "nodes must be unique"),
    (dict(directed="no"), TypeError, "directed must be a bool"),
    (dict(indices=[1, 1]), ValueError, "directed=False needs symmetric arcs"),
])
def test_graph_constructor_rejects_bad_arrays(kw, error, match):
    args = dict(indptr=[0, 1, 2], indices=[1, 0], weights=None, nodes=["a", "b"], directed=False)
    with pytest.raises(error, match=match):
        Graph(**{**args, **kw})


def test_graph_constructor_coerces_dtypes_and_sorts_rows():
    g = Graph(indptr=[0, 2, 3, 4], indices=[2, 1, 0, 0], weights=[1, 2, 2, 1], nodes=["a", "b", "c"],
              directed=False)
    assert g.indptr.dtype == np.int64 and g.indices.dtype == np.int32 and g.weights.dtype == np.float32
    np.testing.assert_array_equal(g.indices, [1, 2, 0, 0])
    np.testing.assert_array_equal(g.weights, [2, 1, 2, 1])
    assert isinstance(g.nodes, pd.Index) and g.n_edges == 2


def test_subgraph_keeps_induced_edges():
    g = as_graph(nx.path_graph(["a", "b", "c", "d"]))
    s = g.subgraph(["b", "c", "d"])
    assert list(s.nodes) == ["b", "c", "d"] and s.n_edges == 2


@pytest.mark.parametrize("w", [-1.0, 0.0, np.nan, np.inf])
def test_bad_weights_quote_the_edge(w):
    df = pd.DataFrame({"src": ["a", "b"], "dst": ["b", "c"], "weight": [1.0, w]})
    with pytest.raises(ValueError, match=r"must be finite and > 0.*'b' -> 'c'"):
        as_graph(df)


def test_bad_inputs():
    with pytest.raises(ValueError, match="graph is empty"):
        as_graph(nx.Graph())
    with pytest.raises(TypeError, match="graph must be a networkx graph"):
        as_graph([(1, 2)])
    with pytest.raises(KeyError, match="no dst column 'to'"):
        as_graph(pd.DataFrame({"src": [1], "dst": [2]}), dst="to")
    with pytest.raises(ValueError, match="must be square"):
        as_graph(sp.csr_matrix(np.ones((2, 3))))
    with pytest.raises(KeyError, match="not in the graph"):
        as_graph(nx.path_graph(3)).rows([7])
    with pytest.raises(ValueError, match="missing node id"):
        as_graph(pd.DataFrame({"src": [1, None], "dst": [2, 3]}))
