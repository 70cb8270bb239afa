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
        Stage-2 epochs (full-batch steps) for ``mode="finetune"``.
    probe_epochs : int, default 300
        Stage-2 epochs for ``mode="probe"`` (cheap: only the head is trained,
        on fixed embeddings).
    finetune_lr : float, default 0.01
        Stage-2 Adam learning rate.
    finetune_weight_decay : float, default 5e-4
        Stage-2 Adam weight decay.
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
                 link_batch_size: int = 8192, finetune_epochs: int = 200, probe_epochs: int = 300,
                 finetune_lr: float = 0.01,
                 finetune_weight_decay: float = 5e-4, device: str = "cpu",
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
        self.probe_epochs = probe_epochs
        self.finetune_lr = finetune_lr
        self.finetune_weight_decay = finetune_weight_decay
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
                     "patience"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        for name in ("pretrain_epochs", "finetune_epochs", "probe_epochs"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be a non-negative int, got {v!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        for name in ("lr", "finetune_lr"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
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
                                        check_invariants=False).coalesce().to(dev)
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
                  mode: str = "finetune") -> GNNEmbedder:
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
            ``"finetune"``: encoder and head trained together (cross-entropy,
            dropout, ``finetune_lr``, ``finetune_weight_decay``).
            ``"probe"``: the encoder is frozen; only the head (a logistic
            regression on the embeddings) is trained.

        If the estimator is not fitted yet, a freshly initialised encoder is
        used (supervised training from scratch). Returns ``self``.
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
        seed = self._seed(2)
        with self._rng(seed):
            head = torch.nn.Linear(int(self.dim), len(classes)).to(dev)
            if mode == "probe":
                z = torch.from_numpy(self._embed(x, ei)).to(dev)[rows_t]
                params = list(head.parameters())
            else:
                params = list(self.encoder_.parameters()) + list(head.parameters())
            opt = torch.optim.Adam(params, lr=float(self.finetune_lr),
                                   weight_decay=float(self.finetune_weight_decay))
            epochs = self.probe_epochs if mode == "probe" else self.finetune_epochs
            for _ in self._bar(int(epochs), f"{mode}"):
                opt.zero_grad()
                if mode == "probe":
                    logits = head(z)
                else:
                    self.encoder_.train()
                    h = self.encoder_(x, ei)[rows_t]
                    h = torch.nn.functional.dropout(h, p=float(self.dropout), training=True)
                    logits = head(h)
                loss = torch.nn.functional.cross_entropy(logits, y_t)
                loss.backward()
                opt.step()
        head.eval()
        self.head_ = head
        self.classes_ = classes
        self.finetune_mode_ = mode
        self.graph_ = g
        self.embedding_ = nnstore.embeddings_frame(self._embed(x, ei), g.nodes)
        return self

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
