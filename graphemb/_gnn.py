"""GNNEmbedder: GNN encoders with a two-stage pipeline (pre-train, then fine-tune).

Stage 1 (no labels) trains the encoder with a self-supervised objective:

- ``pretrain="dgi"``: Deep Graph Infomax (Velickovic et al., ICLR 2019): the
  encoder learns node embeddings that a bilinear discriminator can tell apart
  from the embeddings of a corrupted graph (features shuffled across nodes),
  with respect to a graph summary vector;
- ``pretrain="link"``: the GraphSAGE unsupervised loss (Hamilton et al., 2017):
  linked nodes get a high dot product, ``n_negatives`` uniformly drawn nodes
  per positive arc a low one (binary cross-entropy on the logits);
- ``pretrain=None``: no stage 1 (random initialisation).

Stage 2 (labels, :meth:`GNNEmbedder.fine_tune`) adds a linear classification
head on the embeddings and either trains encoder and head together
(``mode="finetune"``) or freezes the encoder and fits the head alone, a
linear probe (``mode="probe"``). Either way ``embedding_`` afterwards holds the
(possibly fine-tuned) encoder's embeddings.

Training is full-batch (the whole graph in every step). ``transform`` on a new
graph is inductive: one full-graph message-passing pass over the new graph
with the trained weights, so nodes that were not in the training graph are
embedded from their features and their neighbours (old or new). No neighbour
sampler is needed or used (so neither pyg-lib nor torch-sparse): memory is
O(|E| + |V| * hidden_dim).

Reproducibility: all randomness comes from ``random_state``; weight
initialisation and dropout (which use torch's global generator inside PyG and
torch) run inside ``torch.random.fork_rng`` seeded from it, so the global
torch seed is neither read nor changed; corruption permutations and negative
samples use a local ``torch.Generator``. Same seed + same torch thread count
on CPU gives identical embeddings.
"""

from __future__ import annotations

import copy
import logging
import os
import warnings
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

import nnstore
from nnstore import NotFittedError

from ._features import MISSING_COLUMN, STRUCTURAL_COLUMNS, align_features, structural_features
from ._graph import Graph, as_graph

__all__ = ["GNNEmbedder"]

logger = logging.getLogger(__name__)

KIND = "gnn_embedder"
_PRETRAIN = ("dgi", "link", None)
_MODES = ("finetune", "probe")
_SPARSE_DENSITY = 0.1  # inputs sparser than this are multiplied as sparse tensors


