"""The ``neighbors`` chunk function: the k nearest stored keys of each row's vector.

Found by the scale-out driver through the ``graphtab.chunks`` entry-point group
(see :mod:`nnstore._scaleout`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from ._scaleout import append_columns, load_artifact_cached
from ._store import NeighborStore
from ._validation import embedding_columns

__all__ = ["neighbors_chunk"]


def neighbors_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike, *, k: int = 10,
                    columns: list[str] | None = None, prefix: str = "neighbor",
                    search_k: int | None = None, n_jobs: int | None = None) -> pd.DataFrame:
    """Append the ``k`` nearest neighbours of each row from a saved :class:`NeighborStore`.

    The store is loaded once per process (:func:`nnstore.load_artifact_cached`)
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
