"""What the distance-based detectors share: input scaling, the neighbour index,
``explain`` and save/load."""

from __future__ import annotations

import logging
import numbers
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnstore import ArtifactWriter

from ._base import KIND, BaseDetector
from ._neighbors import NeighborIndex, resolve_backend

logger = logging.getLogger(__name__)

__all__ = ["SCALERS", "fit_scaler"]

SCALERS = ("standard", "robust", None)


def fit_scaler(X: np.ndarray, scaler: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(center, scale) per feature, float32; ``X_scaled = (X - center) / scale``.

    ``"standard"``: mean and standard deviation. ``"robust"``: median and
    inter-quartile range (falling back to the standard deviation, then 1, for a
    feature whose IQR is 0). ``None``: no scaling. A constant feature gets
    scale 1.
    """
    d = X.shape[1]
    if scaler is None:
        return np.zeros(d, np.float32), np.ones(d, np.float32)
    X64 = X.astype(np.float64)
    std = X64.std(axis=0)
    if scaler == "standard":
        center, scale = X64.mean(axis=0), std
    elif scaler == "robust":
        q25, center, q75 = np.percentile(X64, [25, 50, 75], axis=0)
        scale = q75 - q25
        scale = np.where(scale > 0, scale, std)
    else:
        raise ValueError(f"scaler must be one of {SCALERS}, got {scaler!r}")
    scale = np.where(scale > 0, scale, 1.0)
    return center.astype(np.float32), scale.astype(np.float32)


def _check_k(n_neighbors: Any, n_samples: int) -> int:
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, numbers.Integral):
        raise TypeError(f"n_neighbors must be a positive int, got {n_neighbors!r}")
    k = int(n_neighbors)
    if k < 1:
        raise ValueError(f"n_neighbors must be >= 1, got {k}")
    if k >= n_samples:
        raise ValueError(
            f"n_neighbors (k={k}) must be smaller than the number of training samples ({n_samples})"
        )
    return k


class DistanceDetector(BaseDetector):
    """A detector scoring points by their distances to the k nearest training points.

    Subclasses implement ``_scores_from(d, idx, training)`` and may keep extra
    fitted arrays listed in ``_state_arrays``.
    """

    _state_arrays: tuple[str, ...] = ()

    def _fit(self, X: np.ndarray) -> np.ndarray:
        k = _check_k(self.n_neighbors, len(X))
        if self.scaler not in SCALERS:
            raise ValueError(f"scaler must be one of {SCALERS}, got {self.scaler!r}")
        self.backend_ = resolve_backend(self.backend, len(X), X.shape[1])
        self.center_, self.scale_ = fit_scaler(X, self.scaler)
        Xs = self._scale(X)
        self.feature_std_ = X.astype(np.float64).std(axis=0)
        self._index = NeighborIndex(self.backend_, n_jobs=self.n_jobs, random_state=self.random_state,
                                    n_trees=self.n_trees, search_k=self.search_k).fit(Xs)
        self._X = Xs
        d, idx = self._index.train_kneighbors(k)
        return self._scores_from(d, idx, training=True)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((X - self.center_) / self.scale_, dtype=np.float32)

    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        d, idx = self._index.kneighbors(self._scale(X), int(self.n_neighbors))
        return self._scores_from(d, idx, training=False)

    # -- explanation --------------------------------------------------------------
    def explain(self, x: Any, *, n_neighbors: int | None = None) -> pd.DataFrame:
        """Why a point scores as it does: its nearest *normal* training neighbours and
        how far each feature sits from them.

        Parameters
        ----------
        x : one point: 1-D array, Series, 1-row DataFrame, or a training key
            (a hashable in ``keys_``; that point itself is then left out of
            its neighbours).
        n_neighbors : int, optional
            How many normal neighbours (training points with ``labels_ == 0``);
            default ``max(n_neighbors, 5)``.

        Returns
        -------
        DataFrame indexed by feature name, sorted by ``|z_score|`` descending,
        with columns ``value`` (the point's value), ``neighbor_mean``,
        ``neighbor_std`` (over the normal neighbours, original units) and
        ``z_score = (value - neighbor_mean) / max(neighbor_std, 0.1 * feature_std)``
        where ``feature_std`` is the feature's training standard deviation (the
        floor keeps a feature on which the neighbours agree exactly from
        dominating). ``attrs`` holds ``neighbors`` (their keys, nearest first),
        ``neighbor_distances`` (in the scaled space), ``score`` and ``label``.
        """
        self._check_fitted()
        skip = None
        if not isinstance(x, (np.ndarray, pd.Series, pd.DataFrame, list, tuple)):
            if x not in self.keys_:
                raise KeyError(f"x={x!r} is neither a vector nor a training key")
            skip = int(self.keys_.get_loc(x))
            vec = self._X[skip] * self.scale_ + self.center_
            vec = vec[None, :].astype(np.float32)
        else:
            vec, _ = self._check_X(x, name="x")
            if len(vec) != 1:
                raise ValueError(f"x must be one point, got {len(vec)} rows")
        m = max(int(self.n_neighbors), 5) if n_neighbors is None else int(n_neighbors)
        if m < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {m}")
        normal = np.flatnonzero(self.labels_ == 0)
        if skip is not None:
            normal = normal[normal != skip]
        if len(normal) == 0:
            raise ValueError("no normal training point to compare with")
        m = min(m, len(normal))
        xs = self._scale(vec)[0]
        dist = np.sqrt(np.square(self._X[normal] - xs).sum(axis=1, dtype=np.float64))
        part = np.argpartition(dist, m - 1)[:m] if m < len(normal) else np.arange(len(normal))
        order = part[np.lexsort((part, dist[part]))]
        rows = normal[order]
        neigh = self._X[rows].astype(np.float64) * self.scale_ + self.center_
        value = vec[0].astype(np.float64)
        mean = neigh.mean(axis=0)
        std = neigh.std(axis=0, ddof=1) if m > 1 else np.zeros_like(mean)
        floor = 0.1 * np.where(self.feature_std_ > 0, self.feature_std_, 1.0)
        z = (value - mean) / np.maximum(std, floor)
        out = pd.DataFrame({"value": value, "neighbor_mean": mean, "neighbor_std": std,
                            "z_score": z}, index=pd.Index(self.feature_names_, name="feature"))
        out = out.iloc[np.argsort(-np.abs(z), kind="stable")]
        score = float(self.decision_scores_[skip]) if skip is not None else float(
            self._decision_function(vec)[0])
        out.attrs["neighbors"] = list(self.keys_[rows])
        out.attrs["neighbor_distances"] = [float(v) for v in dist[order]]
        out.attrs["score"] = score
        out.attrs["label"] = int(score > self.threshold_)
        return out

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Save as an artifact directory (kind ``"anomaly_detector"``): the scaled
        training vectors, the scaler, the fitted state and, for the annoy
        backend, the saved NeighborStore in the subdirectory ``store``."""
        self._check_fitted()
        info = self._common_info()
        info["backend"] = self.backend_
        with ArtifactWriter(path, kind=KIND, params=self.get_params(), **info) as w:
            w.save_array("vectors", self._X)
            w.save_array("center", self.center_)
            w.save_array("scale", self.scale_)
            w.save_array("feature_std", self.feature_std_)
            w.save_array("decision_scores", self.decision_scores_)
            for name in self._state_arrays:
                w.save_array(name, getattr(self, name))
            w.save_frame("keys", pd.DataFrame(index=self.keys_))
            if self.backend_ == "annoy":
                self._index.save_store(w.file_path("store"))

    @classmethod
    def _from_artifact(cls, art) -> DistanceDetector:
        self = cls(**art.params)
        self._restore_common(art)
        self.backend_ = art.info["backend"]
        self._X = np.ascontiguousarray(art.load_array("vectors"))
        self.center_ = art.load_array("center")
        self.scale_ = art.load_array("scale")
        self.feature_std_ = art.load_array("feature_std")
        for name in cls._state_arrays:
            setattr(self, name, art.load_array(name))
        self._index = NeighborIndex.restore(
            self.backend_, self._X, art.path / "store", n_jobs=self.n_jobs,
            random_state=self.random_state, n_trees=self.n_trees, search_k=self.search_k)
        return self
