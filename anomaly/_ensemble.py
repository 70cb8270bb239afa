"""Score-averaging ensemble of detectors (Aggarwal & Sathe, "Outlier Ensembles", 2017)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnstore import ArtifactWriter

from ._base import KIND, BaseDetector, _register, load_detector

__all__ = ["EnsembleDetector"]

COMBINATIONS = ("mean", "max")


@_register
class EnsembleDetector(BaseDetector):
    """Average of several detectors' standardised scores.

    Each member is fitted on the same ``X``; its scores are standardised with
    the mean and standard deviation of its own training scores (z-scores, so
    that a KNN distance and a LOF ratio are on one scale) and the ensemble
    score is their mean (``combination="mean"``) or maximum (``"max"``).

    Parameters
    ----------
    detectors : list of detectors
        Unfitted detectors (cloned at fit; the given objects are not changed).
    combination : {"mean", "max"}, default "mean"
    contamination : float in (0, 0.5], default 0.1

    Attributes
    ----------
    detectors_ : list of fitted detectors
    score_mean_, score_std_ : ndarray of shape (n_detectors,)
        The members' training-score means and standard deviations.

    Shapes
    ------
    fit: X (n_samples, n_features) -> decision_scores_ (n_samples,)
    decision_function: X (n_queries, n_features) -> (n_queries,)
    """

    def __init__(self, detectors: list | None = None, *, combination: str = "mean",
                 contamination: float = 0.1) -> None:
        self.detectors = detectors
        self.combination = combination
        self.contamination = contamination

    def _combine(self, member_scores: np.ndarray) -> np.ndarray:
        z = (member_scores - self.score_mean_[:, None]) / self.score_std_[:, None]
        return z.mean(axis=0) if self.combination == "mean" else z.max(axis=0)

    def fit(self, X: Any, y: Any = None) -> EnsembleDetector:
        if not self.detectors:
            raise ValueError("detectors must be a non-empty list of detectors, got "
                             f"{self.detectors!r}")
        bad = [type(d).__name__ for d in self.detectors if not isinstance(d, BaseDetector)]
        if bad:
            raise TypeError(f"detectors must be anomaly detectors, got {bad}")
        if self.combination not in COMBINATIONS:
            raise ValueError(f"combination must be one of {COMBINATIONS}, got {self.combination!r}")
        self._X_input = X
        try:
            super().fit(X)
        finally:
            del self._X_input
        return self

    def _fit(self, X: np.ndarray) -> np.ndarray:
        from sklearn.base import clone

        self.detectors_ = [clone(d).fit(self._X_input) for d in self.detectors]
        raw = np.stack([d.decision_scores_ for d in self.detectors_])
        self.score_mean_ = raw.mean(axis=1)
        std = raw.std(axis=1)
        self.score_std_ = np.where(std > 0, std, 1.0)
        return self._combine(raw)

    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        raw = np.stack([d._decision_function(X) for d in self.detectors_])
        return self._combine(raw)

    def explain(self, x: Any, *, n_neighbors: int | None = None) -> pd.DataFrame:
        """The first distance-based member's :meth:`~KNNDetector.explain`, with the
        ensemble's score and label in ``attrs``."""
        self._check_fitted()
        for d in self.detectors_:
            if hasattr(d, "explain"):
                # explain against the ensemble's normal points
                saved = d.labels_
                d.labels_ = self.labels_
                try:
                    out = d.explain(x, n_neighbors=n_neighbors)
                finally:
                    d.labels_ = saved
                if isinstance(x, (np.ndarray, pd.Series, pd.DataFrame, list, tuple)):
                    vec, _ = self._check_X(x, name="x")
                    score = float(self._decision_function(vec)[0])
                else:
                    score = float(self.decision_scores_[self.keys_.get_loc(x)])
                out.attrs["score"] = score
                out.attrs["label"] = int(score > self.threshold_)
                return out
        raise TypeError("no member of this ensemble can explain")

    def save(self, path: str | Path) -> None:
        """Save as an artifact (kind ``"anomaly_detector"``); each member is saved as
        its own artifact in the subdirectory ``member_<i>``."""
        self._check_fitted()
        info = self._common_info()
        info["n_members"] = len(self.detectors_)
        params = {"combination": self.combination, "contamination": self.contamination}
        with ArtifactWriter(path, kind=KIND, params=params, **info) as w:
            w.save_array("decision_scores", self.decision_scores_)
            w.save_array("score_mean", self.score_mean_)
            w.save_array("score_std", self.score_std_)
            w.save_frame("keys", pd.DataFrame(index=self.keys_))
            for i, d in enumerate(self.detectors_):
                d.save(w.file_path(f"member_{i}"))

    @classmethod
    def _from_artifact(cls, art) -> EnsembleDetector:
        self = cls(**art.params)
        self._restore_common(art)
        self.score_mean_ = art.load_array("score_mean")
        self.score_std_ = art.load_array("score_std")
        self.detectors_ = [load_detector(art.path / f"member_{i}")
                           for i in range(int(art.info["n_members"]))]
        self.detectors = [d for d in self.detectors_]
        return self
