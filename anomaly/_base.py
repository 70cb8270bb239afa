"""The detector surface every anomaly detector shares (PyOD's, learnt once).

``fit(X)`` returns ``self`` and sets ``decision_scores_`` (the training
points' scores), ``threshold_`` and ``labels_``; ``decision_function(X)``
scores new points (higher = more anomalous); ``predict(X)`` gives 0/1 with
``score > threshold_``; ``predict_proba(X)`` gives scores calibrated to [0, 1].

Thresholds come from ``contamination`` by default (the ``1 - contamination``
quantile of the training scores, as PyOD), and can be reset after fitting
with :meth:`BaseDetector.set_threshold` from a contamination, a score
quantile or a fixed score.
"""

from __future__ import annotations

import logging
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from nnstore import NotFittedError, check_storable_keys, check_vectors

logger = logging.getLogger(__name__)

__all__ = ["KIND", "BaseDetector", "check_contamination", "load_detector"]

#: The artifact kind every saved detector has.
KIND = "anomaly_detector"

_REGISTRY: dict[str, type] = {}


def _register(cls):
    _REGISTRY[cls.__name__] = cls
    return cls


def check_contamination(contamination: Any, name: str = "contamination") -> float:
    """Return ``contamination`` as a float after checking it lies in (0, 0.5]."""
    if isinstance(contamination, bool) or not isinstance(contamination, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 0.5], got {contamination!r}")
    c = float(contamination)
    if not (0.0 < c <= 0.5):
        raise ValueError(f"{name} must be in (0, 0.5], got {contamination}")
    return c


