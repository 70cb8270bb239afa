"""The ``anomaly`` chunk function: score each row of a chunk with a saved detector.

Found by the scale-out driver (``nnstore.map_parquet`` / ``nnstore.map_dask``)
through the ``graphtab.chunks`` entry-point group.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from nnstore import append_columns, embedding_columns, load_artifact_cached

from ._base import load_detector

__all__ = ["score_chunk"]


def score_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, columns: list[str] | None = None,
                prefix: str = "anomaly", method: str = "linear") -> pd.DataFrame:
    """Append anomaly scores from the detector saved at ``artifact``.

    The detector is loaded once per process (:func:`nnstore.load_artifact_cached`).

    Parameters
    ----------
    chunk : DataFrame of shape (n_rows, ...)
        Holds the detector's features: the columns it was fitted on when it was
        fitted on named columns, else ``emb_0 .. emb_{n_features-1}`` (an embed
        step's output), or the columns named by ``columns``, in order.
    artifact : str or Path
    columns : list of str, optional
    prefix : str, default "anomaly"
    method : {"linear", "unify"}, default "linear"
        Calibration of the probability (see ``BaseDetector.calibrate``).

    Returns
    -------
    DataFrame
        ``chunk`` plus ``{prefix}_score`` (float64, higher = more anomalous),
        ``{prefix}_probability`` (float64 in [0, 1]) and ``{prefix}_label`` (int64, 1 =
        above the detector's threshold).
    """
    det = load_artifact_cached(load_detector, artifact)
    if columns is not None:
        cols = list(columns)
    elif det.feature_names_in_ is not None:
        cols = list(det.feature_names_in_)
    else:
        cols = embedding_columns(det.n_features_in_)
    missing = [c for c in cols if c not in chunk.columns]
    if missing:
        raise KeyError(f"anomaly: the chunk lacks feature column(s) {missing[:10]} of the detector; "
                       f"it has {list(chunk.columns)[:20]}")
    if len(chunk) == 0:
        s = np.empty(0, dtype=np.float64)
        frame = pd.DataFrame({"score": s, "probability": s, "label": np.empty(0, dtype=np.int64)})
    else:
        X = np.ascontiguousarray(chunk[cols].to_numpy(dtype=np.float32))
        frame = det.score_frame(X, method=method)
    frame.columns = [f"{prefix}_{c}" for c in frame.columns]
    return append_columns(chunk, frame, step="anomaly")
