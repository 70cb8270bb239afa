"""The :class:`Node2Vec` estimator: biased walks + skip-gram, pandas out."""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from nnstore import (
    DEVICE,
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    ArtifactWriter,
    Interval,
    StrOptions,
    check_device,
    check_is_fitted,
    check_random_state,
    check_storable_keys,
    effective_n_jobs,
    embeddings_frame,
    read_artifact,
    seed_from,
    validate_params,
)

from ._graph import Graph, as_graph
from ._output import FrameOutputMixin
from ._skipgram import train_skipgram_numba, train_skipgram_torch
from ._walks import build_alias, random_walks

__all__ = ["Node2Vec"]

logger = logging.getLogger(__name__)

_KIND = "node2vec"
#: ``subsample="auto"``: the threshold relative to the mean node frequency ``1 / n_nodes``
_AUTO_SUBSAMPLE_FACTOR = 10.0
_AUTO_SUBSAMPLE_FLOOR = 1e-3


def subsample_threshold(subsample: float | str, n_nodes: int) -> float:
    """The frequent-node subsampling threshold ``Node2Vec(subsample=...)`` uses on ``n_nodes`` nodes.

    ``"auto"`` gives ``max(1e-3, 10 / n_nodes)``: only nodes whose walk
    frequency is more than ten times the mean (roughly, degree more than ten
    times the mean degree) are subsampled, and never more than word2vec's
    usual ``1e-3`` would. A number is used as it is (0 disables).
    """
    if isinstance(subsample, str):
        return max(_AUTO_SUBSAMPLE_FLOOR, _AUTO_SUBSAMPLE_FACTOR / max(int(n_nodes), 1))
    return float(subsample)


