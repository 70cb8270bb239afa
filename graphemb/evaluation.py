"""Evaluating node embeddings: edge embeddings, node classification, link prediction.

- :func:`edge_embeddings`: node2vec's binary operators (Hadamard, average,
  weighted L1, weighted L2) turning two node vectors into an edge vector.
- :func:`node_classification`: one-vs-rest logistic regression on the
  embeddings, micro/macro-F1 averaged over repeated random splits; labels may
  be single-label (a Series/array of classes) or multi-label (a 0/1 matrix or
  a list of label sets). For multi-label data each test node is given as
  many top-scored labels as it truly has (the DeepWalk/node2vec protocol;
  `multilabel_rule="threshold"` is the alternative). :func:`node_classification_select`
  chooses C, row normalisation or an embedding (e.g. node2vec p, q) on validation labels.
- :func:`split_edges` + :func:`link_prediction`: hold out a fraction of the
  edges (keeping the rest connected is not enforced), sample as many
  non-edges, embed the training graph, score pairs with a classifier on edge
  embeddings, report ROC-AUC.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from nnstore import check_random_state, check_vectors

from ._graph import Graph, as_graph

__all__ = ["EDGE_OPERATORS", "MULTILABEL_RULES", "edge_embeddings", "link_prediction",
           "node_classification", "node_classification_select", "split_edges"]

EDGE_OPERATORS = ("hadamard", "average", "l1", "l2")


def _lookup(embeddings: pd.DataFrame, nodes: Iterable[Hashable], name: str) -> np.ndarray:
    vectors, keys = check_vectors(embeddings, name="embeddings")
    if keys is None:
        keys = pd.RangeIndex(len(vectors))
    nodes = pd.Index(list(nodes), tupleize_cols=False) if not isinstance(nodes, pd.Index) else nodes
    rows = keys.get_indexer(nodes)
    if (rows < 0).any():
        missing = list(nodes[rows < 0][:5])
        raise KeyError(f"{name}: {int((rows < 0).sum())} node(s) have no embedding, e.g. {missing}")
    return vectors[rows]


def edge_embeddings(embeddings: pd.DataFrame, edges: Any, *, operator: str = "hadamard",
                    src: str = "src", dst: str = "dst") -> np.ndarray:
    """Edge vectors from node vectors with one of node2vec's binary operators.

    Parameters
    ----------
    embeddings : DataFrame of shape (n_nodes, dim)
        Index = node id.
    edges : DataFrame with ``src``/``dst`` columns, or array-like of shape (n_edges, 2)
        Node ids.
    operator : {"hadamard", "average", "l1", "l2"}
        ``u * v``, ``(u + v) / 2``, ``|u - v|``, ``(u - v) ** 2``.

    Returns
    -------
    ndarray of shape (n_edges, dim), float32
    """
    if operator not in EDGE_OPERATORS:
        raise ValueError(f"operator must be one of {EDGE_OPERATORS}, got {operator!r}")
    if isinstance(edges, pd.DataFrame):
        for col in (src, dst):
            if col not in edges.columns:
                raise KeyError(f"edges has no column {col!r}; columns: {list(edges.columns)}")
        a, b = edges[src].tolist(), edges[dst].tolist()
    else:
        arr = np.asarray(edges, dtype=object) if not isinstance(edges, np.ndarray) else edges
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"edges must have shape (n_edges, 2), got {arr.shape}")
        a, b = list(arr[:, 0]), list(arr[:, 1])
    u = _lookup(embeddings, a, "edges (source)")
    v = _lookup(embeddings, b, "edges (target)")
    if operator == "hadamard":
        out = u * v
    elif operator == "average":
        out = (u + v) / 2
    elif operator == "l1":
        out = np.abs(u - v)
    else:
        out = (u - v) ** 2
    return out.astype(np.float32)


def _label_matrix(labels: Any, index: pd.Index) -> tuple[np.ndarray, bool]:
    """Labels aligned to ``index`` as an indicator matrix, and whether multi-label."""
    import scipy.sparse as sp

    if sp.issparse(labels):
        Y = np.asarray(labels.todense())
        return (Y > 0).astype(np.int8), True
    if isinstance(labels, pd.DataFrame):
        return (labels.reindex(index).to_numpy() > 0).astype(np.int8), True
    if isinstance(labels, np.ndarray) and labels.ndim == 2:
        return (labels > 0).astype(np.int8), True
    s = labels.reindex(index) if isinstance(labels, pd.Series) else pd.Series(list(labels), index=index)
    if s.isna().any():
        raise ValueError(f"labels: {int(s.isna().sum())} node(s) have no label, e.g. "
                         f"{list(index[s.isna().to_numpy()][:5])}")
    first = s.iloc[0]
    if isinstance(first, (set, frozenset, list, tuple)):
        classes = sorted({c for v in s for c in v}, key=str)
        col = {c: i for i, c in enumerate(classes)}
        Y = np.zeros((len(s), len(classes)), np.int8)
        for i, v in enumerate(s):
            for c in v:
                Y[i, col[c]] = 1
        return Y, True
    codes, _ = pd.factorize(s)
    Y = np.zeros((len(s), codes.max() + 1), np.int8)
    Y[np.arange(len(s)), codes] = 1
    return Y, False


MULTILABEL_RULES = ("top_k", "threshold")


def _fit_predict(X_tr, Y_tr, X_te, k_te, *, C, multilabel, rule, n_jobs):
    """Fit one-vs-rest logistic regression on ``(X_tr, Y_tr)`` and predict ``X_te`` (indicator rows)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    if not multilabel:
        y = Y_tr.argmax(axis=1)
        clf = LogisticRegression(C=C, max_iter=1000).fit(X_tr, y)
        pred = np.zeros((len(X_te), Y_tr.shape[1]), np.int8)
        pred[np.arange(len(X_te)), clf.predict(X_te)] = 1
        return pred
    clf = OneVsRestClassifier(LogisticRegression(C=C, max_iter=1000), n_jobs=n_jobs)
    clf.fit(X_tr, Y_tr)
    scores = clf.predict_proba(X_te)
    if rule == "threshold":
        return (scores >= 0.5).astype(np.int8)
    pred = np.zeros(scores.shape, np.int8)
    top = np.argsort(-scores, axis=1, kind="stable")
    for i in range(len(X_te)):
        pred[i, top[i, :k_te[i]]] = 1
    return pred


