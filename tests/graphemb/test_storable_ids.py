"""Node, entity and relation ids the artifact format cannot store are refused at the start of fit;
tuple and mixed ids survive save/load with their types (nnstore's one key serialiser)."""

import networkx as nx
import pandas as pd
import pytest

from graphemb import GNNEmbedder, KGEmbedder, Node2Vec


def _graph():
    g = nx.Graph()
    g.add_edges_from([(("a", 1), ("b", 2)), (("b", 2), ("c", 3)), (("c", 3), ("a", 1)),
                      (("c", 3), 7), (7, "x")])
    return g


def _n2v():
    return Node2Vec(dim=4, walk_length=5, window=2, epochs=1, random_state=0)


def _gnn():
    return GNNEmbedder(dim=4, hidden_dim=8, epochs=1, random_state=0)


@pytest.mark.parametrize("make", [_n2v, _gnn], ids=["Node2Vec", "GNNEmbedder"])
def test_tuple_and_mixed_node_ids_round_trip(tmp_path, make):
    model = make().fit(_graph())
    back = type(model).load(model.save(tmp_path / "m") or tmp_path / "m")
    ids = list(back.embedding_.index)
    assert ids == [("a", 1), ("b", 2), ("c", 3), 7, "x"]
    assert [type(i) for i in ids] == [tuple, tuple, tuple, int, str]
    pd.testing.assert_frame_equal(back.embedding_, model.embedding_)


@pytest.mark.parametrize("make", [_n2v, _gnn], ids=["Node2Vec", "GNNEmbedder"])
def test_unstorable_node_ids_are_refused_before_training(make):
    g = nx.Graph()
    g.add_edges_from([(1.5, float("nan")), (1.5, 2)])
    with pytest.raises(TypeError, match="graph node ids cannot be stored: .*NaN"):
        make().fit(g)
    g = nx.Graph()
    g.add_edges_from([(frozenset({1}), 2), (2, 3)])
    with pytest.raises(TypeError, match="graph node ids cannot be stored: .*frozenset"):
        make().fit(g)


def test_kge_ids_checked_before_training_and_mixed_ids_round_trip(tmp_path):
    tr = pd.DataFrame({"head": [1, "a", 2], "relation": ["r", "r", "s"], "tail": ["a", 2, 1]})
    model = KGEmbedder(dim=4, epochs=1, random_state=0).fit(tr)
    back = KGEmbedder.load(model.save(tmp_path / "k") or tmp_path / "k")
    assert list(back.entities_) == [1, "a", 2]
    assert [type(e) for e in back.entities_] == [int, str, int]
    bad = pd.DataFrame({"head": [frozenset({1}), "a"], "relation": ["r", "r"], "tail": ["a", "b"]})
    with pytest.raises(TypeError, match=r"entity ids \(head, tail\) cannot be stored"):
        KGEmbedder(dim=4, epochs=1).fit(bad)
    with pytest.raises(TypeError, match="entities cannot be stored: .*bool"):
        KGEmbedder(dim=4, epochs=1).fit(tr, entities=[True])