class Node2Vec(FrameOutputMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
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
        Passes of skip-gram over the walks.
    negative : int, default 5
        Negative samples per positive pair (unigram^0.75 distribution).
    learning_rate, min_learning_rate : float, default 0.025, 0.0001
        Linear decay from the first to the second over all epochs.
    subsample : float or "auto", default "auto"
        Frequent-node subsampling threshold (word2vec's ``sample``; 0
        disables). ``"auto"`` scales it to the graph:
        ``max(1e-3, 10 / n_nodes)``, so on a small graph, where every node is
        "frequent" by word2vec's fixed ``1e-3``, only the hubs are thinned out.
        See ``benchmarks/results/node2vec.md`` for the measurements behind it.
    weight : str or None, default "weight"
        Edge attribute (networkx) or column (edge list) holding weights.
    directed : bool, optional
        ``None`` (default): undirected, unless the graph is a networkx
        ``DiGraph``; a warning names ``directed=True`` when the input looks
        directed. The direction is never inferred (see :func:`graphemb.as_graph`).
    n_jobs : int, optional
        Threads for walks and training: ``None`` means 1, ``-1`` all cores.
    device : str, default "cpu"
        ``"cpu"``: the numba trainer; ``"cuda"`` / ``"cuda:<i>"``: the torch trainer.
    keep_walks : bool, default False
        Keep the walk array as ``walks_``.
    random_state : int, Generator or None
        Seeds the walks and the training.
    verbose : bool, default False
        Progress bars for walks and epochs.

    Attributes
    ----------
    embedding_ : DataFrame of shape (n_nodes, dim)
        float32 columns ``emb_*``, index = node id.
    walks_ : ndarray of shape (n_walks * n_nodes, walk_length), int32, or None
        Node rows (``-1`` pads walks that hit a node without out-neighbours).
    nodes_ : pandas.Index
        The fitted graph's node ids, in row order.
    n_nodes_ : int
        Number of nodes.
    subsample_ : float
        The subsampling threshold used.

    Shapes
    ------
    input: a graph with ``|V|`` nodes, ``|E|`` edges;
    walks: ``(n_walks * |V|, walk_length)``; output: ``(|V|, dim)``.

    Notes
    -----
    Isolated nodes (and nodes no walk reaches) keep their random initial
    vectors (uniform in ``+-0.5/dim``): they get an embedding, but an untrained
    one, close to the origin. A walk that reaches a node without
    out-neighbours (directed graphs) stops there.

    Determinism: walks are a function of ``random_state`` alone, for any
    ``n_jobs``. Training is a function of ``random_state`` with ``n_jobs=1``
    (the default); with more threads Hogwild's lock-free updates vary
    slightly between runs.

    Examples
    --------
    >>> import networkx as nx
    >>> from graphemb import Node2Vec
    >>> emb = Node2Vec(dim=8, walk_length=10, window=3, random_state=0).fit_transform(
    ...     nx.karate_club_graph())
    >>> emb.shape
    (34, 8)
    """

    _parameter_constraints: ClassVar[dict] = {
        "dim": [Interval(numbers.Integral, 1, None, closed="left")],
        "walk_length": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_walks": [Interval(numbers.Integral, 1, None, closed="left")],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "p": [Interval(numbers.Real, 0, None, closed="neither")],
        "q": [Interval(numbers.Real, 0, None, closed="neither")],
        "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "negative": [Interval(numbers.Integral, 0, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_learning_rate": [Interval(numbers.Real, 0, None, closed="left")],
        "subsample": [Interval(numbers.Real, 0, None, closed="left"), StrOptions({"auto"})],
        "weight": [str, None],
        "directed": ["boolean", None],
        "n_jobs": N_JOBS,
        "device": DEVICE,
        "keep_walks": ["boolean"],
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
    }

    def __init__(self, *, dim: int = 128, walk_length: int = 80, n_walks: int = 10, window: int = 10,
                 p: float = 1.0, q: float = 1.0, epochs: int = 1, negative: int = 5,
                 learning_rate: float = 0.025, min_learning_rate: float = 0.0001,
                 subsample: float | str = "auto", weight: str | None = "weight",
                 directed: bool | None = None, n_jobs: int | None = None, device: str = "cpu",
                 keep_walks: bool = False, random_state: Any = None, verbose: bool = False) -> None:
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

    def _validate(self) -> None:
        validate_params(self)
        if self.window >= self.walk_length:
            raise ValueError(f"Node2Vec: window must be < walk_length ({self.walk_length}), "
                             f"got {self.window}")
        check_device(self.device, torch_needed=self.device != "cpu")

    # -- fitting ------------------------------------------------------------------------
    def fit(self, graph: Any, y: Any = None) -> Node2Vec:
        """Walk ``graph`` and train the embeddings.

        Parameters
        ----------
        graph : Graph, networkx graph, edge-list DataFrame, scipy sparse matrix or PyG Data
            See :func:`graphemb.as_graph`; read with this estimator's
            ``directed`` and ``weight``.
        y : None
            Ignored (scikit-learn's signature).

        Returns
        -------
        self : Node2Vec

        Raises
        ------
        ValueError
            For a bad parameter (named), an empty graph or bad edge weights.
        TypeError
            For an unsupported graph type or unhashable node ids.
        """
        self._validate()
        g = as_graph(graph, directed=self.directed, weight=self.weight)
        check_storable_keys(g.nodes, name="graph node ids")  # refused before training, not at save
        rng = check_random_state(self.random_state)
        walk_seed, train_seed = seed_from(rng), seed_from(rng)
        self.subsample_ = subsample_threshold(self.subsample, g.n_nodes)
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
                         n_jobs=effective_n_jobs(self.n_jobs), out=walks[r * n:(r + 1) * n])
        logger.info("node2vec: %d walks of length %d on %r", len(walks), self.walk_length, g)
        return walks

    def _train(self, walks: np.ndarray, n_nodes: int, seed: int) -> np.ndarray:
        from tqdm.auto import tqdm

        kw = dict(dim=int(self.dim), window=int(self.window), negative=int(self.negative),
                  epochs=int(self.epochs), learning_rate=float(self.learning_rate),
                  min_learning_rate=float(self.min_learning_rate), subsample=self.subsample_,
                  seed=seed % (2**62))
        with tqdm(total=int(self.epochs), desc="node2vec epochs", unit="epoch",
                  disable=not self.verbose) as bar:
            if str(self.device) == "cpu":
                return train_skipgram_numba(walks, n_nodes, n_jobs=effective_n_jobs(self.n_jobs),
                                            callback=lambda e: bar.update(1), **kw)
            return train_skipgram_torch(walks, n_nodes, device=str(self.device),
                                        callback=lambda e: bar.update(1), **kw)

    def transform(self, nodes: Iterable[Hashable] | Hashable | None = None) -> pd.DataFrame:
        """Embeddings of ``nodes`` (default: all), as an embeddings DataFrame.

        Parameters
        ----------
        nodes : iterable of node ids, a single node id, or None

        Returns
        -------
        DataFrame of shape (n, dim)
            float32 columns ``emb_*``, index = the node ids asked for.

        Raises
        ------
        NotFittedError
            Before :meth:`fit`.
        KeyError
            Naming node ids that were not in the fitted graph.
        """
        check_is_fitted(self, "embedding_")
        if nodes is None:
            return self.embedding_.copy()
        if isinstance(nodes, (str, bytes)) or not isinstance(nodes, Iterable) or \
                (isinstance(nodes, tuple) and nodes in self.nodes_):  # one id (tuples can be ids)
            nodes = [nodes]
        index = pd.Index(list(nodes), tupleize_cols=False)
        rows = self.nodes_.get_indexer(index)
        if (rows < 0).any():
            missing = list(index[rows < 0][:5])
            raise KeyError(f"nodes: {int((rows < 0).sum())} node(s) not in the fitted graph, e.g. {missing}")
        return embeddings_frame(self.embedding_.to_numpy()[rows], index)

    def fit_transform(self, graph: Any, y: Any = None) -> pd.DataFrame:
        """``fit(graph)``, then the embeddings of every node (index = node id)."""
        return self.fit(graph).transform()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names, ``emb_0 .. emb_{dim-1}`` (object array)."""
        check_is_fitted(self, "embedding_")
        return np.asarray(self.embedding_.columns, dtype=object)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as a ``"node2vec"`` artifact directory (parameters + embeddings).

        Returns
        -------
        pathlib.Path
            The artifact directory.
        """
        check_is_fitted(self, "embedding_")
        params = self.get_params(deep=False)
        rs = self.random_state
        params["random_state"] = rs if rs is None or isinstance(rs, (int, np.integer)) else None
        if isinstance(params["random_state"], np.integer):
            params["random_state"] = int(params["random_state"])
        with ArtifactWriter(path, kind=_KIND, params=params, dim=int(self.dim),
                            counts={"nodes": int(self.n_nodes_)}) as w:
            w.save_frame("embedding", self.embedding_)
            w.save_json("fitted", {"subsample_": float(self.subsample_)})
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Node2Vec:
        """Load a model written by :meth:`save` (checks kind and checksums).

        Raises
        ------
        nnstore.ArtifactError
            For a missing, damaged or other kind of artifact.
        """
        art = read_artifact(path, kind=_KIND)
        known = set(cls().get_params(deep=False))
        model = cls(**{k: v for k, v in art.params.items() if k in known})
        emb = art.load_frame("embedding")
        model.embedding_ = emb.astype(np.float32)
        model.nodes_ = emb.index
        model.n_nodes_ = len(emb)
        model.walks_ = None
        try:
            fitted = art.load_json("fitted")
        except KeyError:  # saved before subsample_ was stored
            fitted = {}
        model.subsample_ = float(fitted.get("subsample_", subsample_threshold(model.subsample,
                                                                              model.n_nodes_)))
        return model
