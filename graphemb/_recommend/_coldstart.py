"""Cold-start items: a ridge map from item features to the learned item space.

Items with interactions (warm) have learned vectors ``Y``; items may also
have numeric features ``X`` (for example tabemb record embeddings of their
attributes). The map is a ridge regression fitted on the warm items, centred
on both sides: ``y = (x - x_mean) W + y_mean`` with ``W = (Xc^T Xc + l2 I)^-1
Xc^T Yc``. Items with features but no interactions get the mapped vector and
become recommendable at once.

Shapes
------
``X`` ``(n_items, n_features)``, ``Y`` ``(n_items, dim)``, ``W``
``(n_features, dim)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nnstore import check_keys, check_vectors

__all__ = ["apply_feature_map", "check_features", "fit_feature_map"]


def check_features(features: Any, name: str, feature_names: list[str] | None) -> tuple[np.ndarray, pd.Index]:
    """Validate a features frame: (float64 matrix, item keys).

    Parameters
    ----------
    features : DataFrame indexed by item id
        Numeric columns only.
    name : str
        The argument's name, for error messages.
    feature_names : list of str or None
        Columns seen when the map was fitted (then selected in that order).

    Raises
    ------
    TypeError
        ``features`` is not a DataFrame.
    KeyError
        A column seen in fit is missing.
    ValueError
        A non-numeric column, a non-finite value or a bad index.
    """
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"{name} must be a DataFrame indexed by item id, got {type(features).__name__}")
    if feature_names is not None:
        missing = [c for c in feature_names if c not in features.columns]
        if missing:
            raise KeyError(f"{name} lacks feature column(s) {missing[:5]} seen in fit")
        features = features[feature_names]
    non_num = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_num:
        raise ValueError(f"{name} must be numeric (embed attributes first, e.g. with "
                         f"tabemb.TableEncoder); non-numeric columns: {non_num[:5]}")
    X, keys = check_vectors(features, name=name)
    check_keys(keys, name=f"{name} index")
    return X.astype(np.float64), keys


def fit_feature_map(X: np.ndarray, Y: np.ndarray, l2: float
                    ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], float]:
    """Fit the centred ridge map ``X -> Y``; returns ``((W, x_mean, y_mean), R^2 on the fit rows)``.

    ``l2 = 0`` gives least squares (minimum-norm when ``X`` is rank deficient).
    """
    xm, ym = X.mean(0), Y.mean(0)
    Xc, Yc = X - xm, Y - ym
    if l2 > 0:
        W = np.linalg.solve(Xc.T @ Xc + l2 * np.eye(X.shape[1]), Xc.T @ Yc)
    else:
        W = np.linalg.lstsq(Xc, Yc, rcond=None)[0]
    resid = Yc - Xc @ W
    r2 = float(1.0 - (resid ** 2).sum() / max((Yc ** 2).sum(), 1e-12))
    return (W, xm, ym), r2


def apply_feature_map(feature_map: tuple[np.ndarray, np.ndarray, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Item vectors (float32) of feature rows ``X`` under a fitted map."""
    W, xm, ym = feature_map
    return ((X - xm) @ W + ym).astype(np.float32)
