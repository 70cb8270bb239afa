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
    fitted.save(tmp_path / "model")
    back = Node2Vec.load(tmp_path / "model")
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
    with pytest.raises(NotFittedError, match="not fitted"):
        Node2Vec().transform()


@pytest.mark.parametrize(("params", "match"), [
    (dict(p=0), "p must be a number > 0"),
    (dict(q=-1.0), "q must be a number > 0"),
    (dict(p=float("nan")), "p must be"),
    (dict(walk_length=1), "walk_length must be an int >= 2"),
    (dict(walk_length=10, window=10), "window must be < walk_length"),
    (dict(dim=0), "dim must be"),
    (dict(n_walks=2.5), "n_walks must be an int"),
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
