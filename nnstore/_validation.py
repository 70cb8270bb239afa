"""Helpers every graphtab package shares: random state, input checks, the
embeddings-frame convention.

The embeddings DataFrame
------------------------
One row per node or record; the index is the node id or record key (any
hashable, not only 0..n-1); the columns are ``emb_0 .. emb_{d-1}``; the values
are float32. :func:`embeddings_frame` builds one, :func:`check_vectors` reads
one back (or an array) into a float32 matrix plus its keys.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "EMB_PREFIX",
    "check_keys",
    "check_random_state",
    "check_vectors",
    "embedding_columns",
    "embeddings_frame",
    "seed_from",
    "torch_generator",
]

EMB_PREFIX = "emb_"


# -- random state ---------------------------------------------------------------
def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``random_state`` into a local ``numpy.random.Generator``.

    ``None`` gives fresh OS entropy, an int (or ``numpy.random.SeedSequence``)
    a reproducible generator, a ``Generator`` is returned as is. The global
    numpy seed is never read or touched.
    """
    if random_state is None or isinstance(random_state, np.random.SeedSequence):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise TypeError(
        "random_state must be None, a non-negative int or a numpy Generator, "
        f"got {type(random_state).__name__}"
    )


def seed_from(rng: np.random.Generator) -> int:
    """Draw a 63-bit seed from ``rng`` for a compiled loop or a torch generator."""
    return int(rng.integers(0, 2**63 - 1))


def torch_generator(random_state: Any, device: Any = "cpu"):
    """A local ``torch.Generator`` seeded from ``random_state`` (global seed untouched)."""
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(seed_from(check_random_state(random_state)))
    return g


# -- embeddings frames ------------------------------------------------------------
def embedding_columns(dim: int) -> list[str]:
    """``["emb_0", ..., "emb_{dim-1}"]``."""
    return [f"{EMB_PREFIX}{i}" for i in range(dim)]


def embeddings_frame(vectors: np.ndarray, index: Iterable[Hashable] | pd.Index,
                     *, name: str | None = None) -> pd.DataFrame:
    """Build the embeddings DataFrame: float32 columns ``emb_*``, the given index."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must be 2-D, got shape {vectors.shape}")
    index = index if isinstance(index, pd.Index) else pd.Index(list(index))
    if len(index) != len(vectors):
        raise ValueError(f"index has {len(index)} entries but vectors has {len(vectors)} rows")
    if name is not None:
        index = index.rename(name)
    return pd.DataFrame(vectors, index=index, columns=embedding_columns(vectors.shape[1]),
                        copy=False)


# -- input checks -----------------------------------------------------------------
def check_vectors(
    vectors: Any,
    *,
    dim: int | None = None,
    name: str = "vectors",
    allow_empty: bool = False,
    copy: bool = False,
) -> tuple[np.ndarray, pd.Index | None]:
    """Validate vectors and return ``(float32 C-contiguous array, keys or None)``.

    Accepts an array-like of shape (n, d), a 1-D array (one vector), a torch
    tensor, or a DataFrame (its index becomes the keys; all columns must be
    numeric, and an embeddings frame's ``emb_*`` columns are taken in order).

    Raises ``ValueError`` naming ``name`` for a wrong shape or dimension,
    NaN or infinite values, or non-numeric data.
    """
    keys = None
    if isinstance(vectors, pd.DataFrame):
        keys = vectors.index
        emb = [c for c in vectors.columns if isinstance(c, str) and c.startswith(EMB_PREFIX)]
        frame = vectors[emb] if emb and len(emb) == vectors.shape[1] else vectors
        non_numeric = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        if non_numeric:
            raise ValueError(
                f"{name} DataFrame must have numeric columns only; non-numeric: {non_numeric[:5]}"
            )
        arr = frame.to_numpy(dtype=np.float32)
    else:
        if hasattr(vectors, "detach") and hasattr(vectors, "cpu"):  # torch tensor
            vectors = vectors.detach().cpu().numpy()
        try:
            arr = np.asarray(vectors)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of shape (n, d): {e}") from e
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                       or arr.dtype == bool):
            raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
        if arr.ndim == 1:
            arr = arr[None, :]
        arr = arr.astype(np.float32, copy=copy)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n, d), got shape {arr.shape}")
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty: expected at least one row")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} must have dimension {dim}, got {arr.shape[1]}")
    if arr.size and not np.isfinite(arr).all():
        bad_rows = np.flatnonzero(~np.isfinite(arr).all(axis=1))
        where = list(keys[bad_rows[:5]]) if keys is not None else bad_rows[:5].tolist()
        raise ValueError(
            f"{name} contains NaN or infinite values in {len(bad_rows)} row(s), "
            f"first {'keys' if keys is not None else 'rows'}: {where}"
        )
    return np.ascontiguousarray(arr), keys


def check_keys(keys: Any, *, n: int | None = None, name: str = "keys",
               unique: bool = True) -> pd.Index:
    """Validate keys (any hashables) and return them as a ``pandas.Index``.

    Raises ``TypeError`` for an unhashable key, ``ValueError`` for a length
    that differs from ``n`` or (with ``unique``) a repeated key, naming it.
    """
    if isinstance(keys, pd.Index):
        index = keys
    else:
        if isinstance(keys, (str, bytes)) or not isinstance(keys, Iterable):
            keys = [keys]
        keys = list(keys)
        for k in keys:
            if not isinstance(k, Hashable):
                raise TypeError(f"{name} must be hashable, got {type(k).__name__}: {k!r}")
        index = pd.Index(keys, tupleize_cols=False)
    if n is not None and len(index) != n:
        raise ValueError(f"{name} has {len(index)} entries but there are {n} vectors")
    if unique and not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} must be unique; repeated: {dup}")
    return index
