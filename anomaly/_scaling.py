"""Per-feature input scaling learnt at fit (the distance detectors' ``scaler``)."""

from __future__ import annotations

import numpy as np

__all__ = ["SCALERS", "fit_scaler"]

#: The accepted ``scaler`` values.
SCALERS = ("standard", "robust", None)


def fit_scaler(X: np.ndarray, scaler: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Learn a per-feature ``(center, scale)``; ``X_scaled = (X - center) / scale``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The training rows.
    scaler : {"standard", "robust"} or None
        ``"standard"``: mean and standard deviation. ``"robust"``: median and
        inter-quartile range (falling back to the standard deviation, then 1,
        for a feature whose IQR is 0). ``None``: no scaling (center 0, scale 1).

    Returns
    -------
    center, scale : ndarray of shape (n_features,), float32
        A constant feature gets scale 1.

    Raises
    ------
    ValueError
        An unknown ``scaler``.

    Examples
    --------
    >>> import numpy as np
    >>> from anomaly import fit_scaler
    >>> center, scale = fit_scaler(np.array([[0.0, 5.0], [2.0, 5.0], [4.0, 5.0]]), "standard")
    >>> center.tolist(), [round(float(s), 3) for s in scale]
    ([2.0, 5.0], [1.633, 1.0])
    """
    d = X.shape[1]
    if scaler is None:
        return np.zeros(d, np.float32), np.ones(d, np.float32)
    X64 = X.astype(np.float64)
    std = X64.std(axis=0)
    if scaler == "standard":
        center, scale = X64.mean(axis=0), std
    elif scaler == "robust":
        q25, center, q75 = np.percentile(X64, [25, 50, 75], axis=0)
        scale = q75 - q25
        scale = np.where(scale > 0, scale, std)
    else:
        raise ValueError(f"scaler must be one of {SCALERS}, got {scaler!r}")
    scale = np.where(scale > 0, scale, 1.0)
    return center.astype(np.float32), scale.astype(np.float32)
