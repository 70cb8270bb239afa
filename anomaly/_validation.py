"""Input checks shared by the detectors: what ``fit`` and the scoring methods accept.

Every refusal is a ``ValueError`` (a ``TypeError`` for values numpy itself
cannot turn into numbers) that names the argument, says what was expected and
what arrived; nothing is silently reshaped, cast or dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nnstore import check_vectors

__all__ = ["check_input", "check_n_neighbors"]


def _is_sparse(X: Any) -> bool:
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def _numeric_object_array(raw: np.ndarray, name: str) -> np.ndarray:
    """An object array whose elements are all numbers, as float64 (strings refused)."""
    flat = raw.ravel()
    for pos, v in enumerate(flat):
        if isinstance(v, (str, bytes)):
            where = np.unravel_index(pos, raw.shape)
            raise ValueError(f"{name} must be numeric, got the string {v!r} at position "
                             f"{tuple(int(i) for i in where)}")
    try:
        return raw.astype(np.float64)
    except TypeError as e:  # e.g. a dict: "float() argument must be a string or a real number"
        raise TypeError(f"{name} must be numeric: {e}") from e


def check_input(X: Any, *, name: str = "X", estimator: Any = None, n_features: int | None = None,
                feature_names: np.ndarray | None = None) -> tuple[np.ndarray, pd.Index | None]:
    """Validate a 2-D numeric input and return ``(float32 C-contiguous array, index or None)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or DataFrame
        A DataFrame's index is returned (it becomes the row keys / the output
        index); with ``feature_names`` its columns are selected by name (order
        and extra columns do not matter), else all columns are used (an
        embeddings frame's ``emb_*`` columns in order).
    name : str, default "X"
        The argument's name in messages.
    estimator : estimator, optional
        Named in the feature-count message.
    n_features : int, optional
        The number of features the estimator was fitted with.
    feature_names : ndarray of str, optional
        The columns the estimator was fitted with.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32
    index : pandas.Index or None
        The DataFrame's index, None for other inputs.

    Raises
    ------
    ValueError
        A sparse matrix, complex numbers, strings, a 1-D or 3-D array, no rows,
        no columns, NaN or infinite values, finite values beyond float32, a
        missing column or a wrong number of features.
    TypeError
        Elements numpy cannot turn into numbers (dicts, lists, ...).
    """
    if _is_sparse(X):
        raise ValueError(f"{name} is a scipy sparse matrix; the detectors need dense input (sparse "
                         f"data is not supported): pass {name}.toarray()")
    if isinstance(X, pd.Series):
        raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features), got a Series of "
                         f"length {len(X)}; Reshape your data: pass a one-row DataFrame "
                         f"({name}.to_frame().T) for one sample")
    if isinstance(X, pd.DataFrame):
        if feature_names is not None:
            missing = [c for c in feature_names if c not in X.columns]
            if missing:
                raise ValueError(f"{name} lacks column(s) {list(missing)[:10]} the detector was "
                                 f"fitted with; it has {list(X.columns)[:20]}")
            X = X[list(feature_names)]
        cplx = [c for c in X.columns if pd.api.types.is_complex_dtype(X[c])]
        if cplx:
            raise ValueError(f"Complex data not supported: {name} has complex column(s) {cplx[:5]}; "
                             "pass real numbers")
        if X.shape[1] == 0:
            raise ValueError(f"{name} has 0 feature(s) (shape={X.shape}) while a minimum of 1 is "
                             "required.")
        arr, keys = check_vectors(X, name=name, allow_empty=True)
    else:
        if hasattr(X, "detach") and hasattr(X, "cpu"):  # torch tensor
            X = X.detach().cpu().numpy()
        try:
            raw = np.asarray(X)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a numeric array of shape (n_samples, n_features): "
                             f"{e}") from e
        if np.iscomplexobj(raw):
            raise ValueError(f"Complex data not supported: {name} has dtype {raw.dtype}; pass "
                             "real numbers")
        if raw.dtype == object:
            raw = _numeric_object_array(raw, name)
        elif not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise ValueError(f"{name} must be numeric, got dtype {raw.dtype}")
        if raw.ndim != 2:
            hint = (f"; Reshape your data: {name}.reshape(1, -1) for one sample, "
                    f"{name}.reshape(-1, 1) for one feature") if raw.ndim == 1 else ""
            raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features), got "
                             f"{raw.ndim}-D shape {raw.shape}{hint}")
        if raw.shape[1] == 0:
            raise ValueError(f"{name} has 0 feature(s) (shape={raw.shape}) while a minimum of 1 is "
                             "required.")
        arr, keys = check_vectors(raw, name=name, allow_empty=True)
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={arr.shape}) while a minimum of 1 is "
                         "required.")
    if n_features is not None and arr.shape[1] != n_features:
        # the class name alone (scikit-learn's wording, which tools match on)
        who = type(estimator).__name__ if estimator is not None else "the detector"
        raise ValueError(f"{name} has {arr.shape[1]} features, but {who} is expecting {n_features} "
                         "features as input (n_features_in_)")
    return arr, keys


def check_n_neighbors(n_neighbors: int, n_samples: int) -> int:
    """``n_neighbors`` as an int after checking that ``n_samples`` training rows leave room for it.

    Raises
    ------
    ValueError
        Fewer than 2 training rows, or ``n_neighbors >= n_samples`` (a training
        point's neighbours exclude itself).
    """
    k = int(n_neighbors)
    if n_samples < 2:
        raise ValueError(f"X has {n_samples} sample (n_samples={n_samples}); a distance detector "
                         "needs at least 2 training rows")
    if k >= n_samples:
        raise ValueError(f"n_neighbors (k={k}) must be smaller than the number of training samples "
                         f"(n_samples={n_samples})")
    return k
