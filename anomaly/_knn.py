"""k-nearest-neighbour distance detector (Ramaswamy et al., SIGMOD 2000; Angiulli & Pizzuti 2002)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from nnstore import StrOptions

from ._base import _register
from ._distance import DistanceDetector

__all__ = ["KNNDetector"]

METHODS = ("largest", "mean", "median")


@_register
class KNNDetector(DistanceDetector):
    """Score = a point's distance to its k nearest training points.

    The same definition as PyOD's ``KNN``: ``method="largest"`` is the
    distance to the k-th nearest neighbour, ``"mean"`` the mean and
    ``"median"`` the median of the k distances. Training points are scored
    against their neighbours with themselves excluded (a duplicate of a point
    still counts); new points against all training points. Distances are
    Euclidean, after the input scaling.

    Parameters
    ----------
    n_neighbors : int, default 5
        k; must be smaller than the number of training samples.
    method : {"largest", "mean", "median"}, default "largest"
        How the k distances become one score.
    contamination : float in (0, 0.5], default 0.1
        Share of training points flagged; sets ``threshold_``.
    backend : {"auto", "exact", "annoy"}, default "auto"
        The neighbour search, nnstore's (:func:`nnstore.kneighbors`).
        ``"exact"``: exact distances (nnstore's k-d tree in few dimensions, its
        blocked exact search in many); ``"annoy"``: an Annoy-backed
        :class:`nnstore.NeighborStore` (approximate, much faster on large
        data); ``"auto"``: annoy from ``anomaly.AUTO_ANNOY_MIN_SAMPLES`` rows
        and ``AUTO_ANNOY_MIN_FEATURES`` features on, exact otherwise. The
        measurements behind the switch are in ``benchmarks/results/anomaly.md``.
    scaler : {"standard", "robust"} or None, default "robust"
        Per-feature scaling learnt at fit (see :func:`anomaly.fit_scaler`):
        "robust" = median / inter-quartile range, the best of the three on
        ADBench (``benchmarks/results/anomaly.md``).
    n_trees : int, default 10
        Annoy trees for the annoy backend: more trees give distances closer to
        the exact ones and cost build and query time. An anomaly score needs
        neighbourhood distances, not exact neighbour identities, so the
        default is lower than the store's own (measured trade-off in
        ``benchmarks/results/anomaly.md``).
    search_k : int, optional
        Nodes Annoy inspects per query (None: the store's default, ``n_trees``
        times the neighbours fetched); more = closer to exact, slower.
    n_jobs : int, optional
        Threads for the neighbour search: None means 1, -1 all cores
        (scikit-learn's meaning).
    random_state : int, numpy Generator or None, default None
        Seeds the Annoy trees of the internal store (the exact backend is
        deterministic). None: fresh entropy.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,), float64
        The training points' scores (each with itself left out).
    threshold_ : float
        Scores strictly above it are labelled 1.
    labels_ : ndarray of shape (n_samples,), int64
        0/1 labels of the training points.
    backend_ : {"exact", "annoy"}
        The backend ``"auto"`` resolved to.
    center_, scale_ : ndarray of shape (n_features,), float32
        The scaler's per-feature center and scale.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with named (non ``emb_*``) columns.
    keys_ : pandas.Index
        The training rows' keys.

    Notes
    -----
    The conventions are PyOD's, not scikit-learn's outlier convention:
    ``decision_function`` is *higher* for more anomalous rows and ``predict``
    gives 1 for an anomaly, 0 otherwise (scikit-learn's ``IsolationForest``
    gives -1 / +1 with *lower* = more anomalous). The class is a
    ``BaseEstimator`` with ``OutlierMixin`` (clone, ``get_params`` /
    ``set_params``, pipelines), but its scikit-learn tags report no
    ``"outlier_detector"`` type, so tools that assume scikit-learn's sign do not
    read these scores the wrong way round. ``fit_predict(X)`` returns
    ``labels_`` (the training rows scored with themselves left out), which can
    differ from ``fit(X).predict(X)`` (the rows scored as new points).

    The array-returning methods (``decision_function``, ``predict``,
    ``predict_proba``) return plain arrays in the order of ``X``'s rows;
    :meth:`score_frame` returns the same scores as a DataFrame indexed like
    ``X``.

    Shapes
    ------
    fit: X (n_samples, n_features) -> decision_scores_ (n_samples,)
    decision_function, predict: X (n_queries, n_features) -> (n_queries,)
    predict_proba: X (n_queries, n_features) -> (n_queries, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from anomaly import KNNDetector
    >>> X = np.r_[np.random.default_rng(0).normal(size=(200, 2)), [[8.0, 8.0]]]
    >>> det = KNNDetector(n_neighbors=5, contamination=0.01).fit(X)
    >>> int(det.decision_scores_.argmax()), int(det.labels_[-1])
    (200, 1)
    """

    _parameter_constraints: ClassVar[dict] = {
        **DistanceDetector._parameter_constraints,
        "method": [StrOptions(set(METHODS))],
    }

    def __init__(self, n_neighbors: int = 5, *, method: str = "largest", contamination: float = 0.1,
                 backend: str = "auto", scaler: str | None = "robust", n_trees: int | None = 10,
                 search_k: int | None = None, n_jobs: int | None = None,
                 random_state=None) -> None:
        self.n_neighbors = n_neighbors
        self.method = method
        self.contamination = contamination
        self.backend = backend
        self.scaler = scaler
        self.n_trees = n_trees
        self.search_k = search_k
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _scores_from(self, d: np.ndarray, idx: np.ndarray, *, training: bool) -> np.ndarray:
        if self.method == "largest":
            return d[:, -1].copy()
        if self.method == "mean":
            return d.mean(axis=1)
        return np.median(d, axis=1)
