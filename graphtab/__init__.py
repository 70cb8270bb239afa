"""graphtab: graphs and tables to embeddings, and one neighbour store to find what is close.

The application layer over the four libraries: the ``graphtab`` command line
(:mod:`graphtab.cli`), the batch / scale-out pipeline (chunk functions run in
a loop over Parquet files or on Dask) and this namespace, which gives every
public name of the toolkit under one roof::

    import graphtab as gt

    emb = gt.Node2Vec(random_state=0).fit_transform(graph)
    store = gt.NeighborStore(emb.shape[1]).add(emb)

Names are imported on first use (PEP 562), so ``import graphtab`` is cheap and
does not import torch; the packages behind them are:

==============  ==============================================================
``nnstore``     the neighbour store and all neighbour search, retrieval
                metrics, the artifact format, shared helpers
``graphemb``    graphs to node embeddings (Node2Vec, GNNs, knowledge graphs),
                recommendation
``tabemb``      table rows to embeddings, record linkage and deduplication
``anomaly``     distance-based anomaly detection
==============  ==============================================================
"""

from __future__ import annotations

import importlib
import logging

from nnstore import __version__ as __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> the module that defines it
_NAMES = {
    # nnstore
    "NeighborStore": "nnstore", "col": "nnstore", "metrics": "nnstore",
    "read_artifact": "nnstore", "ArtifactError": "nnstore", "GraphtabError": "nnstore",
    "NotFittedError": "nnstore", "embeddings_frame": "nnstore",
    # graphemb
    "Graph": "graphemb", "as_graph": "graphemb", "Node2Vec": "graphemb",
    "GNNEmbedder": "graphemb", "KGEmbedder": "graphemb", "read_triples": "graphemb",
    "Recommender": "graphemb", "ALSRecommender": "graphemb",
    "ItemKNNRecommender": "graphemb", "PopularityRecommender": "graphemb",
    "compare_recommenders": "graphemb", "evaluate_recommender": "graphemb",
    "train_test_split_interactions": "graphemb",
    # tabemb
    "TableEncoder": "tabemb", "RecordMatcher": "tabemb", "MatchResult": "tabemb",
    "link": "tabemb", "dedupe": "tabemb", "infer_schema": "tabemb", "Schema": "tabemb",
    "generate_people": "tabemb", "corrupt_records": "tabemb",
    # anomaly
    "KNNDetector": "anomaly", "LOFDetector": "anomaly", "EnsembleDetector": "anomaly",
    "load_detector": "anomaly",
    # graphtab: batch / scale-out and tables
    "Step": "graphtab._scaleout", "ScaleoutError": "graphtab._scaleout",
    "ScaleoutResult": "graphtab._scaleout", "run_pipeline": "graphtab._scaleout",
    "map_parquet": "graphtab._scaleout", "map_dask": "graphtab._scaleout",
    "map_partitions": "graphtab._scaleout", "append_columns": "graphtab._scaleout",
    "load_artifact_cached": "graphtab._scaleout",
    "read_table": "graphtab._io", "write_table": "graphtab._io",
    "iter_table_chunks": "graphtab._io",
}
_SUBMODULES = {"cli", "plot"}

__all__ = sorted([*_NAMES, "__version__"])


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_NAMES) | _SUBMODULES)
