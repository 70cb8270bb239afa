"""Input preparation for :class:`graphemb.GNNEmbedder`: graph, node features and labels.

Every input ends as what the encoder reads: a :class:`~graphemb.Graph`, a
float32 feature matrix with one row per graph row (the graph's node order) and
the message-passing structure, as torch tensors on the model's device.

Node features may arrive as

- a ``pandas.DataFrame`` indexed by node id (a subset of the graph's nodes; the
  rows are aligned by id, see :func:`graphemb._features.align_features`);
- a ``numpy`` array, a ``scipy.sparse`` matrix or a torch tensor with exactly
  one row per node, **in the graph's node order** (``Graph.nodes``: the order of
  ``G.nodes`` for networkx, first appearance in an edge list, row order for a
  matrix or a PyG ``Data``); a sparse matrix stays sparse all the way to the
  encoder's first (sparse-dense) product;
- the ``x`` of a ``torch_geometric.data.Data`` given as the graph.

Each is checked (numeric, finite, one row per node, the training width at
transform time) and an error names the argument, what was expected and what
arrived. A matrix always gets one extra last column, ``MISSING_COLUMN``, 1 for
nodes without a feature row (only a DataFrame can lack rows) and 0 otherwise.

The feature columns are then normalised inside the model (``normalize``), with
statistics measured on the training graph and stored with the model, so that a
bag of words reaches the encoder the same way whether the user passes it raw
(0/1), row-normalised or standardised (see :func:`fit_normalizer`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._features import MISSING_COLUMN, STRUCTURAL_COLUMNS, align_features, structural_features
from .._graph import Graph, as_graph

__all__ = ["NORMALIZE", "FeatureSchema", "check_labels", "check_validation", "fit_normalizer", "is_pyg_data",
           "prepare_features", "prepare_graph", "to_tensors"]

logger = logging.getLogger(__name__)

#: ``normalize`` options (see :func:`fit_normalizer`)
NORMALIZE = ("auto", "row", "standard", None)
_ROW_DENSITY = 0.5  # "auto" row-normalises non-negative inputs with at most this share of non-zeros
_SPARSE_DENSITY = 0.1  # dense inputs sparser than this are multiplied as sparse tensors
_PYG_USED = {"edge_index", "edge_weight", "x", "num_nodes"}


@dataclass
class FeatureSchema:
    """What a fitted model expects as node features, and how it normalises them.

    Attributes
    ----------
    source : {"features", "structural"}
    columns : list of str
        Input columns in order; ``MISSING_COLUMN`` last for ``"features"``.
    shift, scale : ndarray of shape (n_columns,), float32
        ``(x - shift) / scale`` per column (measured at fit).
    row : {"l1"} or None
        Then each row divided by the sum of its absolute values, or not.
    """

    source: str
    columns: list[str]
    shift: np.ndarray
    scale: np.ndarray
    row: str | None = None

    def to_json(self) -> dict:
        return {"feature_source": self.source, "feature_columns": list(self.columns),
                "n_features_in": len(self.columns), "shift": self.shift.tolist(),
                "scale": self.scale.tolist(), "row": self.row}

    @classmethod
    def from_json(cls, d: dict) -> FeatureSchema:
        if "shift" in d:
            shift, scale, row = d["shift"], d["scale"], d.get("row")
        elif d["feature_source"] == "structural":  # artifacts written before the normalisation
            shift, scale, row = d["struct_mean"], d["struct_std"], None
        else:
            width = int(d["n_features_in"]) - 1
            shift, scale, row = [0.0] * width, [1.0] * width, None
        return cls(d["feature_source"], list(d["feature_columns"]),
                   np.asarray(shift, dtype=np.float32), np.asarray(scale, dtype=np.float32), row)


def is_pyg_data(graph: Any) -> bool:
    """Whether ``graph`` is a ``torch_geometric`` ``Data`` (checked without importing PyG)."""
    return type(graph).__module__.startswith("torch_geometric") and hasattr(graph, "edge_index")


def _pyg_keys(data: Any) -> list[str]:
    keys = data.keys() if callable(getattr(data, "keys", None)) else list(data.keys)
    return [k for k in keys if getattr(data, k, None) is not None]


def prepare_graph(graph: Any, features: Any, *, used: tuple[str, ...] = (),
                  caller: str = "fit") -> tuple[Graph, Any]:
    """The graph and the features to use: a PyG ``Data`` lends its ``x``.

    Parameters
    ----------
    graph : graph input
        Anything :func:`graphemb.as_graph` reads.
    features : any or None
        The ``features`` argument.
    used : tuple of str
        Further ``Data`` attributes the caller uses (``"y"``, ``"train_mask"``).
    caller : str
        The method name, for the warning about unused ``Data`` attributes.

    Raises
    ------
    ValueError
        ``features`` was given and the ``Data`` has an ``x`` too.

    Warns
    -----
    UserWarning
        Naming the ``Data`` attributes that are not used (``y`` without
        labels, ``edge_attr``, masks, ...), or a networkx graph's node
        attributes when no ``features`` are given.
    """
    if not is_pyg_data(graph):
        if features is None and caller == "fit" and hasattr(graph, "nodes") and hasattr(graph, "is_directed"):
            attrs = sorted({k for _, d in graph.nodes(data=True) for k in d}, key=str)
            if attrs:
                warnings.warn(f"{caller}: the networkx node attributes {attrs[:5]} are not used (node "
                              "features are read from features= only; structural features are used)",
                              UserWarning, stacklevel=3)
        return as_graph(graph), features
    x = getattr(graph, "x", None)
    if x is not None and features is not None:
        raise ValueError("features were given and graph (a torch_geometric Data) has x too: pass the "
                         "features one way (drop features=, or set data.x = None)")
    unused = sorted(set(_pyg_keys(graph)) - _PYG_USED - set(used))
    if unused:
        hint = (" (pass labels=, e.g. pd.Series(data.y.numpy()).where(data.train_mask.numpy()), "
                "or call fine_tune(data) to use y on train_mask)") if "y" in unused else ""
        warnings.warn(f"{caller}: the torch_geometric Data attributes {unused} are not used{hint}",
                      UserWarning, stacklevel=3)
    return as_graph(graph), (x if x is not None else features)


def _as_matrix(features: Any, name: str) -> np.ndarray | sp.csr_matrix:
    """An array-like feature input as a float32 ndarray or CSR matrix, checked."""
    try:
        import torch

        if isinstance(features, torch.Tensor):
            if features.layout != torch.strided:
                coo = features.detach().cpu().to_sparse_coo().coalesce()
                idx, val = coo.indices().numpy(), coo.values().numpy()
                features = sp.csr_matrix((val, (idx[0], idx[1])), shape=tuple(coo.shape))
            else:
                features = features.detach().cpu().numpy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if sp.issparse(features):
        M = sp.csr_matrix(features)
        kind = M.dtype.kind
    elif isinstance(features, np.ndarray):
        M = features
        kind = M.dtype.kind
    else:
        raise TypeError(f"{name} must be a pandas DataFrame indexed by node id, a numpy array, a scipy "
                        f"sparse matrix or a torch tensor (rows in the graph's node order), "
                        f"got {type(features).__name__}")
    if kind not in "biuf":
        raise ValueError(f"{name} must be numeric (bool, int or float), got dtype {M.dtype}")
    if M.ndim != 2:
        raise ValueError(f"{name} must be 2-D (one row per node), got shape {M.shape}")
    M = M.astype(np.float32) if sp.issparse(M) else np.asarray(M, dtype=np.float32)
    values = M.data if sp.issparse(M) else M
    if values.size and not np.isfinite(values).all():
        bad = np.isfinite(M.toarray() if sp.issparse(M) else M).all(axis=1)
        rows = np.flatnonzero(~bad)
        raise ValueError(f"{name} contains NaN or infinite values in {len(rows)} row(s), first rows: "
                         f"{rows[:5].tolist()}; impute them before fitting")
    return M


def _raw_features(g: Graph, features: Any, columns: list[str] | None, name: str):
    """Features in graph row order, the indicator column last; returns (X, columns)."""
    if isinstance(features, pd.DataFrame):
        X, cols, missing = align_features(g, features, columns=columns, name=name)
        if missing.any():
            logger.info("%d of %d nodes have no feature row: zeros + indicator",
                        int(missing.sum()), g.n_nodes)
        return X, cols
    M = _as_matrix(features, name)
    if M.shape[0] != g.n_nodes:
        raise ValueError(f"{name} has {M.shape[0]} rows but the graph has {g.n_nodes} nodes: an array or "
                         "matrix needs one row per node, in the graph's node order (or pass a DataFrame "
                         "indexed by node id)")
    width = M.shape[1]
    if columns is not None and width != len(columns):
        raise ValueError(f"{name} has {width} columns but the model was trained on {len(columns)} "
                         f"feature columns (first: {columns[:5]})")
    cols = list(columns) if columns is not None else [f"feature_{i}" for i in range(width)]
    if sp.issparse(M):
        X = sp.hstack([M, sp.csr_matrix((g.n_nodes, 1), dtype=np.float32)], format="csr")
    else:
        X = np.concatenate([M, np.zeros((g.n_nodes, 1), np.float32)], axis=1)
    return X, cols


def _two_valued(rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: minimum, maximum, and whether every value is one of the two."""
    if sp.issparse(rows):
        csc = sp.csc_matrix(rows)
        lo = csc.min(axis=0).toarray().ravel()
        hi = csc.max(axis=0).toarray().ravel()
        col = np.repeat(np.arange(csc.shape[1]), np.diff(csc.indptr))
        ok = (csc.data == lo[col]) | (csc.data == hi[col])
        bad = np.bincount(col[~ok], minlength=csc.shape[1]) > 0
        implicit = np.diff(csc.indptr) < csc.shape[0]  # some zeros are not stored
        bad |= implicit & (lo != 0) & (hi != 0)
        return lo, hi, ~bad
    lo, hi = rows.min(axis=0), rows.max(axis=0)
    return lo, hi, ((rows == lo) | (rows == hi)).all(axis=0)