class BaseDetector(BaseEstimator):
    """Base class of the anomaly detectors: the PyOD surface.

    Subclasses implement ``_fit(X, keys)`` (learn, return the training
    scores), ``_decision_function(X_checked)`` and ``_save_state`` /
    ``_load_state``.

    Attributes (after ``fit``)
    --------------------------
    decision_scores_ : ndarray of shape (n_samples,)
        Anomaly scores of the training points (higher = more anomalous).
    threshold_ : float
        Points scoring strictly above it are labelled 1 (anomaly).
    labels_ : ndarray of shape (n_samples,), int
        0/1 labels of the training points.
    n_features_in_ : int
    feature_names_in_ : ndarray of str or None
        Column names when fitted on a DataFrame (not for embeddings frames).
    keys_ : pandas.Index
        Row keys of the training points (a DataFrame's index, else 0..n-1).
    """

    # -- input ------------------------------------------------------------------
    def _check_X(self, X: Any, *, name: str = "X") -> tuple[np.ndarray, pd.Index | None]:
        """float32 (n, d) array and the DataFrame index (or None); feature checks."""
        names = getattr(self, "feature_names_in_", None)
        if isinstance(X, pd.Series):
            X = X.to_frame().T
        if isinstance(X, pd.DataFrame) and names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise KeyError(f"{name} lacks column(s) {missing[:10]} the detector was fitted with")
            X = X[list(names)]
        arr, keys = check_vectors(X, name=name)
        n_in = getattr(self, "n_features_in_", None)
        if n_in is not None and arr.shape[1] != n_in:
            raise ValueError(
                f"{name} has {arr.shape[1]} features, but {type(self).__name__} was fitted "
                f"with {n_in} (n_features_in_)"
            )
        return arr, keys

    @staticmethod
    def _feature_names(X: Any) -> np.ndarray | None:
        if isinstance(X, pd.DataFrame):
            return np.asarray([str(c) for c in X.columns], dtype=object)
        return None

    def _check_fitted(self) -> None:
        if not hasattr(self, "decision_scores_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X) before using it"
            )

    # -- fitting ----------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> BaseDetector:
        """Fit on ``X`` (array of shape (n_samples, n_features) or DataFrame); ``y`` is ignored.

        Returns
        -------
        self
        """
        contamination = check_contamination(self.contamination)
        arr, keys = check_vectors(X, name="X")
        if keys is not None:  # the row keys are saved with the model: refused before fitting
            check_storable_keys(keys, name="X index")
        self.n_features_in_ = arr.shape[1]
        names = self._feature_names(X)
        if names is not None and all(n.startswith("emb_") for n in names):
            names_for_select = None  # embeddings frames are read by check_vectors as they come
        else:
            names_for_select = names
        self.feature_names_in_ = names_for_select
        self.feature_names_ = (list(names) if names is not None
                               else [f"x{i}" for i in range(arr.shape[1])])
        self.keys_ = keys if keys is not None else pd.RangeIndex(len(arr))
        scores = np.asarray(self._fit(arr), dtype=np.float64)
        self.decision_scores_ = scores
        self._set_threshold_from_quantile(1.0 - contamination)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).labels_``."""
        return self.fit(X).labels_

    # -- scoring ----------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores of ``X`` (higher = more anomalous).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features) or DataFrame

        Returns
        -------
        scores : ndarray of shape (n_queries,), float64
        """
        self._check_fitted()
        arr, _ = self._check_X(X)
        return np.asarray(self._decision_function(arr), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels of ``X``: 1 where ``decision_function(X) > threshold_``."""
        return (self.decision_function(X) > self.threshold_).astype(np.int64)

    def calibrate(self, scores: np.ndarray, method: str = "linear") -> np.ndarray:
        """Map raw scores to [0, 1] using the training scores.

        ``"linear"``: min-max over the training scores, clipped to [0, 1].
        ``"unify"``: Gaussian scaling (Kriegel et al., SDM 2011):
        ``max(0, erf((s - mean) / (std * sqrt(2))))`` with the training mean/std.
        """
        self._check_fitted()
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
        """Probability of being normal / anomalous, shape (n_queries, 2) (PyOD's layout).

        Column 1 is :meth:`calibrate` applied to ``decision_function(X)``.
        """
        p = self.calibrate(self.decision_function(X), method)
        return np.column_stack([1.0 - p, p])

    def score_frame(self, X: Any, *, method: str = "linear") -> pd.DataFrame:
        """Scores as a DataFrame indexed like ``X`` (a DataFrame's index, else 0..n-1).

        Columns: ``score`` (raw), ``probability`` (calibrated, see :meth:`calibrate`),
        ``label`` (0/1 against ``threshold_``).
        """
        self._check_fitted()
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
        """Reset ``threshold_`` (and ``labels_``) from exactly one of:

        contamination : float in (0, 0.5]
            The share of training points to flag (threshold = the
            ``1 - contamination`` quantile of the training scores).
        quantile : float in (0, 1)
            That quantile of the training scores.
        score : float
            A fixed raw score.
        """
        self._check_fitted()
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
        return {
            "detector": type(self).__name__,
            "n_features": int(self.n_features_in_),
            "n_samples": len(self.decision_scores_),
            "threshold": float(self.threshold_),
            "feature_names_in": None if self.feature_names_in_ is None
            else [str(c) for c in self.feature_names_in_],
            "feature_names": [str(c) for c in self.feature_names_],
            "key_name": None if self.keys_.name is None else str(self.keys_.name),
        }

    def _restore_common(self, art) -> None:
        info = art.info
        self.n_features_in_ = int(info["n_features"])
        fni = info.get("feature_names_in")
        self.feature_names_in_ = None if fni is None else np.asarray(fni, dtype=object)
        self.feature_names_ = list(info["feature_names"])
        self.threshold_ = float(info["threshold"])
        self.decision_scores_ = art.load_array("decision_scores")
        self.labels_ = (self.decision_scores_ > self.threshold_).astype(np.int64)
        self.keys_ = art.load_frame("keys").index

    @classmethod
    def load(cls, path: str | Path) -> BaseDetector:
        """Load a detector saved with :meth:`save` (any detector class)."""
        det = load_detector(path)
        if not isinstance(det, cls):
            raise TypeError(f"{str(path)!r} holds a {type(det).__name__}, not a {cls.__name__}")
        return det


def load_detector(path: str | Path) -> BaseDetector:
    """Load any saved anomaly detector (the class is read from the manifest)."""
    from nnstore import read_artifact

    art = read_artifact(path, kind=KIND)
    name = art.info.get("detector")
    if name not in _REGISTRY:
        raise ValueError(f"{str(path)!r} holds an unknown detector {name!r}; known: {sorted(_REGISTRY)}")
    return _REGISTRY[name]._from_artifact(art)
