"""``explain``: why a point scores as it does, from its nearest normal training neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nnstore import kneighbors

__all__ = ["explain_point"]


def _point(det, x: Any) -> tuple[np.ndarray, int | None]:
    """The point as a float32 (1, d) vector in the original units, and its training row
    (None for a vector)."""
    if isinstance(x, (np.ndarray, pd.Series, pd.DataFrame, list, tuple)):
        if isinstance(x, pd.Series):
            x = x.to_frame().T
        elif not isinstance(x, pd.DataFrame) and np.ndim(x) == 1:
            x = np.asarray(x)[None, :]
        vec, _ = det._check_X(x, name="x")
        if len(vec) != 1:
            raise ValueError(f"x must be one point, got {len(vec)} rows")
        return vec, None
    if x not in det.keys_:
        raise KeyError(f"x={x!r} is neither a vector nor a training key")
    row = int(det.keys_.get_loc(x))
    return (det._X[row] * det.scale_ + det.center_)[None, :].astype(np.float32), row


def explain_point(det, x: Any, n_neighbors: int | None = None) -> pd.DataFrame:
    """The table :meth:`KNNDetector.explain` returns, for a fitted distance detector ``det``.

    The neighbours are searched exactly among the training points labelled 0
    (``det.labels_``), in the detector's scaled space; a training key's own row
    is left out.
    """
    vec, skip = _point(det, x)
    m = max(int(det.n_neighbors), 5) if n_neighbors is None else n_neighbors
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"n_neighbors must be an int >= 1, got {m!r}")
    normal = np.flatnonzero(det.labels_ == 0)
    if skip is not None:
        normal = normal[normal != skip]
    if len(normal) == 0:
        raise ValueError("no normal training point to compare with")
    m = min(int(m), len(normal))
    xs = det._scale(vec)[0]
    idx, dist = kneighbors(det._X[normal], xs[None, :], k=m, metric="euclidean", method="exact")
    rows = normal[idx[0]]
    neigh = det._X[rows].astype(np.float64) * det.scale_ + det.center_
    value = vec[0].astype(np.float64)
    mean = neigh.mean(axis=0)
    std = neigh.std(axis=0, ddof=1) if m > 1 else np.zeros_like(mean)
    floor = 0.1 * np.where(det.feature_std_ > 0, det.feature_std_, 1.0)
    z = (value - mean) / np.maximum(std, floor)
    out = pd.DataFrame({"value": value, "neighbor_mean": mean, "neighbor_std": std,
                        "z_score": z}, index=pd.Index(det.feature_names_, name="feature"))
    out = out.iloc[np.argsort(-np.abs(z), kind="stable")]
    score = float(det.decision_scores_[skip]) if skip is not None else float(
        det._decision_function(vec)[0])
    out.attrs["neighbors"] = list(det.keys_[rows])
    out.attrs["neighbor_distances"] = [float(v) for v in dist[0]]
    out.attrs["score"] = score
    out.attrs["label"] = int(score > det.threshold_)
    return out