class GNNEmbedder(BaseEstimator):
    """Node embeddings from a GNN encoder, pre-trained without labels and fine-tuned with them.

    Parameters
    ----------
    encoder : {"sage", "gcn", "gat"}, default "sage"
        The torch_geometric convolution (``SAGEConv`` mean aggregation,
        ``GCNConv`` with self-loops and symmetric normalisation, ``GATConv``).
    hidden_dim : int, default 256
        Width of the input projection and of hidden layers.
    dim : int, default 128
        Embedding dimension (output width of the last layer).
    n_layers : int, default 2
        Number of convolutions; the receptive field is ``n_layers`` hops.
    dropout : float, default 0.0
        Dropout before every convolution, in both stages.
    heads : int, default 4
        Attention heads for ``encoder="gat"``.
    pretrain : {"dgi", "link", None}, default "dgi"
        Stage-1 objective (see the module docstring).
    pretrain_epochs : int, default 300
        Maximum stage-1 epochs (full-batch steps).
    patience : int, default 20
        Stage 1 stops after this many epochs without a lower training loss and
        keeps the weights of the best epoch.
    lr : float, default 1e-3
        Stage-1 Adam learning rate.
    weight_decay : float, default 0.0
        Stage-1 Adam weight decay.
    n_negatives : int, default 5
        Negative nodes per positive arc for ``pretrain="link"``.
    link_batch_size : int, default 8192
        Positive arcs drawn per epoch for ``pretrain="link"``.
    finetune_epochs : int, default 200
        Maximum stage-2 epochs (full-batch steps) for ``mode="finetune"``.
    finetune_lr : float, default 0.01
        Stage-2 Adam learning rate of the classification head.
    finetune_encoder_lr : float or None, default 1e-3
        Stage-2 Adam learning rate of the encoder (``mode="finetune"``); a
        pre-trained encoder is moved less than the fresh head. ``None`` = the
        same as ``finetune_lr`` (what training from scratch, ``pretrain=None``, wants).
    finetune_weight_decay : float, default 5e-4
        Stage-2 Adam weight decay (encoder and head).
    finetune_dropout : float or None, default 0.5
        Dropout during ``mode="finetune"`` (before every convolution and before
        the head); ``None`` = ``dropout``.
    finetune_patience : int, default 50
        With ``validation`` labels: stage 2 stops after this many epochs
        without a better validation accuracy and keeps the best epoch's weights.
    warm_start : bool, default True
        ``mode="finetune"`` first fits the head as a linear probe on the frozen
        encoder, then trains encoder and head together (LP-FT, Kumar et al.
        2022); ``False``: both start together from a random head.
    probe_epochs : int, default 100
        Epochs of the linear probe (``mode="probe"`` and the warm start);
        cheap: only the head is trained, on fixed embeddings.
    probe_lr : float, default 0.01
        Adam learning rate of the probe.
    probe_weight_decay : float, default 0.0
        Adam weight decay of the probe (the DGI paper's probe: lr 0.01, no weight
        decay, 100 epochs).
    device : str, default "cpu"
        ``"cpu"`` or ``"cuda"`` (``"cuda:1"``...); refused with a clear error
        when torch sees no CUDA device.
    random_state : int, numpy Generator or None
        Seeds initialisation, dropout, corruption and negative sampling.
    verbose : bool, default False
        Progress bars over epochs.

    Attributes
    ----------
    embedding_ : DataFrame of shape (n_nodes, dim)
        Embeddings of the training graph's nodes (index = node id).
    classes_ : ndarray of shape (n_classes,) or None
        Class labels after :meth:`fine_tune` (whole-number float labels, as a
        Series with NaN holes holds them, become ints).
    feature_source_ : {"features", "structural"}
        What the encoder reads: the given DataFrame's columns (plus a
        missing-row indicator) or structural statistics of the graph.
    feature_columns_ : list of str
        The input columns, in order (the feature schema).
    n_features_in_ : int
        Input width of the encoder.
    pretrain_history_ : list of float
        Stage-1 loss per epoch.
    finetune_mode_ : str or None
    finetune_history_ : list of dict
        Stage-2 epochs of the last :meth:`fine_tune`: ``stage`` ("probe" or
        "finetune"), ``epoch``, training ``loss`` and, with ``validation``,
        ``val_accuracy`` and ``val_loss``.
    best_epoch_ : int or None
        The epoch of the last stage whose weights were kept (by validation
        accuracy; 0 = the starting point), ``None`` without ``validation``.

    Shapes
    ------
    - ``graph``: ``|V|`` nodes, ``|E|`` edges (anything :func:`graphemb.as_graph` reads);
    - ``features``: DataFrame ``(n_rows <= |V|, F)`` indexed by node id;
    - ``labels``: Series indexed by node id (NaN or absent = unlabelled);
    - :meth:`transform`: DataFrame ``(|V|, dim)``, float32, columns ``emb_*``;
    - :meth:`predict_proba`: DataFrame ``(|V|, n_classes)``.

    Notes
    -----
    Node features (see :mod:`graphemb._features`): nodes without a feature
    row get zeros and a 1 in an extra indicator column; NaN features are an
    error. Without ``features`` the encoder reads structural statistics
    (log-degree, neighbour degrees, clustering, 2-step return probability,
    PageRank). Node2Vec (or any other) embeddings become features by passing
    their embeddings DataFrame as ``features``.
    """

    def __init__(self, *, encoder: str = "sage", hidden_dim: int = 256, dim: int = 128,
                 n_layers: int = 2, dropout: float = 0.0, heads: int = 4,
                 pretrain: str | None = "dgi", pretrain_epochs: int = 300, patience: int = 20,
                 lr: float = 1e-3, weight_decay: float = 0.0, n_negatives: int = 5,
                 link_batch_size: int = 8192, finetune_epochs: int = 200, finetune_lr: float = 0.01,
                 finetune_encoder_lr: float | None = 1e-3, finetune_weight_decay: float = 5e-4,
                 finetune_dropout: float | None = 0.5, finetune_patience: int = 50,
                 warm_start: bool = True, probe_epochs: int = 100, probe_lr: float = 0.01,
                 probe_weight_decay: float = 0.0, device: str = "cpu",
                 random_state: Any = None, verbose: bool = False) -> None:
        self.encoder = encoder
        self.hidden_dim = hidden_dim
        self.dim = dim
        self.n_layers = n_layers
        self.dropout = dropout
        self.heads = heads
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.patience = patience
        self.lr = lr
        self.weight_decay = weight_decay
        self.n_negatives = n_negatives
        self.link_batch_size = link_batch_size
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
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        from ._gnn_models import ENCODERS

        if self.encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {self.encoder!r}")
        if self.pretrain not in _PRETRAIN:
            raise ValueError(f"pretrain must be one of {_PRETRAIN}, got {self.pretrain!r}")
        for name in ("hidden_dim", "dim", "n_layers", "heads", "n_negatives", "link_batch_size",
                     "patience", "finetune_patience"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("pretrain_epochs", "finetune_epochs", "probe_epochs"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be a non-negative int, got {v!r}")
        for name in ("dropout", "finetune_dropout"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= float(v) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")
        for name in ("lr", "finetune_lr", "finetune_encoder_lr", "probe_lr"):
            v = getattr(self, name)
            if v is not None and not float(v) > 0:
                raise ValueError(f"{name} must be > 0, got {v!r}")
        for name in ("weight_decay", "finetune_weight_decay", "probe_weight_decay"):
            if not float(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        self._torch_device()

    def _torch_device(self):
        import torch

        try:
            dev = torch.device(self.device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"device must be 'cpu' or 'cuda[:i]', got {self.device!r}") from e
        if dev.type == "cuda":
            if not torch.cuda.is_available():
                raise ValueError(f"device={self.device!r} was requested but torch sees no CUDA device "
                                 f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); "
                                 "use device='cpu'")
            if dev.index is not None and dev.index >= torch.cuda.device_count():
                raise ValueError(f"device={self.device!r}: only {torch.cuda.device_count()} CUDA "
                                 "device(s) visible")
        elif dev.type != "cpu":
            raise ValueError(f"device must be 'cpu' or 'cuda[:i]', got {self.device!r}")
        return dev

    def _check_fitted(self) -> None:
        if not hasattr(self, "encoder_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit, pretrain "
                                 "or fine_tune first, or load a saved model")

    # ---------------------------------------------------------------- randomness
    def _seed(self, stage: int) -> int:
        base = nnstore.seed_from(nnstore.check_random_state(self.random_state))
        return int(np.random.SeedSequence([base, stage]).generate_state(1, np.uint64)[0] >> 1)

    @contextmanager
    def _rng(self, seed: int):
        """Isolate torch's global RNG (used by init and dropout) and seed it."""
        import torch

        dev = self._torch_device()
        devices = [dev.index if dev.index is not None else torch.cuda.current_device()] \
            if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield nnstore.torch_generator(seed, device=dev)

    # ------------------------------------------------------------------- inputs
    def _inputs(self, graph: Any, features: pd.DataFrame | None, *, fitting: bool):
        """Graph + aligned input matrix as torch tensors on the device."""
        import torch

        g = as_graph(graph)
        if fitting:
            if features is None:
                S = structural_features(g)
                mean, std = S.mean(axis=0), S.std(axis=0)
                std = np.where(std > 1e-8, std, 1.0).astype(np.float32)
                self.feature_source_ = "structural"
                self.feature_columns_ = list(STRUCTURAL_COLUMNS)
                self.struct_mean_, self.struct_std_ = mean.astype(np.float32), std
                X = (S - mean) / std
            else:
                X, cols, missing = align_features(g, features, name="features")
                self.feature_source_ = "features"
                self.feature_columns_ = [*cols, MISSING_COLUMN]
                if missing.any():
                    logger.info("%d of %d nodes have no feature row: zeros + indicator",
                                int(missing.sum()), g.n_nodes)
            self.n_features_in_ = X.shape[1]
        else:
            if self.feature_source_ == "structural":
                if features is not None:
                    raise ValueError("this model was trained on structural features (fit without "
                                     "features); transform must be called without features")
                X = (structural_features(g) - self.struct_mean_) / self.struct_std_
            else:
                if features is None:
                    raise ValueError("this model was trained on node features: pass features "
                                     "(a DataFrame indexed by node id) for the new graph")
                X, _, _ = align_features(g, features, columns=self.feature_columns_[:-1],
                                         name="features")
        dev = self._torch_device()
        X = np.ascontiguousarray(X, dtype=np.float32)
        nnz = np.count_nonzero(X)
        if X.size and nnz / X.size < _SPARSE_DENSITY:
            r, c = np.nonzero(X)
            x = torch.sparse_coo_tensor(torch.from_numpy(np.vstack([r, c]).astype(np.int64)),
                                        torch.from_numpy(X[r, c]), size=X.shape,
                                        check_invariants=False).coalesce()
            with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
                warnings.simplefilter("ignore", UserWarning)
                x = x.to_sparse_csr().to(dev)  # CSR: about 2x faster than COO in the projection + its grad
        else:
            x = torch.from_numpy(X).to(dev)
        ei = torch.from_numpy(g.edge_index()).to(dev)
        from ._gnn_models import message_structure

        return g, x, message_structure(ei, g.n_nodes, self.encoder)

    def _check_labels(self, g: Graph, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Labelled rows, class indices, classes."""
        if isinstance(labels, pd.DataFrame):
            if labels.shape[1] != 1:
                raise ValueError(f"labels must be a Series (or one-column DataFrame) indexed by node id, "
                                 f"got a DataFrame with columns {list(labels.columns)[:5]}")
            labels = labels.iloc[:, 0]
        if not isinstance(labels, pd.Series):
            raise TypeError(f"labels must be a pandas Series indexed by node id, got {type(labels).__name__}")
        if not labels.index.is_unique:
            dup = labels.index[labels.index.duplicated()].unique()[:5].tolist()
            raise ValueError(f"labels index must be unique node ids; repeated: {dup}")
        rows = g.nodes.get_indexer(labels.index)
        if (rows < 0).any():
            unknown = labels.index[rows < 0]
            raise ValueError(f"labels has {len(unknown)} node id(s) not in the graph, "
                             f"e.g. {unknown[:5].tolist()}")
        known = labels.notna().to_numpy()
        if not known.any():
            raise ValueError("labels has no labelled node (all values are missing)")
        values = labels.to_numpy()[known]
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)  # integer classes in a float Series (NaN = unlabelled)
        classes, y = np.unique(values, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"labels must have at least 2 classes, got {classes.tolist()}")
        return rows[known], y.astype(np.int64), classes

    # ----------------------------------------------------------------- training
    def _build(self, in_dim: int, seed: int) -> None:
        from ._gnn_models import GNNEncoder

        with self._rng(seed):
            self.encoder_ = GNNEncoder(in_dim, int(self.hidden_dim), int(self.dim), int(self.n_layers),
                                       self.encoder, float(self.dropout),
                                       int(self.heads)).to(self._torch_device())
        self.head_ = None
        self.classes_ = None
        self.finetune_mode_ = None
        self.pretrain_history_ = []
        self.finetune_history_ = []
        self.best_epoch_ = None

    def _bar(self, n: int, desc: str):
        from tqdm.auto import trange

        return trange(n, desc=desc, disable=not self.verbose, leave=False)

    def _embed(self, x, ei) -> np.ndarray:
        import torch

        self.encoder_.eval()
        with torch.no_grad():
            return self.encoder_(x, ei).detach().cpu().numpy().astype(np.float32)

    def fit(self, graph: Any, features: pd.DataFrame | None = None, labels: Any = None) -> GNNEmbedder:
        """Stage 1 (``pretrain``), then, if ``labels`` are given, stage 2 (fine-tuning).

        Parameters
        ----------
        graph : graph input, ``|V|`` nodes
        features : DataFrame of shape (n_rows, F), optional
            Indexed by node id; ``None`` uses structural features.
        labels : Series, optional
            Class per node id; NaN/absent = unlabelled.

        Returns
        -------
        self
        """
        self.pretrain_graph(graph, features)
        if labels is not None:
            self.fine_tune(graph, labels, features=features, mode="finetune")
        return self

    def pretrain_graph(self, graph: Any, features: pd.DataFrame | None = None) -> GNNEmbedder:
        """Stage 1 only: build a fresh encoder and train it with ``pretrain`` (no labels).

        ``pretrain`` is also the name of the objective parameter, so this
        method is called ``pretrain_graph``; with ``pretrain=None`` it only
        initialises the encoder. Returns ``self``.
        """
        self._check_params()
        g, x, ei = self._inputs(graph, features, fitting=True)
        nnstore.check_storable_keys(g.nodes, name="graph node ids")  # refused before training
        seed = self._seed(1)
        self._build(x.shape[1], seed)
        if self.pretrain is not None and self.pretrain_epochs > 0:
            if self.pretrain == "link" and g.n_arcs == 0:
                raise ValueError("pretrain='link' needs a graph with edges; this graph has none")
            with self._rng(seed + 1) as gen:
                if self.pretrain == "dgi":
                    self._train_dgi(x, ei, gen)
                else:
                    self._train_link(g, x, ei, gen)
        self.graph_ = g
        self.embedding_ = nnstore.embeddings_frame(self._embed(x, ei), g.nodes)
        return self

    def _early_stopping_loop(self, params, step, desc: str) -> None:
        import torch

        opt = torch.optim.Adam(params, lr=float(self.lr), weight_decay=float(self.weight_decay))
        best, best_state, wait = np.inf, None, 0
        history = []
        bar = self._bar(int(self.pretrain_epochs), desc)
        for _ in bar:
            self.encoder_.train()
            opt.zero_grad()
            loss = step()
            loss.backward()
            opt.step()
            value = float(loss.detach())
            history.append(value)
            bar.set_postfix(loss=f"{value:.4f}")
            if value < best - 1e-6:
                best, wait = value, 0
                best_state = copy.deepcopy(self.encoder_.state_dict())
            else:
                wait += 1
                if wait >= int(self.patience):
                    logger.info("%s: early stop after %d epochs (best loss %.4f)", desc, len(history), best)
                    break
        if best_state is not None:
            self.encoder_.load_state_dict(best_state)
        self.pretrain_history_ = history

    def _train_dgi(self, x, ei, gen) -> None:
        import torch

        from ._gnn_models import DGIHead

        dgi = DGIHead(int(self.dim)).to(self._torch_device())
        n = x.shape[0]

        def step():
            p = self.encoder_.project(x)
            h = self.encoder_(p, ei, projected=True)
            perm = torch.randperm(n, generator=gen, device=p.device)
            hc = self.encoder_(p[perm], ei, projected=True)
            return dgi.loss(h, hc)

        self._early_stopping_loop(list(self.encoder_.parameters()) + list(dgi.parameters()), step,
                                  "DGI pre-training")

    def _train_link(self, g: Graph, x, ei, gen) -> None:
        import torch

        n = g.n_nodes
        arcs = torch.from_numpy(g.edge_index()).to(x.device)
        keep = arcs[0] != arcs[1]
        src_all, dst_all = arcs[0][keep], arcs[1][keep]
        m = int(src_all.shape[0])
        if m == 0:
            raise ValueError("pretrain='link' needs edges between distinct nodes; this graph has only "
                             "self-loops")
        q = int(self.n_negatives)
        bce = torch.nn.functional.binary_cross_entropy_with_logits

        def step():
            h = self.encoder_(x, ei)
            if m > self.link_batch_size:
                idx = torch.randint(0, m, (int(self.link_batch_size),), generator=gen, device=h.device)
                s, d = src_all[idx], dst_all[idx]
            else:
                s, d = src_all, dst_all
            neg = torch.randint(0, n, (len(s) * q,), generator=gen, device=h.device)
            pos = (h[s] * h[d]).sum(-1)
            negl = (h[s.repeat_interleave(q)] * h[neg]).sum(-1)
            return bce(pos, torch.ones_like(pos)) + bce(negl, torch.zeros_like(negl))

        self._early_stopping_loop(self.encoder_.parameters(), step, "link pre-training")

    def fine_tune(self, graph: Any, labels: Any, features: pd.DataFrame | None = None, *,
                  mode: str = "finetune", validation: Any = None) -> GNNEmbedder:
        """Stage 2: a linear classification head on the embeddings, trained on the labelled nodes.

        Parameters
        ----------
        graph : graph input
            Usually the pre-training graph; it must contain every labelled node.
        labels : Series
            Class per node id (any hashable classes); NaN/absent = unlabelled.
        features : DataFrame, optional
            Same schema as at pre-training (or ``None`` for structural).
        mode : {"finetune", "probe"}
            ``"probe"``: the encoder is frozen; only the head (a logistic
            regression on the embeddings: ``probe_epochs``, ``probe_lr``,
            ``probe_weight_decay``) is trained.
            ``"finetune"``: with ``warm_start`` the head is first fitted as that
            probe, then encoder and head are trained together (cross-entropy,
            ``finetune_dropout``, Adam with ``finetune_encoder_lr`` for the
            encoder and ``finetune_lr`` for the head, ``finetune_weight_decay``).
        validation : Series, optional
            Class per node id for model selection (nodes of ``graph``, classes
            among those of ``labels``; NaN = ignored). When given, every stage
            keeps the weights of its epoch with the best validation accuracy
            (ties: lower validation loss), counting the starting point (for
            fine-tuning: the warm-started probe); fine-tuning stops after
            ``finetune_patience`` epochs without improvement. Without it, the
            last epoch's weights are kept.

        If the estimator is not fitted yet, a freshly initialised encoder is
        used (supervised training from scratch); an encoder that was not
        pre-trained is trained with ``finetune_lr`` (not ``finetune_encoder_lr``).
        Returns ``self``; ``finetune_history_`` holds the per-epoch losses
        (and validation accuracies), ``best_epoch_`` the kept epoch.
        """
        import torch

        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self._check_params()
        fresh = not hasattr(self, "encoder_")
        g, x, ei = self._inputs(graph, features, fitting=fresh)
        if fresh:
            self._build(x.shape[1], self._seed(1))
        rows, y, classes = self._check_labels(g, labels)
        dev = self._torch_device()
        rows_t = torch.from_numpy(rows.astype(np.int64)).to(dev)
        y_t = torch.from_numpy(y).to(dev)
        val = None
        if validation is not None:
            vrows, vy = self._check_validation(g, validation, classes)
            val = (torch.from_numpy(vrows.astype(np.int64)).to(dev), torch.from_numpy(vy).to(dev))
        history: list[dict] = []
        best_epoch = None
        with self._rng(self._seed(2)):
            head = torch.nn.Linear(int(self.dim), len(classes)).to(dev)
            if mode == "probe" or self.warm_start:
                z = torch.from_numpy(self._embed(x, ei)).to(dev)
                best_epoch = self._fit_probe(head, z, rows_t, y_t, val, history)
            if mode == "finetune":
                best_epoch = self._fit_finetune(head, x, ei, rows_t, y_t, val, history)
        head.eval()
        self.head_ = head
        self.classes_ = classes
        self.finetune_mode_ = mode
        self.finetune_history_ = history
        self.best_epoch_ = best_epoch
        self.graph_ = g
        self.embedding_ = nnstore.embeddings_frame(self._embed(x, ei), g.nodes)
        return self

    def _check_validation(self, g: Graph, validation: Any, classes: np.ndarray):
        """Validation rows and class indices (into ``classes``)."""
        if isinstance(validation, pd.DataFrame) and validation.shape[1] == 1:
            validation = validation.iloc[:, 0]
        if not isinstance(validation, pd.Series):
            raise TypeError("validation must be a pandas Series indexed by node id, got "
                            f"{type(validation).__name__}")
        rows = g.nodes.get_indexer(validation.index)
        if (rows < 0).any():
            unknown = validation.index[rows < 0]
            raise ValueError(f"validation has {len(unknown)} node id(s) not in the graph, "
                             f"e.g. {unknown[:5].tolist()}")
        known = validation.notna().to_numpy()
        if not known.any():
            raise ValueError("validation has no labelled node (all values are missing)")
        values = validation.to_numpy()[known]
        if values.dtype.kind == "f" and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        idx = pd.Index(classes).get_indexer(values)
        if (idx < 0).any():
            extra = pd.unique(values[idx < 0])[:5].tolist()
            raise ValueError(f"validation has classes that labels does not have: {extra}")
        return rows[known], idx.astype(np.int64)

    @staticmethod
    def _score(logits, y) -> tuple[float, float]:
        import torch

        loss = float(torch.nn.functional.cross_entropy(logits, y))
        return float((logits.argmax(1) == y).float().mean()), loss

    def _fit_probe(self, head, z, rows_t, y_t, val, history: list) -> int | None:
        """Logistic regression on frozen embeddings ``z``; best validation epoch kept if ``val``."""
        import torch

        opt = torch.optim.Adam(head.parameters(), lr=float(self.probe_lr),
                               weight_decay=float(self.probe_weight_decay))
        zt = z[rows_t]
        best, best_state, best_epoch = None, None, None
        for epoch in self._bar(int(self.probe_epochs) + 1, "probe"):
            if epoch:
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(head(zt), y_t)
                loss.backward()
                opt.step()
                history.append({"stage": "probe", "epoch": epoch, "loss": float(loss.detach())})
            if val is not None:
                with torch.no_grad():
                    score = self._score(head(z[val[0]]), val[1])
                if epoch:
                    history[-1].update(val_accuracy=score[0], val_loss=score[1])
                if best is None or (score[0], -score[1]) > best:
                    best, best_epoch = (score[0], -score[1]), epoch
                    best_state = copy.deepcopy(head.state_dict())
        if best_state is not None:
            head.load_state_dict(best_state)
        return best_epoch

    def _fit_finetune(self, head, x, ei, rows_t, y_t, val, history: list) -> int | None:
        """Encoder + head, full batch; best validation epoch kept (patience) if ``val``."""
        import torch

        pretrained = len(self.pretrain_history_) > 0
        enc_lr = self.finetune_encoder_lr if pretrained and self.finetune_encoder_lr is not None \
            else self.finetune_lr
        opt = torch.optim.Adam([{"params": self.encoder_.parameters(), "lr": float(enc_lr)},
                                {"params": head.parameters(), "lr": float(self.finetune_lr)}],
                               weight_decay=float(self.finetune_weight_decay))
        p = float(self.dropout if self.finetune_dropout is None else self.finetune_dropout)
        saved_dropout, self.encoder_.dropout = self.encoder_.dropout, p
        best, best_state, best_epoch, wait = None, None, None, 0
        try:
            for epoch in self._bar(int(self.finetune_epochs) + 1, "fine-tune"):
                if epoch:
                    self.encoder_.train()
                    opt.zero_grad()
                    h = self.encoder_(x, ei)[rows_t]
                    h = torch.nn.functional.dropout(h, p=p, training=True)
                    loss = torch.nn.functional.cross_entropy(head(h), y_t)
                    loss.backward()
                    opt.step()
                    history.append({"stage": "finetune", "epoch": epoch, "loss": float(loss.detach())})
                if val is None:
                    continue
                self.encoder_.eval()
                with torch.no_grad():
                    score = self._score(head(self.encoder_(x, ei)[val[0]]), val[1])
                if epoch:
                    history[-1].update(val_accuracy=score[0], val_loss=score[1])
                if best is None or (score[0], -score[1]) > best:
                    best, best_epoch, wait = (score[0], -score[1]), epoch, 0
                    best_state = (copy.deepcopy(self.encoder_.state_dict()), copy.deepcopy(head.state_dict()))
                else:
                    wait += 1
                    if wait >= int(self.finetune_patience):
                        logger.info("fine-tune: early stop after %d epochs (best epoch %d, validation "
                                    "accuracy %.4f)", epoch, best_epoch, best[0])
                        break
        finally:
            self.encoder_.dropout = saved_dropout
        if best_state is not None:
            self.encoder_.load_state_dict(best_state[0])
            head.load_state_dict(best_state[1])
        return best_epoch

    # ---------------------------------------------------------------- inference
    def transform(self, graph: Any = None, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """Node embeddings.

        Parameters
        ----------
        graph : graph input, optional
            ``None``: the training graph's embeddings (``embedding_``). A graph
            (which may contain nodes never seen in training): one full-graph
            message-passing pass over it with the trained weights (inductive).
        features : DataFrame, optional
            The new graph's node features, with the training columns; must be
            ``None`` when the model was trained on structural features.

        Returns
        -------
        DataFrame of shape (|V|, dim), float32, index = node id
        """
        self._check_fitted()
        if graph is None:
            if features is not None:
                raise ValueError("features were given without a graph: pass the graph they belong to")
            return self.embedding_.copy()
        g, x, ei = self._inputs(graph, features, fitting=False)
        return nnstore.embeddings_frame(self._embed(x, ei), g.nodes)

    def fit_transform(self, graph: Any, features: pd.DataFrame | None = None,
                      labels: Any = None) -> pd.DataFrame:
        """``fit(...)`` then the training graph's embeddings."""
        return self.fit(graph, features, labels).transform()

    def predict_proba(self, graph: Any = None, features: pd.DataFrame | None = None) -> pd.DataFrame:
        """Class probabilities from the stage-2 head: DataFrame (|V|, n_classes), columns = ``classes_``."""
        import torch

        self._check_fitted()
        if self.head_ is None:
            raise NotFittedError("predict needs a classification head: call fine_tune (or fit with labels)")
        emb = self.transform(graph, features)
        with torch.no_grad():
            z = torch.from_numpy(np.array(emb.to_numpy(dtype=np.float32))).to(self._torch_device())
            p = torch.softmax(self.head_(z), dim=1).cpu().numpy()
        return pd.DataFrame(p, index=emb.index, columns=pd.Index(self.classes_))

    def predict(self, graph: Any = None, features: pd.DataFrame | None = None) -> pd.Series:
        """Predicted class per node: Series indexed by node id."""
        proba = self.predict_proba(graph, features)
        return pd.Series(self.classes_[proba.to_numpy().argmax(axis=1)], index=proba.index,
                         name="prediction")

    # -------------------------------------------------------------- save / load
    def save(self, path: str | os.PathLike) -> None:
        """Save as a ``gnn_embedder`` artifact (state dicts, params, feature schema, embeddings)."""
        self._check_fitted()
        schema = {
            "feature_source": self.feature_source_,
            "feature_columns": self.feature_columns_,
            "n_features_in": int(self.n_features_in_),
            "finetune_mode": self.finetune_mode_,
            "pretrain_history": [float(v) for v in self.pretrain_history_],
            "finetune_history": list(getattr(self, "finetune_history_", [])),
            "best_epoch": getattr(self, "best_epoch_", None),
        }
        if self.feature_source_ == "structural":
            schema["struct_mean"] = self.struct_mean_.tolist()
            schema["struct_std"] = self.struct_std_.tolist()
        params = self.get_params()
        params["random_state"] = (params["random_state"]
                                  if isinstance(params["random_state"], (int, np.integer, type(None)))
                                  else None)
        with nnstore.ArtifactWriter(path, kind=KIND, params=params, dim=int(self.dim),
                                    counts={"nodes": len(self.embedding_)}) as w:
            w.save_state_dict("encoder", self.encoder_.state_dict())
            if self.head_ is not None:
                w.save_state_dict("head", self.head_.state_dict())
                w.save_frame("classes", pd.DataFrame({"class": self.classes_}))
            w.save_json("schema", schema)
            w.save_frame("embeddings", self.embedding_)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str | None = None) -> GNNEmbedder:
        """Load a saved model (optionally onto another ``device``)."""
        import torch

        from ._gnn_models import GNNEncoder

        art = nnstore.read_artifact(path, kind=KIND)
        params = dict(art.params)
        if device is not None:
            params["device"] = device
        est = cls(**params)
        schema = art.load_json("schema")
        dev = est._torch_device()
        est.feature_source_ = schema["feature_source"]
        est.feature_columns_ = list(schema["feature_columns"])
        est.n_features_in_ = int(schema["n_features_in"])
        est.finetune_mode_ = schema["finetune_mode"]
        est.pretrain_history_ = list(schema["pretrain_history"])
        est.finetune_history_ = list(schema.get("finetune_history", []))
        est.best_epoch_ = schema.get("best_epoch")
        if est.feature_source_ == "structural":
            est.struct_mean_ = np.asarray(schema["struct_mean"], dtype=np.float32)
            est.struct_std_ = np.asarray(schema["struct_std"], dtype=np.float32)
        est.encoder_ = GNNEncoder(est.n_features_in_, int(est.hidden_dim), int(est.dim), int(est.n_layers),
                                  est.encoder, float(est.dropout), int(est.heads))
        est.encoder_.load_state_dict(art.load_state_dict("encoder"))
        est.encoder_.to(dev).eval()
        est.head_, est.classes_ = None, None
        if "head.pt" in art.files:
            state = art.load_state_dict("head")
            head = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
            head.load_state_dict(state)
            est.head_ = head.to(dev).eval()
            est.classes_ = art.load_frame("classes")["class"].to_numpy()
        emb = art.load_frame("embeddings")
        est.embedding_ = nnstore.embeddings_frame(emb.to_numpy(dtype=np.float32), emb.index)
        return est