def _f1s(Y_true: np.ndarray, pred: np.ndarray, multilabel: bool) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    if not multilabel:
        yt, yp = Y_true.argmax(axis=1), pred.argmax(axis=1)
        return (float(f1_score(yt, yp, average="micro")), float(f1_score(yt, yp, average="macro")))
    return (float(f1_score(Y_true, pred, average="micro", zero_division=0)),
            float(f1_score(Y_true, pred, average="macro", zero_division=0)))


def _score_split(X, Y, tr, te, *, C, normalize, multilabel, rule, n_jobs):
    """micro/macro-F1 of a classifier trained on rows ``tr`` and tested on rows ``te``."""
    if normalize:
        X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    keep = Y[tr].sum(axis=0) > 0  # labels seen in training
    if not multilabel:
        keep[:] = True
    Ytr, Yte = Y[tr][:, keep], Y[te][:, keep]
    pred = _fit_predict(X[tr], Ytr, X[te], Yte.sum(axis=1), C=C, multilabel=multilabel, rule=rule,
                        n_jobs=n_jobs)
    return _f1s(Yte, pred, multilabel)


def _as_tuple(name: str, value: Any, kind: type | tuple) -> tuple:
    vals = tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else (value,)
    if not vals or not all(isinstance(v, kind) for v in vals):
        raise ValueError(f"{name} must be a value or a non-empty sequence of values, got {value!r}")
    return vals


