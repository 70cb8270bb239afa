"""graphemb: graphs to node embeddings.

Graph input (networkx, edge-list DataFrames, scipy sparse, torch_geometric
Data), Node2Vec with our own walk engine, GNN encoders, recommendation over
user-item graphs. Imports nnstore only.
"""

import logging

from nnstore._version import __version__

from ._gnn import GNNEmbedder
from ._graph import Graph, as_graph
from ._kge import KGEmbedder, filtered_ranks, rank_metrics, read_triples
from ._node2vec import Node2Vec
from ._recommend import Recommender
from ._recommend_data import train_test_split_interactions
from ._recommend_eval import (
    ALSRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    compare_recommenders,
    evaluate_recommender,
)

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ALSRecommender",
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
