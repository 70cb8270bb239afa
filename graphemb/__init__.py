"""graphemb: graphs to node embeddings.

Graph input (networkx, edge-list DataFrames, scipy sparse, torch_geometric
Data), Node2Vec with our own walk engine, GNN encoders, recommendation over
user-item graphs. Imports nnstore only.
"""

import importlib
import logging

from nnstore import __version__, set_public_module

from ._graph import Graph, as_graph
from ._node2vec import Node2Vec
from ._recommend import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    compare_recommenders,
    evaluate_recommender,
    train_test_split_interactions,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Loaded on first use (PEP 562): the knowledge-graph and GNN modules import torch at module
# level, and a process that only walks graphs or trains Node2Vec on CPU should not pay torch's
# import (about 1 s and 400 MB of resident memory).
_LAZY = {"GNNEmbedder": "._gnn", "KGEmbedder": "._kge", "filtered_ranks": "._kge",
         "rank_metrics": "._kge", "read_triples": "._kge"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        set_public_module(globals(), [name])
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ALSRecommender",
    "EASERecommender",
    "GNNEmbedder",
    "Graph",
    "ItemKNNRecommender",
    "KGEmbedder",
    "Node2Vec",
    "PopularityRecommender",
    "Recommender",
    "__version__",
    "as_graph",
    "compare_recommenders",
    "evaluate_recommender",
    "filtered_ranks",
    "rank_metrics",
    "read_triples",
    "train_test_split_interactions",
]

set_public_module(globals(), __all__)
