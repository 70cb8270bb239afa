"""The detector surface every anomaly detector shares (PyOD's, learnt once).

``fit(X)`` returns ``self`` and sets ``decision_scores_`` (the training
points' scores), ``threshold_`` and ``labels_``; ``decision_function(X)``
scores new points (higher = more anomalous); ``predict(X)`` gives 0/1 with
``score > threshold_``; ``predict_proba(X)`` gives scores calibrated to [0, 1].

Thresholds come from ``contamination`` by default (the ``1 - contamination``
quantile of the training scores, as PyOD), and can be reset after fitting
with :meth:`BaseDetector.set_threshold` from a contamination, a score
quantile or a fixed score.

Conventions: PyOD's, not scikit-learn's outlier convention
------------------------------------------------------------
scikit-learn's outlier detectors (``IsolationForest``, ``LocalOutlierFactor``)
return ``predict`` in {-1 (outlier), +1 (inlier)} and a ``decision_function``
that is *lower* for outliers. The detectors here keep PyOD's surface instead:
``decision_function`` is *higher* for anomalies and ``predict`` gives 1 for an
anomaly, 0 for a normal point. They are ``OutlierMixin`` estimators (clone,
``get_params``/``set_params``, pipelines, ``fit_predict``), but they report no
``"outlier_detector"`` estimator type in their scikit-learn tags, so tools
that assume scikit-learn's sign convention do not read these scores the wrong
way round.
"""

from __future__ import annotations

import logging
import numbers
from abc import ABCMeta, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin

from nnstore import (
    Interval,
    InvalidParameterError,
    check_is_fitted,
    check_storable_keys,
    public_name,
    validate_params,
)

from ._validation import check_input

logger = logging.getLogger(__name__)

__all__ = ["KIND", "BaseDetector", "check_contamination", "load_detector"]

#: The artifact kind every saved detector has.
KIND = "anomaly_detector"

#: ``contamination``: the share of training points flagged, in (0, 0.5].
CONTAMINATION = [Interval(numbers.Real, 0.0, 0.5, closed="right")]

_REGISTRY: dict[str, type] = {}


