"""graphemb.evaluation: edge operators, node classification, edge splits, link prediction."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphemb import as_graph
from graphemb.evaluation import edge_embeddings, link_prediction, node_classification, split_edges
from nnstore import embeddings_frame

EMB = embeddings_frame(np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]), ["a", "b", "c"])


@pytest.mark.parametrize(("op", "expected"), [
    ("hadamard", [[3.0, -2.0], [1.5, 0.0]]),
    ("average", [[2.0, 0.5], [1.75, -0.5]]),
    ("l1", [[2.0, 3.0], [2.5, 1.0]]),
    ("l2", [[4.0, 9.0], [6.25, 1.0]]),
])
def test_edge_operators(op, expected):
    out = edge_embeddings(EMB, pd.DataFrame({"src": ["a", "b"], "dst": ["b", "c"]}), operator=op)
    np.testing.assert_allclose(out, expected)
    assert out.dtype == np.float32
    np.testing.assert_allclose(edge_embeddings(EMB, [("a", "b"), ("b", "c")], operator=op), expected)


def test_edge_embedding_errors():
    with pytest.raises(ValueError, match="operator must be one of"):
        edge_embeddings(EMB, [("a", "b")], operator="cosine")
    with pytest.raises(KeyError, match="have no embedding"):
        edge_embeddings(EMB, [("a", "zz")])


def _separable(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 8)) * 0.3 + np.eye(8)[y] * 3
    return embeddings_frame(X, [f"v{i}" for i in range(n)]), y


def test_node_classification_single_label():
    emb, y = _separable()
    res = node_classification(emb, pd.Series(y, index=emb.index), n_repeats=3, random_state=0)
    assert res["micro_f1"] > 0.95 and res["macro_f1"] > 0.95 and not res["multilabel"]
    noise = node_classification(emb, np.random.default_rng(1).integers(0, 3, len(y)), random_state=0)
    assert noise["micro_f1"] < 0.5


def test_node_classification_multilabel():
    emb, y = _separable()
    Y = np.zeros((len(y), 4), int)
    Y[np.arange(len(y)), y] = 1
    Y[y == 0, 3] = 1  # class 0 nodes carry a second label
    res = node_classification(emb, Y, n_repeats=2, random_state=0)
    assert res["multilabel"] and res["micro_f1"] > 0.9
    sets = [set(np.flatnonzero(r)) for r in Y]
    res2 = node_classification(emb, sets, n_repeats=2, random_state=0)
    assert res2["micro_f1"] == pytest.approx(res["micro_f1"])


def test_node_classification_errors():
    emb, y = _separable()
    with pytest.raises(ValueError, match="train_size must be in"):
        node_classification(emb, y, train_size=1.5)
    with pytest.raises(ValueError, match="have no label"):
        node_classification(emb, pd.Series(y[:10], index=emb.index[:10]))


def test_split_edges_holds_out_and_samples_non_edges():
    G = nx.karate_club_graph()
    g = as_graph(G, weight=None)
    train, pairs = split_edges(g, test_size=0.3, random_state=0)
    held = pairs[pairs.label == 1]
    assert len(held) == round(0.3 * 78) and len(pairs) == 2 * len(held)
    assert len(train) + len(held) == 78
    for u, v in zip(pairs.loc[pairs.label == 0, "src"], pairs.loc[pairs.label == 0, "dst"], strict=True):
        assert not G.has_edge(u, v) and u != v
    train_set = {frozenset(e) for e in zip(train.src, train.dst, strict=True)}
    assert not any(frozenset(e) in train_set for e in zip(held.src, held.dst, strict=True))


def test_link_prediction_auc_on_communities():
    G = nx.planted_partition_graph(2, 30, 0.4, 0.01, seed=0)
    _train, pairs = split_edges(G, test_size=0.3, random_state=0)
    y = np.array([0] * 30 + [1] * 30)
    emb = embeddings_frame(np.eye(2)[y] + 0.01 * np.random.default_rng(0).normal(size=(60, 2)), range(60))
    res = link_prediction(emb, pairs, random_state=0)
    assert res["auc"] > 0.75 and res["auc_dot"] > 0.75
    with pytest.raises(ValueError, match="both positive"):
        link_prediction(emb, pairs[pairs.label == 1])
    with pytest.raises(ValueError, match="test_size must be in"):
        split_edges(G, test_size=0)


def test_multilabel_rules_hand_computed():
    from graphemb.evaluation import _f1s, _fit_predict

    # 4 training nodes, 2 labels; test nodes: one near label 0 with 1 true label,
    # one near label 0 with 2 true labels.
    X = np.array([[4.0, 0.0], [5.0, 0.0], [0.0, 4.0], [0.0, 5.0]])
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], np.int8)
    Xte = np.array([[5.0, 0.0], [3.0, 0.5]])
    Yte = np.array([[1, 0], [1, 1]], np.int8)
    top = _fit_predict(X, Y, Xte, Yte.sum(axis=1), C=1.0, multilabel=True, rule="top_k", n_jobs=None)
    np.testing.assert_array_equal(top, [[1, 0], [1, 1]])  # k = 1 and k = 2 top labels
    thr = _fit_predict(X, Y, Xte, Yte.sum(axis=1), C=1.0, multilabel=True, rule="threshold", n_jobs=None)
    np.testing.assert_array_equal(thr, [[1, 0], [1, 0]])  # label 1 has p < 0.5 for node 2
    # hand: top_k is perfect -> 1, 1; threshold: TP=2, FP=0, FN=1 -> micro 2*2/(4+0+1) = 0.8;
    # label 0: F1 1; label 1: TP 0 -> 0; macro 0.5
    assert _f1s(Yte, top, True) == (1.0, 1.0)
    mi, ma = _f1s(Yte, thr, True)
    assert mi == pytest.approx(0.8) and ma == pytest.approx(0.5)


def test_node_classification_select_uses_same_splits():
    from graphemb.evaluation import node_classification_select

    emb, y = _separable()
    noise = embeddings_frame(np.random.default_rng(3).normal(size=(len(y), 8)), emb.index)
    labels = pd.Series(y, index=emb.index)
    res = node_classification_select({"good": emb, "noise": noise}, labels, n_repeats=2, C=(0.1, 1.0),
                                      normalize=(False, True), random_state=0)
    assert [c[0] for c in res["chosen"]] == ["good", "good"]
    assert res["per_candidate"]["good"]["micro_f1"] > 0.95 > res["per_candidate"]["noise"]["micro_f1"]
    one = node_classification_select(emb, labels, n_repeats=2, C=1.0, random_state=0)
    plain = node_classification(emb, labels, n_repeats=2, C=1.0, random_state=0)
    assert one["micro_f1"] == pytest.approx(plain["micro_f1"])
    with pytest.raises(ValueError, match="multilabel_rule must be one of"):
        node_classification(emb, labels, multilabel_rule="top3")
    with pytest.raises(ValueError, match="C must be > 0"):
        node_classification_select(emb, labels, C=(1.0, -1.0))
