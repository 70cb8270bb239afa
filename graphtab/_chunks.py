"""The built-in chunk functions of the batch / scale-out pipeline.

Every batch operation is a *chunk function* ``f(chunk, artifact, **options) -> DataFrame``
that returns ``chunk`` with its own columns appended (same index, same rows, same order);
:mod:`graphtab._scaleout` runs them in a loop over Parquet files or on Dask. The built-in
ones, found by name (the ``graphtab.chunks`` entry-point group, which other distributions
may extend):

=============  =================================  ==========================================
name           artifact                           appends
=============  =================================  ==========================================
``embed``      a saved ``tabemb.TableEncoder``    ``emb_0 .. emb_{d-1}`` (float32)
``neighbors``  a saved ``nnstore.NeighborStore``  ``neighbor_key_{i}``, ``neighbor_distance_{i}``
``anomaly``    a saved anomaly detector           ``anomaly_score``, ``anomaly_probability``,
                                                  ``anomaly_label``
``recommend``  a saved ``graphemb.Recommender``   ``rec_item_{i}``, ``rec_score_{i}``
=============  =================================  ==========================================

Each loads its artifact once per process (:func:`graphtab.load_artifact_cached`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from nnstore import NeighborStore, check_keys, embedding_columns, embeddings_frame

from ._scaleout import append_columns, load_artifact_cached

__all__ = ["anomaly_chunk", "embed_chunk", "neighbors_chunk", "recommend_chunk"]


def neighbors_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, k: int = 10,
                    columns: list[str] | None = None, prefix: str = "neighbor",
                    search_k: int | None = None, n_jobs: int | None = None) -> pd.DataFrame:
    """Append the ``k`` nearest neighbours of each row from a saved :class:`NeighborStore`.

    The store is loaded once per process (:func:`graphtab.load_artifact_cached`)
    with ``mmap=True``: its Annoy index and vectors are memory-mapped, shared by
    every process on the machine through the page cache.

    Parameters
    ----------
    chunk : DataFrame of shape (n_rows, ...)
        Holds the query vectors: ``emb_0 .. emb_{dim-1}`` (an embed step's output),
        or the columns named by ``columns``, in order.
    artifact : str or Path
        The store's artifact directory.
    k : int, default 10
    columns : list of str, optional
        Vector columns (default ``emb_0 .. emb_{dim-1}`` of the store's dim).
    prefix : str, default "neighbor"
    search_k, n_jobs : optional
        Passed to :meth:`NeighborStore.query_arrays`.

    Returns
    -------
    DataFrame
        ``chunk`` plus, for i in 0..k-1, ``{prefix}_key_{i}`` (the i-th nearest key;
        nullable Int64 when the store's keys are integers, else object; missing
        past the store's size) and ``{prefix}_distance_{i}`` (float32, ascending;
        inf when missing).
    """
    store = load_artifact_cached(NeighborStore.load, artifact)
    cols = list(columns) if columns is not None else embedding_columns(store.dim)
    missing = [c for c in cols if c not in chunk.columns]
    if missing:
        raise KeyError(f"neighbors: the chunk lacks vector column(s) {missing[:10]} (the store has "
                       f"dim {store.dim}); it has {list(chunk.columns)[:20]}")
    if len(cols) != store.dim:
        raise ValueError(f"neighbors: {len(cols)} vector columns given, the store has dim {store.dim}")
    X = np.ascontiguousarray(chunk[cols].to_numpy(dtype=np.float32))
    keys, dists, _ = store.query_arrays(X, k, search_k=search_k, n_jobs=n_jobs)
    int_keys = store.keys.inferred_type == "integer"
    new: dict[str, Any] = {}
    for i in range(keys.shape[1]):
        col = keys[:, i]
        new[f"{prefix}_key_{i}"] = pd.array(col.tolist(), dtype="Int64") if int_keys else col
    for i in range(dists.shape[1]):
        new[f"{prefix}_distance_{i}"] = dists[:, i]
    return append_columns(chunk, pd.DataFrame(new), step="neighbors")


def recommend_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, k: int = 10,
                    user_col: str = "user", prefix: str = "rec", exclude_seen: bool = True,
                    unknown_users: str = "popular") -> pd.DataFrame:
    """Append the top-``k`` items of each row's user, from the Recommender saved at ``artifact``.

    The recommender is loaded once per process (:func:`graphtab.load_artifact_cached`).
    The result is :meth:`Recommender.recommend` on the chunk's users, laid out one
    row per user (wide) instead of one row per (user, rank).

    Parameters
    ----------
    chunk : DataFrame of shape (n_rows, ...)
        Holds the user ids in ``user_col`` (repeats allowed).
    artifact : str or Path
        The recommender's artifact directory (``Recommender.save``).
    k : int, default 10
    user_col : str, default "user"
    prefix : str, default "rec"
    exclude_seen : bool, default True
        Never return items the user interacted with in ``fit``.
    unknown_users : {"popular", "error"}, default "popular"
        Users absent from ``fit`` get the most popular items, or fail the chunk.

    Returns
    -------
    DataFrame
        ``chunk`` plus, for i in 0..k-1, ``{prefix}_item_{i}`` (the item at rank i;
        nullable Int64 when the item ids are integers, else object; missing when
        fewer than i + 1 items qualify) and ``{prefix}_score_{i}`` (float32, higher
        = better; NaN when missing).
    """
    from graphemb import Recommender

    model = load_artifact_cached(Recommender.load, artifact)
    if user_col not in chunk.columns:
        raise KeyError(f"recommend: the chunk has no user column {user_col!r}; "
                       f"it has {list(chunk.columns)[:20]}")
    if unknown_users not in ("popular", "error"):
        raise ValueError(f"recommend: unknown_users must be 'popular' or 'error', got {unknown_users!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"recommend: k must be a positive int, got {k!r}")
    users = check_keys(chunk[user_col].tolist(), name=user_col, unique=False)
    if len(users):
        keys, scores = model._recommend_arrays(users, k, filter=None, exclude_seen=exclude_seen,
                                               unknown_users=unknown_users)
    else:
        keys = np.empty((0, k), dtype=object)
        scores = np.empty((0, k), dtype=np.float32)
    int_items = model.items_.inferred_type == "integer"
    new: dict[str, Any] = {}
    for i in range(k):
        col = keys[:, i]
        new[f"{prefix}_item_{i}"] = pd.array(col.tolist(), dtype="Int64") if int_items else col
    for i in range(k):
        new[f"{prefix}_score_{i}"] = scores[:, i]
    return append_columns(chunk, pd.DataFrame(new), step="recommend")


def embed_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike) -> pd.DataFrame:
    """Append the embedding of every row, from the TableEncoder saved at ``artifact``.

    The encoder is loaded once per process (:func:`graphtab.load_artifact_cached`).
    Only the columns the encoder was fitted on are read (the chunk may carry
    others: keys, ids, columns for later steps).

    Parameters
    ----------
    chunk : DataFrame of shape (n_rows, ...)
        Must hold every column the encoder was fitted on (``KeyError`` names the missing).
    artifact : str or Path
        The encoder's artifact directory.

    Returns
    -------
    DataFrame
        ``chunk`` plus ``emb_0 .. emb_{dim-1}`` (float32, unit length).
    """
    from tabemb import TableEncoder

    enc = load_artifact_cached(TableEncoder.load, artifact)
    cols = list(enc.feature_names_in_)
    missing = [c for c in cols if c not in chunk.columns]
    if missing:
        raise KeyError(f"embed: the chunk lacks column(s) {missing} that the encoder was fitted on; "
                       f"it has {list(chunk.columns)[:20]}")
    if len(chunk) == 0:
        emb = embeddings_frame(np.empty((0, enc.dim_), dtype=np.float32), chunk.index)
    else:
        emb = enc.transform(chunk[cols])
    return append_columns(chunk, emb, step="embed")


def anomaly_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, columns: list[str] | None = None,
                prefix: str = "anomaly", method: str = "linear") -> pd.DataFrame:
    """Append anomaly scores from the detector saved at ``artifact``.

    The detector is loaded once per process (:func:`graphtab.load_artifact_cached`).

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
    from anomaly import load_detector

    det = load_artifact_cached(load_detector, artifact)
    if columns is not None:
        cols = list(columns)
    elif getattr(det, "feature_names_in_", None) is not None:
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
