"""What the distance-based detectors share: input scaling, the neighbour search,
``explain`` and save/load."""

from __future__ import annotations

import logging
import numbers
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nnstore import (
    N_JOBS,
    RANDOM_STATE,
    ArtifactWriter,
    Interval,
    StrOptions,
    check_is_fitted,
    check_random_state,
    effective_n_jobs,
)

from ._base import KIND, BaseDetector
from ._explain import explain_point
from ._neighbors import BACKENDS, NeighborIndex, resolve_backend
from ._scaling import fit_scaler
from ._validation import check_n_neighbors

logger = logging.getLogger(__name__)

__all__ = ["DistanceDetector"]

#: the files every saved distance detector has
_REQUIRED = ("vectors.npy", "center.npy", "scale.npy", "feature_std.npy", "decision_scores.npy",
             "keys.parquet")


def _store_seed(random_state: Any) -> int | None:
    """The int seed the internal store gets from ``random_state`` (None: fresh entropy)."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).integers(0, 2**31 - 1))


class DistanceDetector(BaseDetector):
    """A detector scoring points by their distances to the k nearest training points.

    Subclasses implement ``_scores_from(d, idx, training)`` (``d``: float64
    (n, k) ascending distances, ``idx``: int64 (n, k) training rows) and may keep
    extra fitted arrays listed in ``_state_arrays``.
    """

    _state_arrays: tuple[str, ...] = ()
    _int_params = ("n_neighbors", "n_trees", "search_k", "n_jobs", "random_state")

    _parameter_constraints: ClassVar[dict] = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
        "backend": [StrOptions(set(BACKENDS))],
        "scaler": [StrOptions({"standard", "robust"}), None],
        "n_trees": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "search_k": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
    }

    def _fit(self, X: np.ndarray) -> np.ndarray:
        k = check_n_neighbors(self.n_neighbors, len(X))
        self.backend_ = resolve_backend(self.backend, len(X), X.shape[1])
        self.center_, self.scale_ = fit_scaler(X, self.scaler)
        Xs = self._scale(X)
        self.feature_std_ = X.astype(np.float64).std(axis=0)
        self._index = NeighborIndex(self.backend_, n_jobs=effective_n_jobs(self.n_jobs),
                                    random_state=_store_seed(self.random_state),
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
        x : array-like of shape (n_features,) or (1, n_features), Series, 1-row DataFrame, or key
            One point, or a training key (a hashable in ``keys_``; that point
            itself is then left out of its neighbours).
        n_neighbors : int, optional
            How many normal neighbours (training points with ``labels_ == 0``);
            default ``max(n_neighbors, 5)``.

        Returns
        -------
        DataFrame of shape (n_features, 4)
            Indexed by feature name, sorted by ``|z_score|`` descending, with
            columns ``value`` (the point's value), ``neighbor_mean``,
            ``neighbor_std`` (over the normal neighbours, original units) and
            ``z_score = (value - neighbor_mean) / max(neighbor_std, 0.1 * feature_std)``
            where ``feature_std`` is the feature's training standard deviation
            (the floor keeps a feature on which the neighbours agree exactly
            from dominating). ``attrs`` holds ``neighbors`` (their keys,
            nearest first), ``neighbor_distances`` (in the scaled space),
            ``score`` and ``label``.

        Raises
        ------
        KeyError
            ``x`` is neither a vector nor a training key.
        ValueError
            More than one row, a bad vector, or ``n_neighbors < 1``.
        """
        check_is_fitted(self)
        return explain_point(self, x, n_neighbors)

    # -- persistence ----------------------------------------------------------------
    def _saved_params(self) -> dict:
        params = self.get_params(deep=False)
        if not (params["random_state"] is None or isinstance(params["random_state"], numbers.Integral)):
            params["random_state"] = None  # a Generator is not saved; its trees are
        return params

    def save(self, path: str | Path) -> Path:
        """Save as an artifact directory (kind ``"anomaly_detector"``).

        It holds the scaled training vectors, the scaler, the fitted state and,
        for the annoy backend, the NeighborStore in the subdirectory ``store``.

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
        info["backend"] = self.backend_
        required = [*_REQUIRED, *(f"{a}.npy" for a in self._state_arrays)]
        with ArtifactWriter(path, kind=KIND, params=self._saved_params(), required=required,
                            **info) as w:
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
        return Path(path)

    @classmethod
    def _from_artifact(cls, art) -> DistanceDetector:
        from nnstore import ArtifactError

        self = cls(**art.params)
        self._restore_common(art)
        self.backend_ = art.info["backend"]
        self._X = np.ascontiguousarray(art.load_array("vectors"))
        self.center_ = art.load_array("center")
        self.scale_ = art.load_array("scale")
        self.feature_std_ = art.load_array("feature_std")
        for name in cls._state_arrays:
            setattr(self, name, art.load_array(name))
        n, d = len(self.decision_scores_), self.n_features_in_
        shapes = {"vectors": (self._X.shape, (n, d)), "center": (self.center_.shape, (d,)),
                  "scale": (self.scale_.shape, (d,)), "feature_std": (self.feature_std_.shape, (d,)),
                  **{a: (getattr(self, a).shape, (n,)) for a in cls._state_arrays}}
        bad = {k: v for k, v in shapes.items() if v[0] != v[1]}
        if bad:
            raise ArtifactError(f"{str(art.path)!r}: array shapes disagree with the manifest "
                                f"(n_samples {n}, n_features {d}): "
                                + ", ".join(f"{k} {g} (expected {e})" for k, (g, e) in bad.items()),
                                reason="invalid_content", path=str(art.path))
        if self.backend_ == "annoy" and not (art.path / "store").is_dir():
            raise ArtifactError(f"{str(art.path)!r} lacks the subdirectory 'store' (the detector's "
                                "neighbour store, backend 'annoy')", reason="missing_file",
                                path=str(art.path / "store"))
        self._index = NeighborIndex.restore(
            self.backend_, self._X, art.path / "store", n_jobs=effective_n_jobs(self.n_jobs),
            random_state=_store_seed(self.random_state), n_trees=self.n_trees,
            search_k=self.search_k)
        return self