def _mean_std(T) -> tuple[np.ndarray, np.ndarray]:
    if sp.issparse(T):
        mean = np.asarray(T.mean(axis=0)).ravel()
        sq = np.asarray(T.multiply(T).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(sq - mean**2, 0.0))
    else:
        mean, std = T.mean(axis=0), T.std(axis=0)
    return mean, np.where(std > 1e-8, std, 1.0)


def fit_normalizer(X, present: np.ndarray, how: str | None):
    """Per-column ``shift`` and ``scale``, and the row step, for the ``normalize`` option ``how``.

    - ``None``: nothing;
    - ``"row"``: each row divided by the sum of its absolute values (the row
      normalisation of the GCN and DGI papers);
    - ``"standard"``: each column standardised (training mean and standard deviation);
    - ``"auto"``: first every two-valued column with a negative value (an
      indicator that was centred or standardised) is mapped back onto {0, 1}; then a
      non-negative input with at most half its entries non-zero (a bag of words,
      counts, TF-IDF, one-hot codes) is row-normalised as ``"row"``, and
      anything else is standardised as ``"standard"``. A bag of words thus
      reaches the encoder the same way raw (0/1), row-normalised or standardised.

    Statistics are measured on the rows in ``present`` (nodes with features).

    Returns
    -------
    shift, scale : ndarray of shape (n_columns,), float64
    row : {"l1"} or None
    """
    width = X.shape[1]
    shift, scale = np.zeros(width), np.ones(width)
    if how is None or not present.any():
        return shift, scale, None
    if how == "row":
        return shift, scale, "l1"
    rows = X[present]
    if how == "standard":
        mean, std = _mean_std(rows.astype(np.float64))
        return mean, std, None
    lo, hi, two = _two_valued(rows)
    two &= lo < 0  # a centred or standardised indicator (0/1 and 0/c columns stay as they are)
    span = hi - lo
    shift = np.where(two, lo, 0.0)
    scale = np.where(two & (span > 0), span, 1.0)
    if sp.issparse(rows) and not (shift != 0).any():
        T = sp.csr_matrix(rows @ sp.diags(1.0 / scale)).astype(np.float64)
        nonneg, nnz = (T.data >= 0).all(), np.count_nonzero(T.data)
    else:
        T = ((rows.toarray() if sp.issparse(rows) else rows) - shift) / scale
        nonneg, nnz = (T >= 0).all(), np.count_nonzero(T)
    if nonneg and nnz <= _ROW_DENSITY * T.shape[0] * T.shape[1]:
        return shift, scale, "l1"
    mean, std = _mean_std(T)
    return shift + mean * scale, scale * std, None


