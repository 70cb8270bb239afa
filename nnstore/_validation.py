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
    "FLOAT32_MAX",
    "check_keys",
    "check_random_state",
    "check_storable_keys",
    "check_vectors",
    "embedding_columns",
    "embeddings_frame",
    "key_index",
    "seed_from",
    "torch_generator",
]

EMB_PREFIX = "emb_"
#: the largest finite float32; every stored vector is float32
FLOAT32_MAX = float(np.finfo(np.float32).max)


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
    NaN or infinite values, finite values beyond the float32 range (they
    would become infinite once stored as float32), or non-numeric data;
    ``TypeError`` for complex numbers (their imaginary part would be lost).
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
        cplx = [c for c in frame.columns if pd.api.types.is_complex_dtype(frame[c])]
        if cplx:
            raise TypeError(f"{name} DataFrame must hold real numbers; complex columns: {cplx[:5]}")
        raw = frame.to_numpy()
        if raw.dtype == object:  # nullable columns holding NA
            if frame.isna().to_numpy().any():
                raise ValueError(f"{name} contains missing values (NA) in columns "
                                 f"{[c for c in frame.columns if frame[c].isna().any()][:5]}")
            raw = frame.to_numpy(dtype=np.float64)
    else:
        if hasattr(vectors, "detach") and hasattr(vectors, "cpu"):  # torch tensor
            vectors = vectors.detach().cpu().numpy()
        try:
            raw = np.asarray(vectors)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of shape (n, d): {e}") from e
        if np.iscomplexobj(raw):
            raise TypeError(f"{name} must hold real numbers, got complex dtype {raw.dtype}")
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise ValueError(f"{name} must be numeric, got dtype {raw.dtype}")
        if raw.ndim == 1:
            raw = raw[None, :]
    if raw.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n, d), got shape {raw.shape}")
    if raw.dtype != np.float32 and raw.size and raw.dtype.kind == "f" and raw.dtype.itemsize > 4:
        _check_float32_range(raw, name, keys)
    arr = raw.astype(np.float32, copy=copy)
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


def _check_float32_range(raw: np.ndarray, name: str, keys: pd.Index | None) -> None:
    """Refuse finite values that float32 cannot hold (they would turn into inf)."""
    with np.errstate(invalid="ignore"):
        big = np.abs(raw) > FLOAT32_MAX  # NaN and inf compare False / True: inf is reported later
    big &= np.isfinite(raw)
    if big.any():
        rows = np.flatnonzero(big.any(axis=1))
        where = list(keys[rows[:5]]) if keys is not None else rows[:5].tolist()
        largest = float(np.max(np.abs(raw[big])))
        raise ValueError(
            f"{name} has finite values that exceed the float32 range (|x| <= {FLOAT32_MAX:.4g}) in "
            f"{len(rows)} row(s), largest |x| = {largest:.4g}, first "
            f"{'keys' if keys is not None else 'rows'}: {where}; vectors are stored as float32"
        )


def key_index(keys: Any) -> pd.Index:
    """``keys`` as a ``pandas.Index`` whose elements keep their Python types.

    ``pd.Index([1, 2.5])`` would turn the int 1 into the float 1.0; here such a
    mix stays an object index, and so does ``["a", None]`` (pandas would make
    the None a NaN). Tuples stay elements (never a MultiIndex).
    """
    if isinstance(keys, pd.Index):
        return keys
    index = pd.Index(keys, tupleize_cols=False)
    if len(index) and not isinstance(keys, np.ndarray) and (
            index.dtype.kind == "f" or isinstance(index.dtype, pd.StringDtype)):
        # pandas would make 1 -> 1.0 (floats) or None -> NaN (strings): keep the elements as given
        want = "floating" if index.dtype.kind == "f" else "string"
        if pd.api.types.infer_dtype(keys, skipna=False) != want:
            index = pd.Index(keys, dtype=object, tupleize_cols=False)
    return index


