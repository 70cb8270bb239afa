"""Node2Vec: embed a planted-partition graph, check communities and neighbours"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from graphemb import Node2Vec
from graphemb.evaluation import link_prediction, node_classification, split_edges


def run(workdir: Path) -> None:
    G = nx.planted_partition_graph(4, 50, 0.2, 0.005, seed=0)
    y = np.repeat(np.arange(4), 50)
    print(f"graph: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, 4 planted communities of 50")
    model = Node2Vec(dim=32, walk_length=30, n_walks=10, window=5, epochs=2, p=1.0, q=0.5,
                     random_state=0)
    emb = model.fit_transform(G)
    res = node_classification(emb, y, train_size=0.5, n_repeats=3, random_state=0)
    print(f"linear probe on the embeddings (50% labels): micro-F1 {res['micro_f1']:.3f} "
          f"(chance 0.25)")
    X = emb.to_numpy()
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    nn = np.argsort(-(X @ X[0]))[1:6]
    print(f"5 nearest neighbours of node 0 (community 0): {nn.tolist()}, "
          f"their communities {y[nn].tolist()}")
    train, pairs = split_edges(G, test_size=0.3, random_state=0)
    from graphemb import as_graph

    g_train = as_graph(train, nodes=list(G.nodes))
    emb_train = Node2Vec(dim=32, walk_length=30, window=5, epochs=2, random_state=0).fit_transform(g_train)
    lp = link_prediction(emb_train, pairs, random_state=0)
    print(f"link prediction on 30% held-out edges: ROC-AUC {lp['auc']:.3f} (Hadamard + logistic "
          f"regression), {lp['auc_dot']:.3f} (dot product)")
    model.save(workdir / "node2vec")
    back = Node2Vec.load(workdir / "node2vec")
    print(f"saved and reloaded: identical embeddings {back.embedding_.equals(model.embedding_)}")