def _normalise(X, present: np.ndarray, shift: np.ndarray, scale: np.ndarray, row: str | None):
    """``(x - shift) / scale`` per column, then the row step, on the rows that have features."""
    n = X.shape[0]
    keep = present.astype(np.float32)
    if sp.issparse(X):
        if (shift != 0).any():  # a shifted column fills the zeros in
            X = X.toarray()
        else:
            X = sp.csr_matrix(X @ sp.diags(1.0 / scale.astype(np.float64)))
            X = X.astype(np.float32)
    if not sp.issparse(X):
        X = (X - shift) / scale
        X *= keep[:, None]
    if row == "l1":
        s = np.asarray(abs(X).sum(axis=1)).ravel()
        inv = np.divide(1.0, s, out=np.zeros(n), where=s > 0)
        X = sp.csr_matrix(sp.diags(inv) @ X) if sp.issparse(X) else X * inv[:, None].astype(np.float32)
    return X.astype(np.float32)


def prepare_features(g: Graph, features: Any, schema: FeatureSchema | None, normalize: str | None,
                     name: str = "features"):
    """The normalised input matrix (dense ndarray or CSR) and the schema.

    Parameters
    ----------
    g : Graph
    features : DataFrame, ndarray, sparse matrix, tensor or None
        ``None``: structural statistics of the graph.
    schema : FeatureSchema or None
        ``None`` at fit time (measured here); the fitted schema otherwise.
    normalize : str or None
        One of :data:`NORMALIZE` (used at fit time; see :func:`fit_normalizer`).

    Returns
    -------
    X : ndarray or scipy CSR matrix of shape (n_nodes, n_features_in), float32
    schema : FeatureSchema

    Raises
    ------
    ValueError, TypeError
        See :func:`graphemb._features.align_features` and the module docstring.
    """
    if schema is None:
        if features is None:
            S = structural_features(g)
            mean, std = S.mean(axis=0), S.std(axis=0)
            std = np.where(std > 1e-8, std, 1.0)
            schema = FeatureSchema("structural", list(STRUCTURAL_COLUMNS), mean.astype(np.float32),
                                   std.astype(np.float32))
            return ((S - schema.shift) / schema.scale).astype(np.float32), schema
        X, cols = _raw_features(g, features, None, name)
        present = (X[:, -1].toarray().ravel() if sp.issparse(X) else X[:, -1]) == 0
        shift, scale, row = fit_normalizer(X[:, :-1], present, normalize)
        schema = FeatureSchema("features", [*cols, MISSING_COLUMN], shift.astype(np.float32),
                               scale.astype(np.float32), row)
    elif schema.source == "structural":
        if features is not None:
            raise ValueError("this model was trained on structural features (fit without features); "
                             "transform must be called without features")
        return ((structural_features(g) - schema.shift) / schema.scale).astype(np.float32), schema
    else:
        if features is None:
            raise ValueError("this model was trained on node features: pass features for the new graph "
                             "(a DataFrame indexed by node id, or an array with one row per node)")
        X, _ = _raw_features(g, features, schema.columns[:-1], name)
    indicator = X[:, -1].toarray().ravel() if sp.issparse(X) else np.asarray(X[:, -1]).ravel()
    body = _normalise(X[:, :-1], indicator == 0, schema.shift, schema.scale, schema.row)
    if sp.issparse(body):
        X = sp.hstack([body, sp.csr_matrix(indicator[:, None].astype(np.float32))], format="csr")
    else:
        X = np.concatenate([body, indicator[:, None].astype(np.float32)], axis=1)
    return X, schema