def check_keys(keys: Any, *, n: int | None = None, name: str = "keys",
               unique: bool = True) -> pd.Index:
    """Validate keys (any hashables) and return them as a ``pandas.Index``.

    The elements keep their types (``[1, 2.5]`` stays an int and a float).
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
        index = key_index(keys)
    if n is not None and len(index) != n:
        raise ValueError(f"{name} has {len(index)} entries but there are {n} vectors")
    if unique and not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"{name} must be unique; repeated: {dup}")
    return index


# -- storable keys --------------------------------------------------------------------
_STORABLE_HINT = ("keys must be str, int, finite float, or tuples of these (what an artifact "
                  "stores and gives back with its type)")


def _key_problem(k: Any) -> str | None:
    """Why ``k`` cannot be stored (a phrase), or None when it can."""
    if isinstance(k, (bool, np.bool_)):
        return "is a bool (it would collide with the int keys 0 and 1)"
    if isinstance(k, (str, int, np.integer)):
        return None
    if isinstance(k, (float, np.floating)):
        return None if np.isfinite(k) else "is a NaN or infinite float"
    if isinstance(k, tuple):
        for x in k:
            why = _key_problem(x)
            if why is not None:
                return f"is a tuple whose element {x!r} {why}"
        return None
    if k is None:
        return "is None"
    return f"is of type {type(k).__module__}.{type(k).__qualname__}"


def check_storable_keys(keys: Any, *, name: str = "keys") -> pd.Index:
    """Validate that ``keys`` can be saved in an artifact; return them as a ``pandas.Index``.

    Estimators call this at the start of ``fit`` on the ids they will key their
    output by (node ids, record keys, entity names), so an id the artifact
    format cannot store is refused before any training, not at ``save``.
    Storable: ``str``, ``int`` (numpy ints too), finite ``float`` and tuples
    of these (nested tuples too); every one round-trips with its type through
    :meth:`nnstore.ArtifactWriter.save_keys` / ``save_frame``.

    Parameters
    ----------
    keys : iterable of hashables or pandas.Index
    name : str, default "keys"
        The argument name used in error messages.

    Returns
    -------
    pandas.Index
        The keys, their types kept (``[1, 2.5]`` stays int and float; tuples
        stay elements).

    Raises
    ------
    TypeError
        For ``None``, NaN or infinite floats, bools, and any other type
        (bytes, objects, frozensets, timestamps, ...), naming the first bad
        key, its type and how many there are.

    Examples
    --------
    >>> list(check_storable_keys(["a", 1, ("b", 2)]))
    ['a', 1, ('b', 2)]
    >>> check_storable_keys(["a", None])
    Traceback (most recent call last):
    ...
    TypeError: keys cannot be stored: 1 key(s) are not storable, first: None, which is None; ...
    """
    if isinstance(keys, pd.MultiIndex):
        index = pd.Index(keys.tolist(), tupleize_cols=False)
    else:
        index = check_keys(keys, name=name, unique=False)
    kind = index.dtype.kind
    if kind in "iu" and not isinstance(index.dtype, pd.CategoricalDtype):
        return index
    if kind == "f" and not isinstance(index.dtype, pd.CategoricalDtype):
        vals = index.to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isfinite(vals).all():
            return index
        first = index[~np.isfinite(vals)][0]
        raise TypeError(f"{name} cannot be stored: {int((~np.isfinite(vals)).sum())} key(s) are not "
                        f"storable, first: {first!r}, which is a NaN or infinite float; {_STORABLE_HINT}")
    values = list(index) if index.dtype == object else index.tolist()
    types = set(map(type, values))
    if not (types <= {str} or types <= {int}):
        problems = [(k, why) for k in values if (why := _key_problem(k)) is not None]
        if problems:
            k, why = problems[0]
            raise TypeError(f"{name} cannot be stored: {len(problems)} key(s) are not storable, "
                            f"first: {k!r}, which {why}; {_STORABLE_HINT}")
    return index if index.dtype == object else key_index(values)