def node_classification_select(candidates: Any, labels: Any, *, train_size: float = 0.5,
                               n_repeats: int = 3, C: Any = 1.0, normalize: Any = False,
                               val_size: float = 0.2, multilabel_rule: str = "top_k",
                               random_state: Any = None, n_jobs: int | None = None) -> dict:
    """Node classification with the settings chosen on validation labels (never on test labels).

    For each of ``n_repeats`` random splits of the labelled nodes into train
    (``train_size``) and test, a validation part (``val_size`` of the
    training nodes) is held out of the training nodes; every combination of
    embedding (a key of ``candidates``, e.g. one embedding per node2vec
    ``(p, q)``), ``C`` and ``normalize`` is fitted on the rest of the
    training nodes and scored on the validation part; the combination with
    the best validation macro-F1 (ties: first in order) is refitted on all
    training nodes and scored on the test nodes. This is the node2vec paper's
    protocol (p and q tuned on labelled data, not on the test nodes) with a
    single validation split instead of 10-fold cross-validation.

    The train/test splits are the same as :func:`node_classification`'s for
    the same ``random_state``, ``train_size`` and number of nodes, so both
    functions and several embeddings (e.g. two tools) are compared on
    identical splits.

    Parameters
    ----------
    candidates : DataFrame of shape (n_nodes, dim), or mapping key -> DataFrame
        Embeddings to choose among; all must hold the same node ids in the same order.
    labels : see :func:`node_classification`
    C : float or sequence of float
        Inverse L2 regularisation strengths to choose among.
    normalize : bool or sequence of bool
        Whether embedding rows are scaled to unit L2 norm; ``(False, True)`` chooses.
    val_size : float in (0, 1)
        Fraction of each split's training nodes used for validation.
    multilabel_rule : {"top_k", "threshold"}
        See :func:`node_classification`.

    Returns
    -------
    dict with ``micro_f1``, ``macro_f1`` (test means over repeats of the selected
    setting), their ``_std``, ``chosen`` (per repeat: ``(key, C, normalize)``),
    ``val_macro_f1`` (per repeat, of the chosen setting), ``per_candidate``
    (key -> test micro/macro-F1 means with the ``C`` / ``normalize`` chosen for
    that key on validation), ``n_repeats``, ``multilabel``, ``protocol``.
    """
    if not isinstance(candidates, dict):
        candidates = {None: candidates}
    if not candidates:
        raise ValueError("candidates is empty")
    if not 0 < val_size < 1:
        raise ValueError(f"val_size must be in (0, 1), got {val_size!r}")
    Cs = _as_tuple("C", C, (int, float))
    if any(c <= 0 for c in Cs):
        raise ValueError(f"C must be > 0, got {C!r}")
    norms = _as_tuple("normalize", normalize, (bool, np.bool_))
    mats = {}
    index = None
    for key, emb in candidates.items():
        X, keys = check_vectors(emb, name=f"candidates[{key!r}]" if key is not None else "embeddings")
        idx = keys if keys is not None else pd.RangeIndex(len(X))
        if index is None:
            index = idx
        elif not idx.equals(index):
            raise ValueError(f"candidates[{key!r}] has other node ids (or order) than the first candidate")
        mats[key] = X.astype(np.float64)
    splits, Y, multilabel = _splits(labels, index, len(index), train_size, n_repeats, multilabel_rule,
                                    random_state)
    val_rng = np.random.default_rng(splits[-1][1][:16].tolist() if splits else 0)
    micro, macro, chosen, val_best = [], [], [], []
    per_key = {k: ([], []) for k in mats}
    for tr, te in splits:
        perm = val_rng.permutation(len(tr))
        n_val = max(1, round(val_size * len(tr)))
        fit_part, val_part = tr[perm[n_val:]], tr[perm[:n_val]]
        best_overall = None
        for key, X in mats.items():
            best = None
            for c in Cs:
                for nm in norms:
                    v = _score_split(X, Y, fit_part, val_part, C=c, normalize=bool(nm),
                                     multilabel=multilabel, rule=multilabel_rule, n_jobs=n_jobs)[1]
                    if best is None or v > best[0]:
                        best = (v, c, bool(nm))
            mi, ma = _score_split(X, Y, tr, te, C=best[1], normalize=best[2], multilabel=multilabel,
                                  rule=multilabel_rule, n_jobs=n_jobs)
            per_key[key][0].append(mi)
            per_key[key][1].append(ma)
            if best_overall is None or best[0] > best_overall[0]:
                best_overall = (best[0], key, best[1], best[2], mi, ma)
        v, key, c, nm, mi, ma = best_overall
        micro.append(mi)
        macro.append(ma)
        chosen.append((key, c, nm))
        val_best.append(v)
    return {"micro_f1": float(np.mean(micro)), "macro_f1": float(np.mean(macro)),
            "micro_f1_std": float(np.std(micro)), "macro_f1_std": float(np.std(macro)),
            "chosen": chosen, "val_macro_f1": val_best,
            "per_candidate": {k: {"micro_f1": float(np.mean(a)), "macro_f1": float(np.mean(b))}
                              for k, (a, b) in per_key.items()},
            "n_repeats": int(n_repeats), "multilabel": bool(multilabel),
            "protocol": f"{multilabel_rule}, selected on validation"}


