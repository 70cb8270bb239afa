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


def test_scipy_and_pyg_inputs_infer_direction():
    A = sp.csr_matrix(np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    g = as_graph(A)
    assert not g.directed and g.n_edges == 2 and g.weights is None
    g2 = as_graph(sp.csr_matrix(np.array([[0, 1], [0, 0]])))
    assert g2.directed
    g3 = Graph.from_scipy(sp.csr_matrix(np.array([[0, 1], [0, 0]])), directed=False)
    assert not g3.directed and g3.n_arcs == 2
    data = Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=4)
    gp = as_graph(data)
    assert not gp.directed and gp.n_nodes == 4 and gp.n_edges == 2
    np.testing.assert_array_equal(gp.edge_index(), [[0, 1, 1, 2], [1, 0, 2, 1]])


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
