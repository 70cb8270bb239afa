"""The :class:`Node2Vec` estimator: biased walks + skip-gram, pandas out."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from nnstore import (
    ArtifactWriter,
    NotFittedError,
    check_random_state,
    check_storable_keys,
    embeddings_frame,
    read_artifact,
    seed_from,
)

from ._graph import Graph, as_graph
from ._skipgram import train_skipgram_numba, train_skipgram_torch
from ._walks import build_alias, random_walks

__all__ = ["Node2Vec"]

logger = logging.getLogger(__name__)

_KIND = "node2vec"


def _positive(name: str, value: Any, *, integer: bool = False, minimum: float = 0.0,
              strict: bool = True) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and integer:
        ok = float(value).is_integer()
    if ok:
        ok = math.isfinite(float(value)) and (value > minimum if strict else value >= minimum)
    if not ok:
        kind = "an int" if integer else "a number"
        rel = ">" if strict else ">="
        raise ValueError(f"{name} must be {kind} {rel} {minimum:g}, got {value!r}")


class Node2Vec:
    """Node2Vec node embeddings (Grover & Leskovec, KDD 2016).

    Second-order biased random walks (compiled, parallel, O(edges) memory; see
    :mod:`graphemb._walks`) feed skip-gram with negative sampling (a compiled
    Hogwild CPU trainer, or torch on ``device="cuda"``).

    Parameters
    ----------
    dim : int, default 128
        Embedding dimension.
    walk_length : int, default 80
        Nodes per walk (>= 2).
    n_walks : int, default 10
        Walks started from every node.
    window : int, default 10
        Skip-gram context window (< walk_length); word2vec's random shrink applies.
    p, q : float, default 1
        Return and in-out parameters (> 0). ``p = q = 1`` is DeepWalk (fast
        first-order path); small ``p`` keeps walks local, small ``q`` pushes
        them outwards.
    epochs : int, default 1
    negative : int, default 5
        Negative samples per positive pair (unigram^0.75 distribution).
    learning_rate, min_learning_rate : float, default 0.025, 0.0001
        Linear decay from the first to the second over all epochs.
    subsample : float, default 1e-3
        Frequent-node subsampling threshold (0 disables).
    weight : str or None, default "weight"
        Edge attribute (networkx) or column (edge list) holding weights.
    directed : bool, optional
        For edge lists and matrices (see :func:`graphemb.as_graph`).
    n_jobs : int, optional
        Threads for walks and training (default: all numba threads).
    device : str, default "cpu"
        ``"cpu"``: the numba trainer; anything else (``"cuda"``): the torch trainer.
    keep_walks : bool, default False
        Keep the walk array as ``walks_``.
    random_state : int, Generator or None
    verbose : bool, default False
        Progress bars for walks and epochs.

    Attributes
    ----------
    embedding_ : DataFrame of shape (n_nodes, dim)
        float32 columns ``emb_*``, index = node id.
    walks_ : ndarray of shape (n_walks * n_nodes, walk_length), int32, or None
        Node rows (``-1`` pads walks that hit a node without out-neighbours).
    nodes_ : pandas.Index
    n_nodes_ : int

    Shapes
    ------
    input: a graph with ``|V|`` nodes, ``|E|`` edges;
    walks: ``(n_walks * |V|, walk_length)``; output: ``(|V|, dim)``.

    Notes
    -----
    Isolated nodes (and nodes no walk reaches) keep their random initial
    vectors (uniform in ``±0.5/dim``): they get an embedding, but an untrained
    one, close to the origin. A walk that reaches a node without
    out-neighbours (directed graphs) stops there.

    Determinism: walks are a function of ``random_state`` alone, for any
    ``n_jobs``. Training is a function of ``random_state`` with ``n_jobs=1``;
    with more threads Hogwild's lock-free updates vary slightly between runs.
    """

    def __init__(self, *, dim: int = 128, walk_length: int = 80, n_walks: int = 10, window: int = 10,
                 p: float = 1.0, q: float = 1.0, epochs: int = 1, negative: int = 5,
                 learning_rate: float = 0.025, min_learning_rate: float = 0.0001,
                 subsample: float = 1e-3, weight: str | None = "weight", directed: bool | None = None,
                 n_jobs: int | None = None, device: str = "cpu", keep_walks: bool = False,
                 random_state: Any = None, verbose: bool = False) -> None:
        self.dim = dim
        self.walk_length = walk_length
        self.n_walks = n_walks
        self.window = window
        self.p = p
        self.q = q
        self.epochs = epochs
        self.negative = negative
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.subsample = subsample
        self.weight = weight
        self.directed = directed
        self.n_jobs = n_jobs
        self.device = device
        self.keep_walks = keep_walks
        self.random_state = random_state
        self.verbose = verbose

    # -- parameters -------------------------------------------------------------------
    _PARAMS = ("dim", "walk_length", "n_walks", "window", "p", "q", "epochs", "negative",
               "learning_rate", "min_learning_rate", "subsample", "weight", "directed", "n_jobs",
               "device", "keep_walks", "verbose")

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in (*self._PARAMS, "random_state")}

    def set_params(self, **params: Any) -> Node2Vec:
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"invalid parameter {k!r} for Node2Vec")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return f"Node2Vec(dim={self.dim}, p={self.p}, q={self.q}, walk_length={self.walk_length})"

    def _validate(self) -> None:
        _positive("dim", self.dim, integer=True)
        _positive("walk_length", self.walk_length, integer=True, minimum=2, strict=False)
        _positive("n_walks", self.n_walks, integer=True)
        _positive("window", self.window, integer=True)
        if self.window >= self.walk_length:
            raise ValueError(f"window must be < walk_length ({self.walk_length}), got {self.window}")
        _positive("p", self.p)
        _positive("q", self.q)
        _positive("epochs", self.epochs, integer=True)
        _positive("negative", self.negative, integer=True, strict=False)
        _positive("learning_rate", self.learning_rate)
        _positive("min_learning_rate", self.min_learning_rate, strict=False)
        _positive("subsample", self.subsample, strict=False)
        if self.n_jobs is not None:
            _positive("n_jobs", self.n_jobs, integer=True)

    # -- fitting ------------------------------------------------------------------------
    def fit(self, graph: Any, y: Any = None) -> Node2Vec:
        """Walk ``graph`` and train the embeddings; returns self.

        Parameters
        ----------
        graph : Graph, networkx graph, edge-list DataFrame, scipy sparse matrix or PyG Data
            See :func:`graphemb.as_graph`.
        """
        self._validate()
        g = as_graph(graph, directed=self.directed, weight=self.weight)
        check_storable_keys(g.nodes, name="graph node ids")  # refused before training, not at save
        rng = check_random_state(self.random_state)
        walk_seed, train_seed = seed_from(rng), seed_from(rng)
        walks = self._walk(g, rng, walk_seed)
        vectors = self._train(walks, g.n_nodes, train_seed)
        self.nodes_ = g.nodes
        self.n_nodes_ = g.n_nodes
        self.embedding_ = embeddings_frame(vectors, g.nodes)
        self.walks_ = walks if self.keep_walks else None
        return self

    def _walk(self, g: Graph, rng: np.random.Generator, seed: int) -> np.ndarray:
        from tqdm.auto import tqdm

        n = g.n_nodes
        alias = build_alias(g.indptr, g.weights) if g.weights is not None else None
        # one array for all rounds, each written in place (no parts list + concatenate,
        # which held the walks twice)
        walks = np.empty((int(self.n_walks) * n, int(self.walk_length)), np.int32)
        for r in tqdm(range(int(self.n_walks)), desc="node2vec walks", unit="round",
                      disable=not self.verbose):
            starts = rng.permutation(n).astype(np.int32)
            random_walks(g.indptr, g.indices, g.weights, starts, walk_length=int(self.walk_length),
                         p=float(self.p), q=float(self.q), seed=seed + r * n, alias_tables=alias,
                         n_jobs=self.n_jobs, out=walks[r * n:(r + 1) * n])
        logger.info("node2vec: %d walks of length %d on %r", len(walks), self.walk_length, g)
        return walks

    def _train(self, walks: np.ndarray, n_nodes: int, seed: int) -> np.ndarray:
        from tqdm.auto import tqdm

        kw = dict(dim=int(self.dim), window=int(self.window), negative=int(self.negative),
                  epochs=int(self.epochs), learning_rate=float(self.learning_rate),
                  min_learning_rate=float(self.min_learning_rate), subsample=float(self.subsample),
                  seed=seed % (2**62))
        with tqdm(total=int(self.epochs), desc="node2vec epochs", unit="epoch",
                  disable=not self.verbose) as bar:
            if str(self.device) == "cpu":
                return train_skipgram_numba(walks, n_nodes, n_jobs=self.n_jobs,
                                            callback=lambda e: bar.update(1), **kw)
            return train_skipgram_torch(walks, n_nodes, device=str(self.device),
                                        callback=lambda e: bar.update(1), **kw)

    def _check_fitted(self) -> None:
        if not hasattr(self, "embedding_"):
            raise NotFittedError("this Node2Vec is not fitted yet: call fit(graph) first")

    def transform(self, nodes: Iterable[Hashable] | None = None) -> pd.DataFrame:
        """Embeddings of ``nodes`` (default: all), as an embeddings DataFrame.

        Raises ``KeyError`` naming node ids that were not in the fitted graph.
        """
        self._check_fitted()
        if nodes is None:
            return self.embedding_.copy()
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable):
            nodes = [nodes]
        index = pd.Index(list(nodes), tupleize_cols=False)
        rows = self.nodes_.get_indexer(index)
        if (rows < 0).any():
            missing = list(index[rows < 0][:5])
            raise KeyError(f"nodes: {int((rows < 0).sum())} node(s) not in the fitted graph, e.g. {missing}")
        return embeddings_frame(self.embedding_.to_numpy()[rows], index)

    def fit_transform(self, graph: Any, y: Any = None) -> pd.DataFrame:
        """``fit(graph)`` then the embeddings of every node."""
        return self.fit(graph).transform()

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save as a ``"node2vec"`` artifact directory (parameters + embeddings)."""
        self._check_fitted()
        params = {k: getattr(self, k) for k in self._PARAMS}
        rs = self.random_state
        params["random_state"] = rs if rs is None or isinstance(rs, (int, np.integer)) else None
        with ArtifactWriter(path, kind=_KIND, params=params, dim=int(self.dim),
                            counts={"nodes": int(self.n_nodes_)}) as w:
            w.save_frame("embedding", self.embedding_)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Node2Vec:
        """Load a model written by :meth:`save` (checks kind and checksums)."""
        art = read_artifact(path, kind=_KIND)
        model = cls(**art.params)
        emb = art.load_frame("embedding")
        model.embedding_ = emb.astype(np.float32)
        model.nodes_ = emb.index
        model.n_nodes_ = len(emb)
        model.walks_ = None
        return model
