"""Local outlier factor (Breunig, Kriegel, Ng & Sander, SIGMOD 2000)."""

from __future__ import annotations

import numpy as np

from ._base import _register
from ._distance import DistanceDetector

__all__ = ["LOFDetector"]


@_register
class LOFDetector(DistanceDetector):
    """Score = the local outlier factor of a point (about 1 inside a cluster, larger outside).

    With ``N_k(p)`` the k nearest training neighbours of ``p`` (for a
    training point, itself excluded) and ``k_dist(o)`` the distance from a
    training point ``o`` to its k-th neighbour:

    - reachability distance ``reach_k(p, o) = max(k_dist(o), d(p, o))``;
    - local reachability density ``lrd(p) = 1 / (mean_{o in N_k(p)} reach_k(p, o) + 1e-10)``;
    - ``LOF(p) = mean_{o in N_k(p)} lrd(o) / lrd(p)``.

    This is scikit-learn's ``LocalOutlierFactor`` (``-negative_outlier_factor_``
    on the training points, ``-score_samples(X)`` on new points with
    ``novelty=True``) and PyOD's ``LOF``, including the 1e-10 that keeps
    duplicates finite.

    Parameters
    ----------
    n_neighbors : int, default 20
        k; must be smaller than the number of training samples.
    contamination : float in (0, 0.5], default 0.1
        Share of training points flagged; sets ``threshold_``.
    backend : {"auto", "exact", "annoy"}, default "auto"
    scaler : {"standard", "robust"} or None, default "robust"
    n_trees : int, default 10
    search_k : int, optional
    n_jobs : int, optional
        None means 1 thread, -1 all cores.
    random_state : int, numpy Generator or None, default None
        As in :class:`KNNDetector`.

    Attributes
    ----------
    decision_scores_, threshold_, labels_, backend_, center_, scale_, n_features_in_, keys_
        As in :class:`KNNDetector`.
    k_distance_ : ndarray of shape (n_samples,)
        Each training point's distance to its k-th neighbour.
    lrd_ : ndarray of shape (n_samples,)
        Each training point's local reachability density.

    Notes
    -----
    PyOD's conventions (higher = more anomalous, ``predict`` 1 = anomaly), not
    scikit-learn's outlier convention; see :class:`KNNDetector` (Notes) for
    what that means for scikit-learn tools, ``fit_predict`` and the
    array-returning methods.

    Shapes
    ------
    fit: X (n_samples, n_features) -> decision_scores_ (n_samples,)
    decision_function, predict: X (n_queries, n_features) -> (n_queries,)

    Examples
    --------
    >>> import numpy as np
    >>> from anomaly import LOFDetector
    >>> X = np.r_[np.random.default_rng(0).normal(size=(200, 2)), [[6.0, 6.0]]]
    >>> det = LOFDetector(n_neighbors=10, contamination=0.01).fit(X)
    >>> int(det.decision_scores_.argmax())
    200
    """

    _state_arrays = ("k_distance_", "lrd_")

    def __init__(self, n_neighbors: int = 20, *, contamination: float = 0.1, backend: str = "auto",
                 scaler: str | None = "robust", n_trees: int | None = 10,
                 search_k: int | None = None, n_jobs: int | None = None,
                 random_state=None) -> None:
        self.n_neighbors = n_neighbors
        self.contamination = contamination
        self.backend = backend
        self.scaler = scaler
        self.n_trees = n_trees
        self.search_k = search_k
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _lrd(self, d: np.ndarray, idx: np.ndarray) -> np.ndarray:
        reach = np.maximum(d, self.k_distance_[idx])
        return 1.0 / (reach.mean(axis=1) + 1e-10)

    def _scores_from(self, d: np.ndarray, idx: np.ndarray, *, training: bool) -> np.ndarray:
        if training:
            self.k_distance_ = d[:, -1].copy()
            self.lrd_ = self._lrd(d, idx)
            lrd = self.lrd_
        else:
            lrd = self._lrd(d, idx)
        return self.lrd_[idx].mean(axis=1) / lrd