def _register(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def check_contamination(contamination: Any, name: str = "contamination") -> float:
    """``contamination`` as a float after checking that it lies in (0, 0.5].

    Parameters
    ----------
    contamination : float
        The value to check.
    name : str, default "contamination"
        The name used in the error message.

    Returns
    -------
    float
        ``contamination`` as a float.

    Raises
    ------
    TypeError
        Not a real number (a bool is refused).
    ValueError
        Outside (0, 0.5].
    """
    if isinstance(contamination, bool) or not isinstance(contamination, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 0.5], got {contamination!r}")
    c = float(contamination)
    if not (0.0 < c <= 0.5):
        raise ValueError(f"{name} must be in (0, 0.5], got {contamination}")
    return c


class BaseDetector(OutlierMixin, BaseEstimator, metaclass=ABCMeta):
    """Abstract base class of the anomaly detectors: the PyOD surface on a scikit-learn estimator.

    Not fitted itself (it cannot be instantiated): subclasses declare
    ``_parameter_constraints`` and implement ``_fit(X)`` (learn from the
    checked float32 array, return the training scores) and
    ``_decision_function(X)`` (scores of checked new rows), plus ``save`` and
    ``_from_artifact``.

    Attributes
    ----------
    decision_scores_ : ndarray of shape (n_samples,), float64
        Anomaly scores of the training points (higher = more anomalous).
    threshold_ : float
        Points scoring strictly above it are labelled 1 (anomaly).
    labels_ : ndarray of shape (n_samples,), int64
        0/1 labels of the training points.
    n_features_in_ : int
        Number of features seen at fit.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with named columns (not for an
        embeddings frame, whose ``emb_*`` columns are read in order); then
        scoring selects these columns by name. Absent otherwise.
    keys_ : pandas.Index
        Row keys of the training points (a DataFrame's index, else 0..n-1).
    """

    _parameter_constraints: ClassVar[dict] = {"contamination": CONTAMINATION}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # PyOD's convention (1 = anomaly, higher = more anomalous) is not scikit-learn's outlier
        # convention (-1 = outlier, lower = more anomalous): do not claim the latter
        tags.estimator_type = None
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "decision_scores_")

    # -- input ------------------------------------------------------------------
    def _check_X(self, X: Any, *, name: str = "X") -> tuple[np.ndarray, pd.Index | None]:
        """float32 (n, d) array and the DataFrame index (or None), checked against the fit."""
        return check_input(X, name=name, estimator=self, n_features=self.n_features_in_,
                           feature_names=getattr(self, "feature_names_in_", None))

    # -- fitting ----------------------------------------------------------------
    #: integer parameters for which a bool (an ``Integral`` to Python) is refused
    _int_params: tuple[str, ...] = ()

    def _validate_params(self) -> None:
        validate_params(self)
        for name in self._int_params:
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):
                raise InvalidParameterError(f"The '{name}' parameter of {public_name(self)} must be "
                                            f"an int, got the bool {value!r} instead.")

    def fit(self, X: Any, y: Any = None) -> BaseDetector:
        """Fit the detector on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or DataFrame
            Training rows. A DataFrame's index becomes ``keys_`` (saved with the
            model; it must be storable: str, int, tuples of them, ...).
        y : None
            Ignored (present for scikit-learn's API).

        Returns
        -------
        self
            With ``decision_scores_``, ``threshold_`` and ``labels_`` set.

        Raises
        ------
        ValueError
            A bad parameter (named), or bad input (see ``check_input``).
        TypeError
            An index that cannot be stored.
        """
        self._validate_params()
        arr, keys = check_input(X, name="X")
        if keys is not None:  # the row keys are saved with the model: refused before fitting
            check_storable_keys(keys, name="X index")
        for attr in ("feature_names_in_",):
            if hasattr(self, attr):
                delattr(self, attr)
        self.n_features_in_ = arr.shape[1]
        if isinstance(X, pd.DataFrame):
            names = np.asarray([str(c) for c in X.columns], dtype=object)
            if not all(n.startswith("emb_") for n in names):
                self.feature_names_in_ = names  # embeddings frames are read by position
            self.feature_names_ = list(names)
        else:
            self.feature_names_ = [f"x{i}" for i in range(arr.shape[1])]
        self.keys_ = keys if keys is not None else pd.RangeIndex(len(arr))
        scores = np.asarray(self._fit(arr), dtype=np.float64)
        self.decision_scores_ = scores
        self._set_threshold_from_quantile(1.0 - float(self.contamination))
        return self

    @abstractmethod
    def _fit(self, X: np.ndarray) -> np.ndarray:
        """Learn from the checked training rows; return their scores, shape (n_samples,)."""

    @abstractmethod
    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores of checked new rows, shape (n_queries,)."""

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on ``X`` and return the training labels ``labels_`` (1 = anomaly, 0 = normal).

        These are the labels of the training scores (each training point
        scored with itself left out of its neighbours), PyOD's ``fit_predict``;
        ``fit(X).predict(X)`` instead scores the rows as new points.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or DataFrame
            Training rows, as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int64
            The training rows' labels, in their order.
        """
        return self.fit(X).labels_

    # -- scoring ----------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores of new rows (higher = more anomalous).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or DataFrame
            A DataFrame fitted with named columns is read by those names.

        Returns
        -------
        scores : ndarray of shape (n_queries,), float64
            In the order of ``X``'s rows; a plain array (use :meth:`score_frame`
            to keep a DataFrame's index).
        """
        check_is_fitted(self)
        arr, _ = self._check_X(X)
        return np.asarray(self._decision_function(arr), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels of new rows: 1 where ``decision_function(X) > threshold_``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or DataFrame
            The rows to label (read as in :meth:`decision_function`).

        Returns
        -------
        labels : ndarray of shape (n_queries,), int64
            In the order of ``X``'s rows (1 = anomaly).
        """
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def calibrate(self, scores: Any, method: str = "linear") -> np.ndarray:
        """Map raw scores to [0, 1] using the training scores.

        Parameters
        ----------
        scores : array-like of shape (n,)
            Raw scores (``decision_function``'s).
        method : {"linear", "unify"}, default "linear"
            ``"linear"``: min-max over the training scores, clipped to [0, 1].
            ``"unify"``: Gaussian scaling (Kriegel et al., SDM 2011):
            ``max(0, erf((s - mean) / (std * sqrt(2))))`` with the training mean/std.

        Returns
        -------
        ndarray of shape (n,), float64
            The calibrated scores, in [0, 1].
        """
        check_is_fitted(self)
        s = np.asarray(scores, dtype=np.float64)
        train = self.decision_scores_
        if method == "linear":
            lo, hi = float(train.min()), float(train.max())
            span = hi - lo
            p = (s - lo) / span if span > 0 else np.zeros_like(s)
        elif method == "unify":
            from scipy.special import erf

            mu, sd = float(train.mean()), float(train.std())
            p = erf((s - mu) / ((sd if sd > 0 else 1.0) * np.sqrt(2.0)))
        else:
            raise ValueError(f"method must be 'linear' or 'unify', got {method!r}")
        return np.clip(p, 0.0, 1.0)

    def predict_proba(self, X: Any, method: str = "linear") -> np.ndarray:
        """Probability of being normal / anomalous (PyOD's layout).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or DataFrame
            The rows to score.
        method : {"linear", "unify"}, default "linear"
            See :meth:`calibrate`.

        Returns
        -------
        ndarray of shape (n_queries, 2), float64
            Column 1 is :meth:`calibrate` of ``decision_function(X)``, column 0
            its complement; rows in the order of ``X``.
        """
        p = self.calibrate(self.decision_function(X), method)
        return np.column_stack([1.0 - p, p])

    def score_frame(self, X: Any, *, method: str = "linear") -> pd.DataFrame:
        """Scores of new rows as a DataFrame indexed like ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or DataFrame
            The rows to score; a DataFrame's index becomes the output's index.
        method : {"linear", "unify"}, default "linear"
            Calibration of ``probability`` (see :meth:`calibrate`).

        Returns
        -------
        DataFrame of shape (n_queries, 3)
            Index: ``X``'s index when it is a DataFrame, else 0..n-1. Columns
            ``score`` (raw, float64), ``probability`` (calibrated, float64) and
            ``label`` (0/1 against ``threshold_``, int64).
        """
        check_is_fitted(self)
        arr, keys = self._check_X(X)
        s = np.asarray(self._decision_function(arr), dtype=np.float64)
        index = keys if keys is not None else pd.RangeIndex(len(arr))
        return pd.DataFrame({"score": s, "probability": self.calibrate(s, method),
                             "label": (s > self.threshold_).astype(np.int64)}, index=index)

    # -- thresholds -------------------------------------------------------------
    def _set_threshold_from_quantile(self, q: float) -> None:
        # np.percentile(..., 100 * q) with linear interpolation, as PyOD
        self.threshold_ = float(np.percentile(self.decision_scores_, 100.0 * q))
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)

    def set_threshold(self, *, contamination: float | None = None, quantile: float | None = None,
                      score: float | None = None) -> BaseDetector:
        """Reset ``threshold_`` (and ``labels_``) from exactly one of three rules.

        Parameters
        ----------
        contamination : float in (0, 0.5], optional
            The share of training points to flag (threshold = the
            ``1 - contamination`` quantile of the training scores).
        quantile : float in (0, 1), optional
            That quantile of the training scores.
        score : float, optional
            A fixed raw score.

        Returns
        -------
        self
            With ``threshold_`` and ``labels_`` reset.

        Raises
        ------
        ValueError
            Not exactly one rule given, or a value out of its range.
        """
        check_is_fitted(self)
        given = {k: v for k, v in {"contamination": contamination, "quantile": quantile,
                                   "score": score}.items() if v is not None}
        if len(given) != 1:
            raise ValueError("set_threshold needs exactly one of contamination, quantile, score; "
                             f"got {sorted(given) or 'none'}")
        if contamination is not None:
            self._set_threshold_from_quantile(1.0 - check_contamination(contamination))
        elif quantile is not None:
            if not (0.0 < float(quantile) < 1.0):
                raise ValueError(f"quantile must be in (0, 1), got {quantile}")
            self._set_threshold_from_quantile(float(quantile))
        else:
            if not np.isfinite(score):
                raise ValueError(f"score must be a finite number, got {score}")
            self.threshold_ = float(score)
            self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        return self

    # -- persistence ------------------------------------------------------------
    def _common_info(self) -> dict:
        fni = getattr(self, "feature_names_in_", None)
        return {
            "detector": type(self).__name__,
            "n_features": int(self.n_features_in_),
            "n_samples": len(self.decision_scores_),
            "threshold": float(self.threshold_),
            "feature_names_in": None if fni is None else [str(c) for c in fni],
            "feature_names": [str(c) for c in self.feature_names_],
            "key_name": None if self.keys_.name is None else str(self.keys_.name),
        }

    def _restore_common(self, art) -> None:
        info = art.info
        self.n_features_in_ = int(info["n_features"])
        fni = info.get("feature_names_in")
        if fni is not None:
            self.feature_names_in_ = np.asarray(fni, dtype=object)
        self.feature_names_ = list(info["feature_names"])
        self.threshold_ = float(info["threshold"])
        self.decision_scores_ = art.load_array("decision_scores")
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        self.keys_ = art.load_frame("keys").index
        n = int(info["n_samples"])
        if len(self.decision_scores_) != n or len(self.keys_) != n:
            from nnstore import ArtifactError

            raise ArtifactError(f"{str(art.path)!r}: the detector's arrays disagree with its manifest "
                                f"(n_samples {n}, {len(self.decision_scores_)} scores, "
                                f"{len(self.keys_)} keys)", reason="invalid_content",
                                path=str(art.path))

    @classmethod
    def load(cls, path: str | Path) -> BaseDetector:
        """Load a detector saved with ``save``.

        Parameters
        ----------
        path : str or Path
            The artifact directory.

        Returns
        -------
        detector
            An instance of ``cls`` (``BaseDetector.load`` loads any detector).

        Raises
        ------
        nnstore.ArtifactError
            A missing, damaged or foreign artifact (see its ``reason``).
        TypeError
            The artifact holds another detector class.
        """
        det = load_detector(path)
        if not isinstance(det, cls):
            raise TypeError(f"{str(path)!r} holds a {public_name(det)}, not a {public_name(cls)}")
        return det


def load_detector(path: str | Path) -> BaseDetector:
    """Load any saved anomaly detector (the class is read from the manifest).

    Parameters
    ----------
    path : str or Path
        The artifact directory written by ``save``.

    Returns
    -------
    KNNDetector, LOFDetector or EnsembleDetector
        The detector, fitted as it was saved.

    Raises
    ------
    nnstore.ArtifactError
        A missing, damaged or foreign artifact.
    ValueError
        The manifest names no known detector class.
    """
    from nnstore import read_artifact

    art = read_artifact(path, kind=KIND)
    name = art.info.get("detector")
    if name not in _REGISTRY:
        raise ValueError(f"{str(path)!r} holds an unknown detector {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name]._from_artifact(art)
