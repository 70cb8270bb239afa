"""GNNEmbedder: a GNN encoder pre-trained without labels, optionally fine-tuned with them.

The estimator wires the stages, each in its own module:

- input preparation (:mod:`._inputs`): graph, node features, labels;
- pre-training (:mod:`._pretrain`): Deep Graph Infomax or link prediction;
- fine-tuning and the linear probe (:mod:`._finetune`);
- the torch modules (:mod:`._models`);
- parameter constraints and renames (:mod:`._params`), saving and loading (:mod:`._persist`).
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

import nnstore
from nnstore import (
    NotFittedError,
    check_device,
    check_is_fitted,
)

from ._finetune import fit_finetune, fit_probe
from ._inputs import (
    FeatureSchema,
    check_labels,
    check_validation,
    is_pyg_data,
    prepare_features,
    prepare_graph,
    pyg_labels,
    to_tensors,
)
from ._params import CONSTRAINTS, fine_tune_settings, pretrain_settings
from ._persist import load_model, save_model
from ._pretrain import PretrainSettings, train_dgi, train_link

__all__ = ["GNNEmbedder"]

logger = logging.getLogger(__name__)

_MODES = ("finetune", "probe")

class GNNEmbedder(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Node embeddings from a GNN encoder, pre-trained without labels and fine-tuned with them.

    ``fit`` pre-trains the encoder with a self-supervised objective (no
    labels); :meth:`fine_tune` (or ``fit(..., labels=...)``) adds a linear
    classification head and trains it on labelled nodes. ``transform`` on a
    new graph is inductive: one full-graph message-passing pass with the
    trained weights, so nodes unseen in training are embedded from their
    features and their neighbours. Training is full-batch; no neighbour
    sampler (nor pyg-lib or torch-sparse) is needed; memory is
    O(|E| + |V| * width).

    Parameters
    ----------
    encoder : {"gcn", "sage", "gat"}, default "gcn"
        The torch_geometric convolution: ``GCNConv`` (self-loops, symmetric
        normalisation), ``SAGEConv`` (mean aggregation) or ``GATConv``.
    dim : int, default 512
        Embedding dimension (output width of the last layer).
    hidden_dim : int, default 512
        Width of the input projection and of hidden layers (with
        ``encoder="gcn", n_layers=1`` the projection is the layer itself and
        has width ``dim``).
    n_layers : int, default 1
        Number of convolutions; the receptive field is ``n_layers`` hops.
    dropout : float, default 0.0
        Dropout before every convolution during pre-training.
    heads : int, default 4
        Attention heads for ``encoder="gat"``.
    normalize : {"auto", "row", "standard"} or None, default "auto"
        How the model normalises node features before the encoder reads them,
        with statistics measured at ``fit`` and stored with the model:
        ``"row"`` divides each row by the sum of its absolute values (the
        GCN/DGI papers' row normalisation), ``"standard"`` standardises each
        column; ``"auto"`` maps centred or standardised indicator
        columns (two values, one negative) back onto {0, 1}, then row-normalises a sparse
        non-negative input (a bag of words, counts, one-hot codes) and
        standardises anything else, so a bag of words gives the encoder the
        same input raw (0/1), row-normalised or standardised. ``None`` uses
        the features as given. Structural features (no ``features``) are
        always standardised.
    pretrain : {"dgi", "link"} or None, default "dgi"
        Stage-1 objective: Deep Graph Infomax, the GraphSAGE link-prediction
        loss, or ``None`` (random initialisation only).
    epochs : int, default 500
        Maximum pre-training epochs (full-batch steps).
    patience : int, default 20
        Pre-training stops after this many epochs without a lower training
        loss and keeps the weights of the best epoch.
    learning_rate : float, default 1e-3
        Pre-training Adam learning rate.
    l2 : float, default 0.0
        Pre-training L2 penalty (Adam's weight decay).
    n_negatives : int, default 5
        Negative nodes per positive arc for ``pretrain="link"``.
    link_batch_size : int, default 8192
        Positive arcs drawn per epoch for ``pretrain="link"``.
    device : str, default "cpu"
        ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"``; a CUDA device that torch does
        not see is a ``ValueError`` at ``fit``.
    random_state : int, numpy Generator or None, default None
        Seeds initialisation, dropout, corruption and negative sampling, in
        both stages. Same seed and same torch thread count on CPU give
        identical embeddings; torch's global generator is left as it was.
    verbose : bool or int, default False
        Progress bars over epochs.
    lr, weight_decay, pretrain_epochs : deprecated
        Renamed ``learning_rate``, ``l2`` and ``epochs``; the old names warn
        with a ``FutureWarning`` and stop working in graphtab 0.3.
    finetune_epochs, finetune_lr, finetune_encoder_lr, finetune_weight_decay, \
finetune_dropout, finetune_patience, warm_start, probe_epochs, probe_lr, \
probe_weight_decay : deprecated
        Moved to :meth:`fine_tune` (``epochs``, ``learning_rate``,
        ``encoder_learning_rate``, ``l2``, ``dropout``, ``patience``,
        ``probe_first``, ``probe_epochs``, ``probe_learning_rate``,
        ``probe_l2``); set here they still apply, with a ``FutureWarning``.

    Attributes
    ----------
    embedding_ : DataFrame of shape (n_nodes, dim)
        Embeddings of the training graph's nodes (index = node id).
    classes_ : ndarray of shape (n_classes,) or None
        Class labels after :meth:`fine_tune` (whole-number float labels, as a
        Series with NaN holes holds them, become ints).
    feature_source_ : {"features", "structural"}
        What the encoder reads: the given features (plus a missing-row
        indicator column) or structural statistics of the graph.
    feature_columns_ : list of str
        The input columns, in order (the feature schema); columns of an array
        input are named ``feature_0 ...``.
    n_features_in_ : int
        Input width of the encoder.
    pretrain_history_ : list of float
        Pre-training loss per epoch.
    finetune_mode_ : str or None
    finetune_history_ : list of dict
        Epochs of the last :meth:`fine_tune`: ``stage`` ("probe" or
        "finetune"), ``epoch``, training ``loss`` and, with ``validation``,
        ``val_accuracy`` and ``val_loss``.
    best_epoch_ : int or None
        The epoch of the last stage whose weights were kept (by validation
        accuracy; 0 = the starting point), ``None`` without ``validation``.

    Shapes
    ------
    - ``graph``: ``|V|`` nodes, ``|E|`` edges (anything :func:`graphemb.as_graph`
      reads, or a ``torch_geometric`` ``Data`` whose ``x`` holds the features);
    - ``features``: a DataFrame ``(n_rows <= |V|, F)`` indexed by node id, or an
      array / scipy sparse matrix / tensor ``(|V|, F)`` in the graph's node order;
    - ``labels``: Series indexed by node id, or an array ``(|V|,)`` in node
      order (NaN = unlabelled);
    - :meth:`transform`: DataFrame ``(|V|, dim)``, float32, columns ``emb_*``;
    - :meth:`predict_proba`: DataFrame ``(|V|, n_classes)``.

    Notes
    -----
    The defaults (a 1-layer GCN, 512 wide, PReLU, Deep Graph Infomax with Adam
    at 1e-3 and early stopping on its loss, ``normalize="auto"``) were
    chosen on validation nodes; the measurements are in
    ``benchmarks/results/gnn.md``. Nodes without a feature row get zeros and a
    1 in an extra indicator column; NaN features are an error. Without
    ``features`` the encoder reads structural statistics (log-degree,
    neighbour degrees, clustering, 2-step return probability, PageRank).

    Examples
    --------
    >>> import networkx as nx, numpy as np
    >>> from graphemb import GNNEmbedder
    >>> G = nx.karate_club_graph()
    >>> X = np.eye(34, dtype=np.float32)
    >>> emb = GNNEmbedder(dim=8, epochs=5, random_state=0).fit(G, X).transform()
    >>> emb.shape
    (34, 8)
    """

    _parameter_constraints: ClassVar[dict] = CONSTRAINTS

    def __init__(self, *, encoder: str = "gcn", dim: int = 512, hidden_dim: int = 512, n_layers: int = 1,
                 dropout: float = 0.0, heads: int = 4, normalize: str | None = "auto",
                 pretrain: str | None = "dgi", epochs: int = 500, patience: int = 20,
                 learning_rate: float = 1e-3, l2: float = 0.0, n_negatives: int = 5,
                 link_batch_size: int = 8192, device: str = "cpu", random_state: Any = None,
                 verbose: bool | int = False,
                 lr: Any = "deprecated", weight_decay: Any = "deprecated",
                 pretrain_epochs: Any = "deprecated",
                 finetune_epochs: Any = "deprecated", finetune_lr: Any = "deprecated",
                 finetune_encoder_lr: Any = "deprecated", finetune_weight_decay: Any = "deprecated",
                 finetune_dropout: Any = "deprecated", finetune_patience: Any = "deprecated",
                 warm_start: Any = "deprecated", probe_epochs: Any = "deprecated",
                 probe_lr: Any = "deprecated", probe_weight_decay: Any = "deprecated") -> None:
        self.encoder = encoder
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.dropout = dropout
        self.heads = heads
        self.normalize = normalize
        self.pretrain = pretrain
        self.epochs = epochs
        self.patience = patience
        self.learning_rate = learning_rate
        self.l2 = l2
        self.n_negatives = n_negatives
        self.link_batch_size = link_batch_size
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.lr = lr
        self.weight_decay = weight_decay
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.finetune_lr = finetune_lr
        self.finetune_encoder_lr = finetune_encoder_lr
        self.finetune_weight_decay = finetune_weight_decay
        self.finetune_dropout = finetune_dropout
        self.finetune_patience = finetune_patience
        self.warm_start = warm_start
        self.probe_epochs = probe_epochs
        self.probe_lr = probe_lr
        self.probe_weight_decay = probe_weight_decay

    # ------------------------------------------------------------------ checks
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")

    def _check_params(self) -> PretrainSettings:
        """Validate the constructor arguments; the pre-training settings they give."""
        return pretrain_settings(self)

    @property
    def _torch_device(self):
        import torch

        return torch.device(check_device(self.device))

    # ---------------------------------------------------------------- randomness
    def _seed(self, stage: int) -> int:
        base = nnstore.seed_from(nnstore.check_random_state(self.random_state))
        return int(np.random.SeedSequence([base, stage]).generate_state(1, np.uint64)[0] >> 1)

    @contextmanager
    def _rng(self, seed: int):
        """A ``torch.Generator`` seeded with ``seed`` for the explicit draws; torch's global
        generator (which weight initialisation and dropout read) is forked, seeded with the same
        seed and restored on exit, so the caller's global state is never changed."""
        import torch

        dev = self._torch_device
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()] \
            if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield nnstore.torch_generator(seed, device=dev)

    def _bar(self, n: int, desc: str):
        from tqdm.auto import trange

        return trange(n, desc=desc, disable=not self.verbose, leave=False)

    # ------------------------------------------------------------------- inputs
    def _inputs(self, graph: Any, features: Any, *, fitting: bool, used: tuple[str, ...] = (),
                caller: str = "fit"):
        """Graph, features and message structure as tensors, and the feature schema (measured when
        ``fitting``, the fitted one otherwise; see :mod:`._inputs`)."""
        g, features = prepare_graph(graph, features, used=used, caller=caller)
        X, schema = prepare_features(g, features, None if fitting else self._schema,
                                     self.normalize if fitting else None)
        x, structure = to_tensors(g, X, self.encoder, self._torch_device)
        return g, x, structure, schema

    def _set_schema(self, schema: FeatureSchema) -> None:
        self._schema = schema
        self.feature_source_ = schema.source
        self.feature_columns_ = list(schema.columns)
        self.n_features_in_ = len(schema.columns)

    # ----------------------------------------------------------------- training
    def _build(self, in_dim: int, seed: int) -> None:
        from ._models import GNNEncoder

        with self._rng(seed):
            self.encoder_ = GNNEncoder(in_dim, int(self.hidden_dim), int(self.dim), int(self.n_layers),
                                       self.encoder, float(self.dropout),
                                       int(self.heads)).to(self._torch_device)
        self.head_ = None
        self.classes_ = None
        self.finetune_mode_ = None
        self.pretrain_history_ = []
        self.finetune_history_ = []
        self.best_epoch_ = None

    def _embed(self, x, structure) -> np.ndarray:
        import torch

        self.encoder_.eval()
        with torch.no_grad():
            return self.encoder_(x, structure).detach().cpu().numpy().astype(np.float32)

    def fit(self, graph: Any, features: Any = None, labels: Any = None) -> GNNEmbedder:
        """Pre-train a fresh encoder, then, if ``labels`` are given, fine-tune it.

        Parameters
        ----------
        graph : graph input
            Anything :func:`graphemb.as_graph` reads; a ``torch_geometric``
            ``Data`` lends its ``x`` as ``features``.
        features : DataFrame, ndarray, scipy sparse matrix or tensor, optional
            A DataFrame indexed by node id, or one row per node in the graph's
            node order; ``None`` (and no ``Data.x``) uses structural features.
        labels : Series or array, optional
            Class per node (NaN = unlabelled): ``fine_tune(graph, labels,
            features)`` with its defaults follows pre-training.

        Returns
        -------
        self : GNNEmbedder

        Raises
        ------
        ValueError
            A bad parameter (named) or bad input (see :meth:`fine_tune` for labels).
        TypeError
            An input of an unsupported type.

        Warns
        -----
        UserWarning
            ``Data`` attributes that are not used (``y`` without ``labels``).
        """
        self.pretrain_graph(graph, features, _used=("y",) if labels is not None else ())
        if labels is not None:
            self.fine_tune(graph, labels, features=features, mode="finetune")
        return self

    def pretrain_graph(self, graph: Any, features: Any = None, *, _used: tuple[str, ...] = ()) -> GNNEmbedder:
        """Pre-training only: build a fresh encoder and train it with ``pretrain`` (no labels).

        ``pretrain`` is the objective's parameter, hence this name; with
        ``pretrain=None`` the encoder is only initialised. Parameters as in
        :meth:`fit` (without ``labels``).

        Returns
        -------
        self : GNNEmbedder
        """
        settings = self._check_params()
        g, x, structure, schema = self._inputs(graph, features, fitting=True, used=_used, caller="fit")
        nnstore.check_storable_keys(g.nodes, name="graph node ids")  # refused before training
        seed = self._seed(1)
        self._build(x.shape[1], seed)
        if self.pretrain is not None and settings.epochs > 0:
            if self.pretrain == "link" and g.n_arcs == 0:
                raise ValueError("pretrain='link' needs a graph with edges; this graph has none")
            with self._rng(seed + 1) as gen:
                if self.pretrain == "dgi":
                    self.pretrain_history_ = train_dgi(self.encoder_, x, structure, settings, gen,
                                                       self._bar(settings.epochs, "DGI pre-training"))
                else:
                    self.pretrain_history_ = train_link(self.encoder_, g, x, structure, settings, gen,
                                                        self._bar(settings.epochs, "link pre-training"))
        self._set_schema(schema)  # fitted state is complete only once training succeeded
        self.graph_ = g
        self.embedding_ = nnstore.embeddings_frame(self._embed(x, structure), g.nodes)
        return self

    def fine_tune(self, graph: Any, labels: Any = None, features: Any = None, *, mode: str = "finetune",
                  validation: Any = None, epochs: int = 200, learning_rate: float = 0.01,
                  encoder_learning_rate: float | None = 1e-3, l2: float = 5e-4, dropout: float | None = 0.5,
                  patience: int = 50, probe_first: bool = True, probe_epochs: int = 100,
                  probe_learning_rate: float = 0.01, probe_l2: float = 0.0) -> GNNEmbedder:
        """A linear classification head on the embeddings, trained on the labelled nodes.

        Parameters
        ----------
        graph : graph input
            Usually the pre-training graph; it must contain every labelled node.
        labels : Series or array, optional
            Class per node id (any hashable classes), or a 1-D array in the
            graph's node order; NaN or absent = unlabelled. ``None`` with a
            ``torch_geometric`` ``Data``: its ``y`` on its ``train_mask`` (all
            nodes without a mask).
        features : DataFrame, ndarray, sparse matrix or tensor, optional
            As at pre-training (same columns), or ``None`` for structural
            features or a ``Data`` with ``x``.
        mode : {"finetune", "probe"}, default "finetune"
            ``"probe"``: the encoder is frozen; only the head (a logistic
            regression on the embeddings) is trained. ``"finetune"``: with
            ``probe_first`` the head is first fitted as that probe, then
            encoder and head are trained together (LP-FT, Kumar et al. 2022).
        validation : Series or array, optional
            Class per node for model selection (classes among those of
            ``labels``; NaN = ignored). Each stage keeps the weights of its
            epoch with the best validation accuracy (ties: lower validation
            loss), counting the starting point; fine-tuning stops after
            ``patience`` epochs without improvement. Without it, the last
            epoch's weights are kept.
        epochs : int, default 200
            Maximum epochs of encoder + head training (``mode="finetune"``).
        learning_rate : float, default 0.01
            Adam learning rate of the head.
        encoder_learning_rate : float or None, default 1e-3
            Adam learning rate of a pre-trained encoder (moved less than the
            fresh head); ``None``: ``learning_rate``. An encoder that was not
            pre-trained always uses ``learning_rate``.
        l2 : float, default 5e-4
            L2 penalty (Adam weight decay) of encoder and head.
        dropout : float or None, default 0.5
            Dropout during fine-tuning (before every convolution and before
            the head); ``None``: the constructor's ``dropout``.
        patience : int, default 50
            Fine-tuning epochs without a better validation accuracy before it stops.
        probe_first : bool, default True
            ``mode="finetune"`` starts from the probe's head instead of a random one.
        probe_epochs : int, default 100
            Epochs of the probe (cheap: fixed embeddings).
        probe_learning_rate : float, default 0.01
            Adam learning rate of the probe.
        probe_l2 : float, default 0.0
            L2 penalty of the probe.

        Returns
        -------
        self : GNNEmbedder
            ``finetune_history_`` holds the per-epoch losses (and validation
            accuracies), ``best_epoch_`` the kept epoch. Not fitted yet: a
            freshly initialised encoder is trained (supervised, from scratch).

        Raises
        ------
        ValueError
            Labels with unknown node ids, fewer than 2 classes or no labelled
            node; validation classes that ``labels`` lacks; a bad argument (named).
        TypeError
            ``labels`` or ``validation`` neither a Series nor an array.
        """
        import torch

        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self._check_params()
        settings = fine_tune_settings(self, dict(
            epochs=epochs, learning_rate=learning_rate, encoder_learning_rate=encoder_learning_rate, l2=l2,
            dropout=dropout, patience=patience, probe_first=probe_first, probe_epochs=probe_epochs,
            probe_learning_rate=probe_learning_rate, probe_l2=probe_l2))
        fresh = not hasattr(self, "encoder_")
        g, x, structure, schema = self._inputs(graph, features, fitting=fresh, used=("y", "train_mask"),
                                               caller="fine_tune")
        if labels is None:
            if not is_pyg_data(graph):
                raise ValueError("labels is required (a Series by node id or an array in node order)")
            labels = pyg_labels(graph, g)
        if fresh:
            self._build(x.shape[1], self._seed(1))
        rows, y, classes = check_labels(g, labels)
        dev = self._torch_device
        rows_t = torch.from_numpy(rows.astype(np.int64)).to(dev)
        y_t = torch.from_numpy(y).to(dev)
        val = None
        if validation is not None:
            vrows, vy = check_validation(g, validation, classes)
            val = (torch.from_numpy(vrows.astype(np.int64)).to(dev), torch.from_numpy(vy).to(dev))
        history: list[dict] = []
        best_epoch = None
        with self._rng(self._seed(2)):
            head = torch.nn.Linear(int(self.dim), len(classes)).to(dev)
            if mode == "probe" or settings.probe_first:
                z = torch.from_numpy(self._embed(x, structure)).to(dev)
                best_epoch = fit_probe(head, z, rows_t, y_t, val, settings, history,
                                       self._bar(settings.probe_epochs + 1, "probe"))
            if mode == "finetune":
                pretrained = len(self.pretrain_history_) > 0
                enc_lr = settings.encoder_learning_rate \
                    if pretrained and settings.encoder_learning_rate is not None else settings.learning_rate
                best_epoch = fit_finetune(self.encoder_, head, x, structure, rows_t, y_t, val, settings,
                                          float(enc_lr), history, self._bar(settings.epochs + 1, "fine-tune"))
        head.eval()
        self._set_schema(schema)
        self.head_ = head
        self.classes_ = classes
        self.finetune_mode_ = mode
        self.finetune_history_ = history
        self.best_epoch_ = best_epoch
        self.graph_ = g
        self.embedding_ = nnstore.embeddings_frame(self._embed(x, structure), g.nodes)
        return self

    # ---------------------------------------------------------------- inference
    def transform(self, graph: Any = None, features: Any = None) -> pd.DataFrame:
        """Node embeddings.

        Parameters
        ----------
        graph : graph input, optional
            ``None``: the training graph's embeddings (``embedding_``). A graph
            (which may contain nodes never seen in training): one full-graph
            message-passing pass over it with the trained weights (inductive).
        features : DataFrame, ndarray, sparse matrix or tensor, optional
            The new graph's node features with the training columns (by name
            for a DataFrame, by position for an array); ``None`` for a model
            trained on structural features.

        Returns
        -------
        DataFrame of shape (|V|, dim)
            float32, index = node id, columns ``emb_0 ...`` (whatever ``set_output`` says).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ValueError
            Features that do not match the training schema.
        """
        check_is_fitted(self)
        if graph is None:
            if features is not None:
                raise ValueError("features were given without a graph: pass the graph they belong to")
            return self.embedding_.copy()
        g, x, structure, _ = self._inputs(graph, features, fitting=False, caller="transform")
        return nnstore.embeddings_frame(self._embed(x, structure), g.nodes)

    def fit_transform(self, graph: Any, features: Any = None, labels: Any = None) -> pd.DataFrame:
        """``fit(graph, features, labels)``, then the training graph's embeddings."""
        return self.fit(graph, features, labels).transform()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output column names, ``emb_0 ... emb_{dim-1}``.

        Returns
        -------
        ndarray of str objects, shape (dim,)
        """
        return np.asarray([f"emb_{i}" for i in range(int(self.dim))], dtype=object)

    def set_output(self, *, transform: str | None = None) -> GNNEmbedder:
        """Choose the container ``transform`` and ``fit_transform`` return.

        Parameters
        ----------
        transform : {"default", "pandas"} or None
            Both give the embeddings DataFrame (index = node id, float32
            columns ``emb_*``), this estimator's only output container;
            ``None`` leaves the setting unchanged.

        Returns
        -------
        self : GNNEmbedder

        Raises
        ------
        ValueError
            For any other container (``"polars"``, ...).
        """
        if transform not in (None, "default", "pandas"):
            raise ValueError(f"graphemb.GNNEmbedder.set_output: transform must be 'default' or 'pandas' "
                             f"(the outputs are DataFrames indexed by node id), got {transform!r}")
        if transform is not None:
            self._sklearn_output_config = {"transform": transform}
        return self

    def predict_proba(self, graph: Any = None, features: Any = None) -> pd.DataFrame:
        """Class probabilities from the fine-tuned head.

        Returns
        -------
        DataFrame of shape (|V|, n_classes)
            Index = node id, columns = ``classes_``.

        Raises
        ------
        NotFittedError
            Before ``fit``, or without a head (no :meth:`fine_tune` yet).
        """
        import torch

        check_is_fitted(self)
        if self.head_ is None:
            raise NotFittedError("predict needs a classification head: call fine_tune (or fit with labels)")
        emb = self.transform(graph, features)
        with torch.no_grad():
            z = torch.from_numpy(np.array(emb.to_numpy(dtype=np.float32))).to(self._torch_device)
            p = torch.softmax(self.head_(z), dim=1).cpu().numpy()
        return pd.DataFrame(p, index=emb.index, columns=pd.Index(self.classes_))

    def predict(self, graph: Any = None, features: Any = None) -> pd.Series:
        """Predicted class per node: Series indexed by node id (see :meth:`predict_proba`)."""
        proba = self.predict_proba(graph, features)
        return pd.Series(self.classes_[proba.to_numpy().argmax(axis=1)], index=proba.index,
                         name="prediction")

    # -------------------------------------------------------------- save / load
    def save(self, path: str | os.PathLike) -> Path:
        """Save as a ``gnn_embedder`` artifact (state dicts, params, feature schema, embeddings).

        Returns
        -------
        Path
            The artifact directory; a previous artifact there is replaced only
            once the new one is complete.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_is_fitted(self)
        return save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str | None = None) -> GNNEmbedder:
        """Load a saved model, optionally onto another ``device``.

        Artifacts written before the parameter renames load too (their old
        names are read as the new ones).

        Raises
        ------
        nnstore.ArtifactError
            Not a ``gnn_embedder`` artifact, or a damaged one.
        """
        return load_model(cls, path, device=device)