def _splits(labels, index, n, train_size, n_repeats, rule, random_state):
    if not 0 < train_size < 1:
        raise ValueError(f"train_size must be in (0, 1), got {train_size!r}")
    if rule not in MULTILABEL_RULES:
        raise ValueError(f"multilabel_rule must be one of {MULTILABEL_RULES}, got {rule!r}")
    Y, multilabel = _label_matrix(labels, index)
    if len(Y) != n:
        raise ValueError(f"labels has {len(Y)} rows but embeddings has {n}")
    rng = check_random_state(random_state)
    n_train = round(train_size * n)
    splits = []
    for _ in range(int(n_repeats)):
        perm = rng.permutation(n)
        splits.append((perm[:n_train], perm[n_train:]))
    return splits, Y, multilabel


def node_classification(embeddings: pd.DataFrame, labels: Any, *, train_size: float = 0.5,
                        n_repeats: int = 5, C: float = 1.0, normalize: bool = False,
                        multilabel_rule: str = "top_k", random_state: Any = None,
                        n_jobs: int | None = None) -> dict:
    """One-vs-rest logistic regression on the embeddings; micro/macro-F1 over repeated splits.

    Single-label data: multinomial logistic regression, predicted class = argmax.
    Multi-label data: one L2-regularised logistic regression per label, and

    - ``multilabel_rule="top_k"`` (default): each test node is given its ``k``
      highest-scored labels, ``k`` = its true number of labels. This is the
      protocol of DeepWalk, LINE and node2vec (their published F1 scores use it);
      note that it uses the number of true labels of each test node.
    - ``multilabel_rule="threshold"``: every label whose probability is >= 0.5;
      uses nothing of the test labels, and gives much lower macro-F1 on sets with
      rare labels (most rare labels are never predicted).

    Labels never seen among a split's training nodes are left out of that split's scores.
    To choose ``C``, row normalisation or among several embeddings on validation
    labels, use :func:`node_classification_select` (same splits).

    Parameters
    ----------
    embeddings : DataFrame of shape (n_nodes, dim)
    labels : Series (index = node id) or array of classes, list of label sets,
        or an indicator matrix (DataFrame / ndarray / scipy sparse of shape (n_nodes, n_labels)),
        rows in the order of ``embeddings``.
    train_size : float in (0, 1)
        Fraction of labelled nodes used for training in each split.
    n_repeats : int
        Random splits to average.
    C : float
        Inverse L2 regularisation strength of the logistic regressions.
    normalize : bool
        Scale each embedding row to unit L2 norm first.
    multilabel_rule : {"top_k", "threshold"}

    Returns
    -------
    dict with ``micro_f1``, ``macro_f1`` (means), ``micro_f1_std``, ``macro_f1_std``,
    ``n_repeats``, ``multilabel``, ``protocol``.
    """
    if not C > 0:
        raise ValueError(f"C must be > 0, got {C!r}")
    X, keys = check_vectors(embeddings, name="embeddings")
    index = keys if keys is not None else pd.RangeIndex(len(X))
    splits, Y, multilabel = _splits(labels, index, len(X), train_size, n_repeats, multilabel_rule,
                                    random_state)
    micro, macro = [], []
    for tr, te in splits:
        mi, ma = _score_split(X, Y, tr, te, C=C, normalize=normalize, multilabel=multilabel,
                              rule=multilabel_rule, n_jobs=n_jobs)
        micro.append(mi)
        macro.append(ma)
    return {"micro_f1": float(np.mean(micro)), "macro_f1": float(np.mean(macro)),
            "micro_f1_std": float(np.std(micro)), "macro_f1_std": float(np.std(macro)),
            "n_repeats": int(n_repeats), "multilabel": bool(multilabel),
            "protocol": multilabel_rule if multilabel else "argmax"}


