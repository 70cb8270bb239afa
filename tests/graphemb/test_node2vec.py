"""The Node2Vec estimator: fit/transform, communities, save/load, determinism, bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from graphemb import Node2Vec
from nnstore import ArtifactError, NotFittedError

SMALL = dict(dim=16, walk_length=20, n_walks=10, window=5, epochs=3, subsample=0.0)


@pytest.fixture(scope="module")
def communities():
    G = nx.planted_partition_graph(2, 20, 0.5, 0.02, seed=3)
    G = nx.relabel_nodes(G, {i: f"n{i}" for i in G})
    y = np.array([0] * 20 + [1] * 20)
    return G, y


@pytest.fixture(scope="module")
def fitted(communities):
    G, _ = communities
    return Node2Vec(**SMALL, n_jobs=1, random_state=0).fit(G)


def test_two_communities_separate(fitted, communities):
    _, y = communities
    X = fitted.embedding_.to_numpy()
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    acc = cross_val_score(LogisticRegression(C=10), X, y, cv=5).mean()
    assert acc >= 0.9


def test_embedding_frame(fitted, communities):
    G, _ = communities
    emb = fitted.embedding_
    assert list(emb.index) == list(G.nodes)
    assert list(emb.columns) == [f"emb_{i}" for i in range(16)]
    assert (emb.dtypes == np.float32).all()
    sub = fitted.transform(["n3", "n0"])
    pd.testing.assert_frame_equal(sub, emb.loc[["n3", "n0"]])
    with pytest.raises(KeyError, match="not in the fitted graph"):
        fitted.transform(["nope"])


def test_biased_walks_and_weights_fit(communities):
    G, _ = communities
    H = G.copy()
    for i, (u, v) in enumerate(H.edges):
        H[u][v]["w"] = 1.0 + i % 3
    m = Node2Vec(**SMALL, p=0.5, q=2.0, weight="w", keep_walks=True, random_state=1).fit(H)
    assert m.walks_.shape == (10 * 40, 20) and m.walks_.dtype == np.int32
    assert np.isfinite(m.embedding_.to_numpy()).all()


def test_same_seed_same_embedding_single_thread(communities, fitted):
    G, _ = communities
    again = Node2Vec(**SMALL, n_jobs=1, random_state=0).fit(G)
    pd.testing.assert_frame_equal(again.embedding_, fitted.embedding_)
    other = Node2Vec(**SMALL, n_jobs=1, random_state=1).fit(G)
    assert not other.embedding_.equals(fitted.embedding_)


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    assert path == tmp_path / "model"
    back = Node2Vec.load(path)
    assert back.subsample_ == fitted.subsample_
    pd.testing.assert_frame_equal(back.embedding_, fitted.embedding_)
    pd.testing.assert_frame_equal(back.transform(["n5"]), fitted.transform(["n5"]))
    assert back.get_params()["p"] == fitted.p and back.dim == 16
    with pytest.raises(ArtifactError, match="expected 'node2vec'"):
        from nnstore import ArtifactWriter

        with ArtifactWriter(tmp_path / "other", kind="other") as w:
            w.save_json("x", {})
        Node2Vec.load(tmp_path / "other")


def test_isolated_and_directed_nodes_get_embeddings():
    df = pd.DataFrame({"src": ["a", "b", "c"], "dst": ["b", "c", "a"]})
    from graphemb import as_graph

    g = as_graph(df, directed=True, nodes=["a", "b", "c", "lonely"])
    m = Node2Vec(dim=8, walk_length=5, window=2, random_state=0, n_jobs=1).fit(g)
    emb = m.embedding_
    assert list(emb.index) == ["a", "b", "c", "lonely"]
    assert np.abs(emb.loc["lonely"].to_numpy()).max() <= 0.5 / 8  # untrained random init


def test_verbose_and_fit_transform(communities):
    G, _ = communities
    emb = Node2Vec(dim=4, walk_length=5, window=2, n_walks=1, verbose=True, random_state=0).fit_transform(G)
    assert emb.shape == (40, 4)


def test_not_fitted():
    with pytest.raises(NotFittedError, match="This graphemb.Node2Vec instance is not fitted yet"):
        Node2Vec().transform()
    with pytest.raises(NotFittedError):
        Node2Vec().get_feature_names_out()


def test_set_output_pandas_keeps_node_ids(fitted, communities):
    G, _ = communities
    m = Node2Vec(**SMALL, n_jobs=1, random_state=0).set_output(transform="pandas")
    emb = m.fit_transform(G)
    pd.testing.assert_frame_equal(emb, fitted.embedding_)
    assert list(m.get_feature_names_out()) == [f"emb_{i}" for i in range(16)]
    assert m.transform("n7").index.tolist() == ["n7"]
    with pytest.raises(ValueError, match="'default' or 'pandas'"):
        m.set_output(transform="polars")


def test_malformed_graph_is_an_error_not_a_crash():
    from graphemb import Graph

    with pytest.raises(ValueError, match="indices must be node rows"):
        Node2Vec(walk_length=5, window=2).fit(
            Graph(indptr=[0, 1, 2], indices=[1, 10**9], weights=None, nodes=[0, 1], directed=True))
    with pytest.raises(ValueError, match="indptr must have n_nodes \\+ 1"):
        Node2Vec(walk_length=5, window=2).fit(
            Graph(indptr=[0, 1], indices=[0], weights=None, nodes=[0, 1, 2], directed=True))


def test_scipy_adjacency_is_read_undirected_with_a_warning():
    import scipy.sparse as sp

    A = sp.csr_matrix(np.array([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]))
    with pytest.warns(UserWarning, match="directed=True"):
        m = Node2Vec(dim=4, walk_length=6, window=2, keep_walks=True, random_state=0).fit(A)
    assert (m.walks_ >= 0).all()  # undirected: no walk dies at a node without out-arcs
    m2 = Node2Vec(dim=4, walk_length=6, window=2, keep_walks=True, directed=True, random_state=0).fit(A)
    assert (m2.walks_ < 0).any()


def test_subsample_auto_scales_to_the_graph(fitted):
    from graphemb._node2vec import subsample_threshold

    assert fitted.subsample_ == 0.0  # SMALL sets subsample=0
    assert subsample_threshold("auto", 40) == 10 / 40
    assert subsample_threshold("auto", 10**6) == 1e-3
    assert subsample_threshold(1e-4, 40) == 1e-4
    m = Node2Vec(dim=4, walk_length=5, window=2, n_walks=1, random_state=0).fit(nx.path_graph(50))
    assert m.subsample_ == 10 / 50


@pytest.mark.parametrize(("params", "match"), [
    (dict(p=0), "'p' parameter of graphemb.Node2Vec must be a float in the range \\(0.0, inf\\)"),
    (dict(q=-1.0), "'q' parameter"),
    (dict(p=float("nan")), "'p' parameter"),
    (dict(walk_length=1), "'walk_length' parameter .* range \\[2, inf\\)"),
    (dict(walk_length=10, window=10), "window must be < walk_length"),
    (dict(dim=0), "'dim' parameter"),
    (dict(n_walks=2.5), "'n_walks' parameter .* int"),
    (dict(subsample="sometimes"), "'subsample' parameter"),
    (dict(n_jobs=0), "'n_jobs' parameter"),
    (dict(device="gpu"), "device must be 'cpu', 'cuda'"),
    (dict(directed="yes"), "'directed' parameter"),
])
def test_bad_parameters(params, match):
    G = nx.path_graph(4)
    with pytest.raises(ValueError, match=match):
        Node2Vec(**{"walk_length": 20, "window": 5, **params}).fit(G)


@pytest.mark.parametrize(("weights", "match"), [([1.0, -2.0], "must be finite and > 0"),
                                                ([1.0, float("nan")], "must be finite and > 0")])
def test_bad_weights(weights, match):
    df = pd.DataFrame({"src": [0, 1], "dst": [1, 2], "weight": weights})
    with pytest.raises(ValueError, match=match):
        Node2Vec(walk_length=5, window=2).fit(df)


def test_empty_graph():
    with pytest.raises(ValueError, match="graph is empty"):
        Node2Vec().fit(nx.Graph())


def test_unhashable_node_ids():
    df = pd.DataFrame({"src": [[1], [2]], "dst": [[2], [3]]})
    with pytest.raises(TypeError, match="unhashable"):
        Node2Vec(walk_length=5, window=2).fit(df)


def test_same_embedding_whatever_the_container():
    import scipy.sparse as sp
    import torch
    from torch_geometric.data import Data

    G = nx.karate_club_graph()
    A = nx.to_scipy_sparse_array(G, weight=None, format="csr")
    upper = sp.triu(A, k=1).tocoo()
    inputs = {"scipy": sp.csr_matrix(A), "triangular scipy": upper, "dense": A.toarray(),
              "pyg": Data(edge_index=torch.as_tensor(np.vstack(A.nonzero())), num_nodes=34)}
    kw = dict(dim=8, walk_length=10, n_walks=2, window=3, weight=None, n_jobs=1, random_state=0)
    ref = Node2Vec(**kw).fit_transform(G)
    for name, x in inputs.items():
        pd.testing.assert_frame_equal(Node2Vec(**kw).fit_transform(x), ref, obj=name)
