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

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "GNNEmbedder",
    "Graph",
    "KGEmbedder",
    "Node2Vec",
    "__version__",
    "as_graph",
    "filtered_ranks",
    "rank_metrics",
    "read_triples",
]
