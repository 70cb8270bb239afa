"""The ``embed`` chunk function: embed each row of a chunk with a saved TableEncoder.

Found by the scale-out driver (``nnstore.map_parquet`` / ``nnstore.map_dask``)
through the ``graphtab.chunks`` entry-point group.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from nnstore import append_columns, embeddings_frame, load_artifact_cached

from ._table_encoder import TableEncoder

__all__ = ["embed_chunk"]


def embed_chunk(chunk: pd.DataFrame, artifact: str | os.PathLike) -> pd.DataFrame:
    """Append the embedding of every row, from the TableEncoder saved at ``artifact``.

    The encoder is loaded once per process (:func:`nnstore.load_artifact_cached`).
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
