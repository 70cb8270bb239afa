"""The ``recommend`` chunk function: top-k items for each user id of a chunk.

Found by the scale-out driver (``nnstore.map_parquet`` / ``nnstore.map_dask``)
through the ``graphtab.chunks`` entry-point group.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from nnstore import append_columns, load_artifact_cached
from nnstore._validation import check_keys

from ._recommend import Recommender

__all__ = ["recommend_chunk"]


def recommend_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, k: int = 10,
                    user_col: str = "user", prefix: str = "rec", exclude_seen: bool = True,
                    unknown_users: str = "popular") -> pd.DataFrame:
    """Append the top-``k`` items of each row's user, from the Recommender saved at ``artifact``.

    The recommender is loaded once per process (:func:`nnstore.load_artifact_cached`).
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
