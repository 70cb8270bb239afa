"""Score-averaging ensemble of detectors (Aggarwal & Sathe, "Outlier Ensembles", 2017)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone

from nnstore import ArtifactError, ArtifactWriter, StrOptions, check_is_fitted

from ._base import KIND, BaseDetector, _register, load_detector

__all__ = ["EnsembleDetector"]

COMBINATIONS = ("mean", "max")


def _default_members() -> list:
    from ._knn import KNNDetector
    from ._lof import LOFDetector

    return [KNNDetector(), LOFDetector()]


@_register
class EnsembleDetector(BaseDetector):
    """Average (or maximum) of several detectors' standardised scores.

    Each member is fitted on the same ``X``; its scores are standardised with
    the mean and standard deviation of its own training scores (z-scores, so
    that a kNN distance and a LOF ratio are on one scale) and the ensemble
    score is their mean (``combination="mean"``) or maximum (``"max"``).

    Parameters
    ----------
    detectors : list of detectors, optional
        Unfitted anomaly detectors (cloned at fit; the given objects are not
        changed). None: ``[KNNDetector(), LOFDetector()]``.
    combination : {"mean", "max"}, default "mean"
        How the members' z-scores become one score.
    contamination : float in (0, 0.5], default 0.1
        Share of training points flagged; sets ``threshold_``.

    Attributes
    ----------
    detectors_ : list of fitted detectors
    score_mean_, score_std_ : ndarray of shape (n_detectors,)
        The members' training-score means and standard deviations.
    decision_scores_, threshold_, labels_, n_features_in_, keys_
        As in :class:`KNNDetector`.

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
    >>> from anomaly import EnsembleDetector, KNNDetector, LOFDetector
    >>> X = np.r_[np.random.default_rng(0).normal(size=(200, 2)), [[6.0, 6.0]]]
    >>> ens = EnsembleDetector([KNNDetector(5), LOFDetector(10)], contamination=0.01).fit(X)
    >>> int(ens.decision_scores_.argmax()), len(ens.detectors_)
    (200, 2)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDetector._parameter_constraints,
        "detectors": [list, None],
        "combination": [StrOptions(set(COMBINATIONS))],
    }

    def __init__(self, detectors: list | None = None, *, combination: str = "mean",
                 contamination: float = 0.1) -> None:
        self.detectors = detectors
        self.combination = combination
        self.contamination = contamination

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.detectors is not None:
            if len(self.detectors) == 0:
                raise ValueError("The 'detectors' parameter of anomaly.EnsembleDetector must be a "
                                 "non-empty list of detectors (or None), got []")
            bad = [type(d).__name__ for d in self.detectors if not isinstance(d, BaseDetector)]
            if bad:
                raise ValueError("The 'detectors' parameter of anomaly.EnsembleDetector must hold "
                                 f"anomaly detectors, got {bad}")

    def _combine(self, member_scores: np.ndarray) -> np.ndarray:
        z = (member_scores - self.score_mean_[:, None]) / self.score_std_[:, None]
        return z.mean(axis=0) if self.combination == "mean" else z.max(axis=0)

    def fit(self, X: Any, y: Any = None) -> EnsembleDetector:
        """Fit every member on ``X`` and combine their training scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or DataFrame
        y : None
            Ignored.

        Returns
        -------
        self
        """
        self._X_input = X
        try:
            super().fit(X)
        finally:
            del self._X_input
        return self

    def _fit(self, X: np.ndarray) -> np.ndarray:
        members = _default_members() if self.detectors is None else self.detectors
        self.detectors_ = [clone(d).fit(self._X_input) for d in members]
        raw = np.stack([d.decision_scores_ for d in self.detectors_])
        self.score_mean_ = raw.mean(axis=1)
        std = raw.std(axis=1)
        self.score_std_ = np.where(std > 0, std, 1.0)
        return self._combine(raw)

    def _decision_function(self, X: np.ndarray) -> np.ndarray:
        raw = np.stack([d._decision_function(X) for d in self.detectors_])
        return self._combine(raw)

    def explain(self, x: Any, *, n_neighbors: int | None = None) -> pd.DataFrame:
        """The first distance-based member's ``explain``, against the ensemble's normal points.

        Parameters
        ----------
        x : array-like of shape (n_features,) or (1, n_features), Series, 1-row DataFrame, or key
            As in :meth:`KNNDetector.explain`.
        n_neighbors : int, optional
            As in :meth:`KNNDetector.explain`.

        Returns
        -------
        DataFrame
            As :meth:`KNNDetector.explain`, with the ensemble's score and label
            in ``attrs``.
        """
        check_is_fitted(self)
        for d in self.detectors_:
            if hasattr(d, "explain"):
                saved = d.labels_
                d.labels_ = self.labels_
                try:
                    out = d.explain(x, n_neighbors=n_neighbors)
                finally:
                    d.labels_ = saved
                if isinstance(x, (np.ndarray, pd.Series, pd.DataFrame, list, tuple)):
                    frame = x.to_frame().T if isinstance(x, pd.Series) else x
                    if not isinstance(frame, pd.DataFrame) and np.ndim(frame) == 1:
                        frame = np.asarray(frame)[None, :]
                    vec, _ = self._check_X(frame, name="x")
                    score = float(self._decision_function(vec)[0])
                else:
                    score = float(self.decision_scores_[self.keys_.get_loc(x)])
                out.attrs["score"] = score
                out.attrs["label"] = int(score > self.threshold_)
                return out
        raise TypeError("no member of this ensemble can explain")

    def save(self, path: str | Path) -> Path:
        """Save as an artifact (kind ``"anomaly_detector"``); each member is saved as
        its own artifact in the subdirectory ``member_<i>``.

        Parameters
        ----------
        path : str or Path
            The artifact directory to write (an existing artifact there is replaced only
            once the new one is complete).

        Returns
        -------
        Path
            The artifact directory.
        """
        check_is_fitted(self)
        info = self._common_info()
        info["n_members"] = len(self.detectors_)
        params = {"combination": self.combination, "contamination": self.contamination}
        required = ["decision_scores.npy", "score_mean.npy", "score_std.npy", "keys.parquet"]
        with ArtifactWriter(path, kind=KIND, params=params, required=required, **info) as w:
            w.save_array("decision_scores", self.decision_scores_)
            w.save_array("score_mean", self.score_mean_)
            w.save_array("score_std", self.score_std_)
            w.save_frame("keys", pd.DataFrame(index=self.keys_))
            for i, d in enumerate(self.detectors_):
                d.save(w.file_path(f"member_{i}"))
        return Path(path)

    @classmethod
    def _from_artifact(cls, art) -> EnsembleDetector:
        self = cls(**art.params)
        self._restore_common(art)
        self.score_mean_ = art.load_array("score_mean")
        self.score_std_ = art.load_array("score_std")
        n_members = int(art.info["n_members"])
        if self.score_mean_.shape != (n_members,) or self.score_std_.shape != (n_members,):
            raise ArtifactError(f"{str(art.path)!r}: score_mean/score_std have shapes "
                                f"{self.score_mean_.shape}/{self.score_std_.shape}, expected "
                                f"({n_members},) for {n_members} members", reason="invalid_content",
                                path=str(art.path))
        self.detectors_ = [load_detector(art.path / f"member_{i}") for i in range(n_members)]
        self.detectors = [clone(d) for d in self.detectors_]
        return self