def to_tensors(g: Graph, X, encoder: str, device):
    """Feature matrix and message structure as torch tensors on ``device``.

    A scipy sparse matrix, or a dense one with under 10% non-zeros, becomes a
    sparse CSR tensor (the projection is then a sparse-dense product).
    """
    import torch

    from ._models import message_structure

    if not sp.issparse(X) and X.size and np.count_nonzero(X) / X.size < _SPARSE_DENSITY:
        X = sp.csr_matrix(X)
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        X.sort_indices()
        with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
            warnings.simplefilter("ignore", UserWarning)
            x = torch.sparse_csr_tensor(torch.from_numpy(X.indptr.astype(np.int64)),
                                        torch.from_numpy(X.indices.astype(np.int64)),
                                        torch.from_numpy(X.data.astype(np.float32)), size=X.shape,
                                        check_invariants=False).to(device)
    else:
        x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)
    ei = torch.from_numpy(g.edge_index()).to(device)
    return x, message_structure(ei, g.n_nodes, encoder)


def _as_series(values: Any, g: Graph, name: str) -> pd.Series:
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(f"{name} must be a Series (or one-column DataFrame) indexed by node id, "
                             f"got a DataFrame with columns {list(values.columns)[:5]}")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values
    try:
        import torch

        if isinstance(values, torch.Tensor):
            values = values.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(values, np.ndarray):
        if values.ndim != 1 or len(values) != g.n_nodes:
            raise ValueError(f"{name} as an array must be 1-D with one value per node ({g.n_nodes}, in the "
                             f"graph's node order; NaN = unlabelled), got shape {values.shape}")
        return pd.Series(values, index=g.nodes)
    raise TypeError(f"{name} must be a pandas Series indexed by node id (or a 1-D array in the graph's "
                    f"node order), got {type(values).__name__}")


