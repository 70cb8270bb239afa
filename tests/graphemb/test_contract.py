"""graphemb's public estimators keep the shared contract (nnstore.testing.check_estimator_contract).

This file covers Node2Vec and KGEmbedder; GNNEmbedder and the recommenders have their own
``test_contract_*.py``.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import pytest

from nnstore.testing import check_estimator_contract


def test_node2vec_contract(tmp_path):
    from graphemb import Node2Vec

    G = nx.relabel_nodes(nx.karate_club_graph(), lambda v: f"n{v}")
    check_estimator_contract(
        Node2Vec(dim=8, walk_length=10, n_walks=2, window=3, n_jobs=1, random_state=0),
        lambda est: est.fit(G),
        outputs=lambda est: (est.transform(), est.transform(["n3", "n1"])),
        unfitted=[lambda est: est.transform(), lambda est: est.save(tmp_path / "never"),
                  lambda est: est.get_feature_names_out()],
        bad_params={"dim": [0, 2.5], "walk_length": [1], "window": [10], "p": [0, -1.0, float("nan")],
                    "q": [0], "epochs": [0], "negative": [-1], "learning_rate": [0],
                    "subsample": [-0.1, "always"], "directed": ["yes"], "n_jobs": [0],
                    "device": ["gpu"], "random_state": [-1, "seed"], "keep_walks": ["no"]},
        tmp_path=tmp_path,
    )


def _triples():
    rows = [(f"e{i}", f"r{i % 3}", f"e{(i * 7 + 1) % 12}") for i in range(40)]
    return pd.DataFrame(rows, columns=["head", "relation", "tail"])


@pytest.mark.parametrize("model", ["transe", "complex"])
def test_kge_contract(tmp_path, model):
    from graphemb import KGEmbedder

    triples = _triples()
    check_estimator_contract(
        KGEmbedder(model=model, dim=4, epochs=2, batch_size=16, random_state=0),
        lambda est: est.fit(triples),
        outputs=lambda est: (est.transform(), est.relation_embeddings_, est.score(triples.head(5)),
                             est.predict_tail("e1", "r1", k=3, exact=True)),
        unfitted=[lambda est: est.transform(), lambda est: est.score(triples),
                  lambda est: est.predict_tail("e1", "r1"), lambda est: est.save(tmp_path / "never")],
        bad_params={"model": ["transr"], "dim": [0], "epochs": [0], "batch_size": [0],
                    "learning_rate": [0.0], "label_smoothing": [1.0], "n3": [-1.0],
                    "dropout": [1.0], "time_budget": [0], "device": ["gpu"], "random_state": [-1]},
        tmp_path=tmp_path,
    )