def split_edges(graph: Any, *, test_size: float = 0.5, random_state: Any = None,
                **graph_kwargs: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out edges for link prediction and sample as many non-edges.

    Parameters
    ----------
    graph : any input :func:`graphemb.as_graph` accepts
    test_size : float in (0, 1)
        Fraction of the (non-self-loop) edges held out.

    Returns
    -------
    train_edges : DataFrame with columns ``src``, ``dst`` (and ``weight`` if weighted)
        The remaining edges: build the training graph from these (every node is
        kept: pass ``nodes=`` the original node ids to :func:`graphemb.as_graph`).
    test_pairs : DataFrame with columns ``src``, ``dst``, ``label``
        Held-out edges (label 1) and sampled node pairs that are not edges of
        the full graph (label 0), shuffled.
    """
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size!r}")
    g = graph if isinstance(graph, Graph) else as_graph(graph, **graph_kwargs)
    rng = check_random_state(random_state)
    ei = g.edge_index()
    w = g.weights
    keep = ei[0] != ei[1]
    if not g.directed:
        keep &= ei[0] < ei[1]
    loops = ei[:, ei[0] == ei[1]]
    src, dst = ei[0][keep], ei[1][keep]
    wk = w[keep] if w is not None else None
    m = len(src)
    if m < 2:
        raise ValueError(f"graph has {m} edge(s); link prediction needs at least 2")
    n_test = max(1, round(test_size * m))
    perm = rng.permutation(m)
    te, tr = perm[:n_test], perm[n_test:]
    n = g.n_nodes
    existing = set((ei[0] * n + ei[1]).tolist())
    neg: list[tuple[int, int]] = []
    seen: set[int] = set()
    max_pairs = n * (n - 1) - len(existing)
    if max_pairs < n_test:
        raise ValueError("graph is too dense to sample as many non-edges as held-out edges")
    while len(neg) < n_test:
        a = rng.integers(0, n, size=2 * (n_test - len(neg)) + 16)
        b = rng.integers(0, n, size=len(a))
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            if x == y:
                continue
            key, rkey = x * n + y, y * n + x
            if key in existing or key in seen or (not g.directed and (rkey in existing or rkey in seen)):
                continue
            seen.add(key)
            neg.append((x, y))
            if len(neg) == n_test:
                break
    nodes = g.nodes
    train = pd.DataFrame({"src": nodes[np.concatenate([src[tr], loops[0]])],
                          "dst": nodes[np.concatenate([dst[tr], loops[1]])]})
    if wk is not None:
        train["weight"] = np.concatenate([wk[tr], w[ei[0] == ei[1]]])
    neg_a = np.array([x for x, _ in neg], dtype=np.int64)
    neg_b = np.array([y for _, y in neg], dtype=np.int64)
    pairs = pd.DataFrame({
        "src": nodes[np.concatenate([src[te], neg_a])],
        "dst": nodes[np.concatenate([dst[te], neg_b])],
        "label": np.r_[np.ones(n_test, np.int8), np.zeros(n_test, np.int8)],
    })
    pairs = pairs.iloc[rng.permutation(len(pairs))].reset_index(drop=True)
    return train, pairs


def link_prediction(embeddings: pd.DataFrame, test_pairs: pd.DataFrame, *,
                    operator: str = "hadamard", train_fraction: float = 0.5,
                    random_state: Any = None) -> dict:
    """ROC-AUC of predicting held-out edges from edge embeddings.

    ``test_pairs`` (from :func:`split_edges`) is split in two: a logistic
    regression on edge embeddings is fitted on one part and scored on the
    other. ``auc_dot`` is the AUC of the plain dot product (no classifier).

    Returns
    -------
    dict with ``auc`` (classifier on ``operator`` edge features), ``auc_dot``, ``operator``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    for col in ("src", "dst", "label"):
        if col not in test_pairs.columns:
            raise KeyError(f"test_pairs has no column {col!r}; columns: {list(test_pairs.columns)}")
    y = test_pairs["label"].to_numpy()
    if len(np.unique(y)) != 2:
        raise ValueError("test_pairs must hold both positive (1) and negative (0) pairs")
    X = edge_embeddings(embeddings, test_pairs, operator=operator)
    dot = edge_embeddings(embeddings, test_pairs, operator="hadamard").sum(axis=1)
    rng = check_random_state(random_state)
    perm = rng.permutation(len(y))
    cut = round(train_fraction * len(y))
    tr, te = perm[:cut], perm[cut:]
    if len(np.unique(y[tr])) < 2 or len(np.unique(y[te])) < 2:
        raise ValueError("too few test pairs to split into classifier train/test parts")
    clf = LogisticRegression(max_iter=1000).fit(X[tr], y[tr])
    auc = roc_auc_score(y[te], clf.predict_proba(X[te])[:, 1])
    return {"auc": float(auc), "auc_dot": float(roc_auc_score(y[te], dot[te])), "operator": operator}