def _whole(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return values.astype(np.int64)  # integer classes in a float Series (NaN = unlabelled)
    return values


def check_labels(g: Graph, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled rows, class indices and classes of ``labels``.

    Raises
    ------
    TypeError
        ``labels`` is neither a Series nor a 1-D array.
    ValueError
        Unknown node ids, a repeated id, no labelled node or fewer than 2 classes.
    """
    labels = _as_series(labels, g, "labels")
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
    classes, y = np.unique(_whole(labels.to_numpy()[known]), return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"labels must have at least 2 classes, got {classes.tolist()}")
    return rows[known], y.astype(np.int64), classes


def check_validation(g: Graph, validation: Any, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validation rows and class indices (into ``classes``).

    Raises
    ------
    TypeError, ValueError
        As :func:`check_labels`, plus classes that ``labels`` does not have.
    """
    validation = _as_series(validation, g, "validation")
    rows = g.nodes.get_indexer(validation.index)
    if (rows < 0).any():
        unknown = validation.index[rows < 0]
        raise ValueError(f"validation has {len(unknown)} node id(s) not in the graph, "
                         f"e.g. {unknown[:5].tolist()}")
    known = validation.notna().to_numpy()
    if not known.any():
        raise ValueError("validation has no labelled node (all values are missing)")
    values = _whole(validation.to_numpy()[known])
    idx = pd.Index(classes).get_indexer(values)
    if (idx < 0).any():
        extra = pd.unique(values[idx < 0])[:5].tolist()
        raise ValueError(f"validation has classes that labels does not have: {extra}")
    return rows[known], idx.astype(np.int64)


def pyg_labels(data: Any, g: Graph) -> pd.Series:
    """``data.y`` on ``data.train_mask`` (all nodes without a mask) as a Series by node id.

    Raises
    ------
    ValueError
        The ``Data`` has no ``y``, or ``y`` is not one class per node.
    """
    y = getattr(data, "y", None)
    if y is None:
        raise ValueError("labels is required: the graph (a torch_geometric Data) has no y")
    y = y.detach().cpu().numpy()
    if y.ndim != 1 or len(y) != g.n_nodes:
        raise ValueError(f"data.y must hold one class per node (shape ({g.n_nodes},)), got {y.shape}")
    s = pd.Series(y, index=g.nodes)
    mask = getattr(data, "train_mask", None)
    if mask is not None:
        s = s.where(mask.detach().cpu().numpy().astype(bool))
    return s
